package bot_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
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
	f, src := loadExample(&testing.T{}, examples.Retail)
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{
		Store: memstore.New(), Clock: func() time.Time { return t0 }, Logger: zerolog.Nop(),
	}, []bot.BusinessConfig{{ID: "acme", Flow: f, Source: src}})
	if err != nil {
		b.Fatal(err)
	}
	BenchInbound(b, svc)
}

// BenchInbound drives a customer into the "subscribed" state, then measures
// one inbound message per iteration. Other store benchmarks reuse it.
func BenchInbound(b *testing.B, svc *bot.Service) {
	ctx := context.Background()
	send := func(id, text, button string) {
		if _, err := svc.HandleInbound(ctx, bot.Inbound{ID: id, Customer: alice, Timestamp: t0, Text: text, ButtonID: button}); err != nil {
			b.Fatal(err)
		}
	}
	send("warm-1", "hi", "")
	send("warm-2", "", "optin_yes")
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "wamid.bench." + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		send(ids[i], "Where is my parcel?", "")
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
