package bot_test

import (
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
	"github.com/optinbot/optinbot/store/storetest"
)

// BenchmarkStep is the engine's pure step for one inbound message of a
// customer mid-conversation: keyword check, FSM transition, guard, effects.
func BenchmarkStep(b *testing.B) {
	f, src := loadExample(&testing.T{}, examples.Retail)
	_ = src
	kw := bot.NewKeywords(f.Language, f.Keywords)
	m, err := bot.Compile(f, kw.Polite())
	if err != nil {
		b.Fatal(err)
	}
	biz := &bot.Business{ID: "acme", Machine: m, Keywords: kw}
	conv := bot.Conversation{FlowName: f.Name, FlowVersion: f.Version, State: "subscribed", LastInboundAt: t0}
	in := bot.Inbound{ID: "wamid.1", Customer: alice, Timestamp: t0, Text: "Where is my parcel?"}
	b.ReportAllocs()
	for b.Loop() {
		s := bot.Session{Business: "acme", Customer: alice, Conversation: conv}
		turn := biz.HandleInbound(m, &s, in, t0)
		if len(turn.Effects) != 1 {
			b.Fatalf("effects = %+v", turn.Effects)
		}
	}
}

// BenchmarkInboundMemory is one inbound message through the Service on the
// in-memory store: redelivery check, session load, step, commit.
func BenchmarkInboundMemory(b *testing.B) {
	storetest.BenchEngineTurn(b, memstore.New())
}
