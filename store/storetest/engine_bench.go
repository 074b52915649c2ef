package storetest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

// BenchEngineTurn measures one inbound message through the engine on a
// store: redelivery check, session load (conversation, consent, recent
// templates), keyword check, FSM step, guard, and the commit of state,
// processed id and outbox. The customer is first brought into the retail
// flow's "subscribed" state, so each message is an ordinary mid-conversation
// turn with one reply.
func BenchEngineTurn(b *testing.B, s bot.Store) {
	ctx := context.Background()
	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		b.Fatal(err)
	}
	flow, err := flows.Load(examples.Retail, src)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	svc, err := bot.NewService(ctx, bot.ServiceConfig{Store: s, Clock: func() time.Time { return now }, Logger: zerolog.Nop()},
		[]bot.BusinessConfig{{ID: "acme", Flow: flow, Source: src}})
	if err != nil {
		b.Fatal(err)
	}
	const customer bot.CustomerID = "+14155550100"
	send := func(id, text, button string) {
		effects, err := svc.HandleInbound(ctx, bot.Inbound{ID: id, Customer: customer, Timestamp: now, Text: text, ButtonID: button})
		if err != nil {
			b.Fatal(err)
		}
		if len(effects) == 0 {
			b.Fatalf("message %s had no effect", id)
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
