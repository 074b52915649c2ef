package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
)

// BenchmarkDemoReply is the demo's reply latency: from the customer's
// message published on the embedded NATS server to the engine's reply read
// back from the OUT stream, through the durable consumer, SQLite, the
// outbox and the relay. Each iteration is one mid-conversation message.
func BenchmarkDemoReply(b *testing.B) {
	ctx := context.Background()
	d, err := startDemo(ctx, filepath.Join(b.TempDir(), "bench.db"), zerolog.Nop())
	if err != nil {
		b.Fatal(err)
	}
	defer d.close()
	tr := d.transportFor(bot.CustomerID("+14155550100"))
	for _, warm := range []string{"hi", "yes"} {
		if _, err := tr.Say(ctx, warm, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		events, err := tr.Say(ctx, "where is my parcel?", nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(events) != 1 || events[0].outbound == nil {
			b.Fatalf("events = %+v, want one reply", events)
		}
	}
}
