package twilio

import (
	"github.com/optinbot/optinbot/adapters/sender"
	"github.com/optinbot/optinbot/adapters/webhook"
)

// The Adapter is the webhook server's Provider (with the TwiML answer) and
// the sender's Client.
var (
	_ webhook.Provider     = (*Adapter)(nil)
	_ webhook.Acknowledger = (*Adapter)(nil)
	_ sender.Client        = (*Adapter)(nil)
)
