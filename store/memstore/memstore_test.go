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

// A store without an outbox keeps the conversation and the ledger of a
// turn but queues none of its effects.
func TestWithoutOutbox(t *testing.T) {
	s := memstore.New(memstore.WithoutOutbox())
	turn := bot.Turn{
		Business: "acme", Customer: "+14155550100", DedupID: "wamid.1",
		Conversation: bot.Conversation{State: "asked"},
		Effects:      []bot.Effect{{ID: "e1", Business: "acme", Customer: "+14155550100"}},
	}
	if err := s.Commit(t.Context(), turn); err != nil {
		t.Fatal(err)
	}
	pending, err := s.PendingEffects(t.Context(), 10)
	if err != nil || len(pending) != 0 {
		t.Fatalf("PendingEffects = %v, %v; want none", pending, err)
	}
	sess, err := s.LoadSession(t.Context(), "acme", "+14155550100", turn.At)
	if err != nil || sess.Conversation.State != "asked" {
		t.Fatalf("LoadSession = %+v, %v; want the committed conversation", sess.Conversation, err)
	}
	if err := s.Commit(t.Context(), turn); err == nil {
		t.Fatal("a second commit of the same message was accepted; want ErrDuplicate")
	}
}

func TestEraseContract(t *testing.T) {
	storetest.RunErase(t, func(t *testing.T) (storetest.EraseStore, storetest.Dump) {
		s := memstore.New()
		return s, func(*testing.T) string { return s.Dump() }
	})
}
