package natsbus

import (
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
)

// The engine and the in-memory store plug in as they are.
var (
	_ Engine = (*bot.Service)(nil)
	_ Outbox = (*memstore.Store)(nil)
)
