package dialog360

import (
	"context"
	"net/http"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// The Adapter has the method sets of webhook.Provider and sender.Client
// (declared here to avoid importing those packages).
var (
	_ interface {
		Name() string
		Verify(r *http.Request, body []byte) error
		Parse(body []byte, receivedAt time.Time) (envelope.Batch, error)
	} = (*Adapter)(nil)
	_ interface {
		Name() string
		Send(ctx context.Context, m envelope.OutboundMessage) (providerID string, err error)
	} = (*Adapter)(nil)
)
