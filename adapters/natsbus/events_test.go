package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
)

// TestEventConsumer: provider events reach the handler in stream order,
// one at a time; a failed one comes again, a bad one is terminated, and
// the rest of <P>_OUT is not read.
func TestEventConsumer(t *testing.T) {
	b := embedded(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	var got []string
	failed := false
	handle := func(_ context.Context, e envelope.ProviderEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, e.ID)
		switch {
		case e.ID == "q2" && !failed:
			failed = true
			return errors.New("store down")
		case e.ID == "bad":
			return fmt.Errorf("unknown number: %w", bot.ErrBadInput)
		}
		return nil
	}
	durable := EventDurableName(b.prefix, "test")
	c, err := NewEventConsumer(ctx, b.js, handle, EventConsumerConfig{Prefix: b.prefix, Durable: durable,
		BackoffMin: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 9, 33, 20, 0, time.UTC)
	for _, id := range []string{"q1", "q2", "bad", "q3"} {
		if _, err := b.pub.Event(ctx, envelope.ProviderEvent{ID: id, Provider: "meta", Sender: "15550101234",
			Event: envelope.EventQualityUpdate, Timestamp: at, Detail: map[string]string{"event": "FLAGGED"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Not an event: never handed over.
	if _, err := b.pub.DeadLetter(ctx, envelope.DeadLetter{ID: "d1", Provider: "meta", Reason: "x", ReceivedAt: at}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	natstest.Eventually(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 5
	}, "five deliveries")
	stop()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	mu.Lock()
	if want := "[q1 q2 q2 bad q3]"; fmt.Sprint(got) != want {
		t.Errorf("handled %v, want %s", got, want)
	}
	mu.Unlock()
	cons, err := b.js.Consumer(ctx, b.streams.Out, durable)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.NumPending != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer: %d pending, %d awaiting ack", info.NumPending, info.NumAckPending)
	}
	if _, err := NewEventConsumer(ctx, b.js, handle, EventConsumerConfig{Prefix: b.prefix}); err == nil {
		t.Error("NewEventConsumer without a durable name")
	}
}
