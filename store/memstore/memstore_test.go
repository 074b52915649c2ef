package memstore_test

import (
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
	"github.com/optinbot/optinbot/store/storetest"
)

var _ bot.Store = (*memstore.Store)(nil)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return memstore.New() })
}

func BenchmarkCommit(b *testing.B) { storetest.BenchCommit(b, memstore.New()) }

func BenchmarkLoadSession(b *testing.B) { storetest.BenchLoadSession(b, memstore.New()) }
