package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
)

// commitTurns commits n turns of a few customers to the store, each with a
// reply, every third with a consent change and a refusal too, and every
// third but one with a delivery update and a notice; it
// returns the msg ids the OUT stream must end up holding once each, by
// subject.
func commitTurns(t *testing.T, store *memstore.Store, n int) (msgIDs map[string]string) {
	t.Helper()
	msgIDs = map[string]string{}
	customers := []bot.CustomerID{"+14155550100", "+14155550101", "US.1234"}
	for i := range n {
		c := customers[i%len(customers)]
		in := fmt.Sprintf("wamid.%d", i)
		effects := []bot.Effect{{
			ID: fmt.Sprintf("acme/%s/0", in), Kind: bot.EffectMessage, Business: "acme", Customer: c, Sender: sender,
			InReplyTo: in, Message: &bot.Message{Kind: bot.KindText, Text: "reply"},
		}}
		if i%3 == 0 {
			effects = append(effects,
				bot.Effect{ID: fmt.Sprintf("acme/%s/1", in), Kind: bot.EffectConsent, Business: "acme", Customer: c,
					Consent: &bot.ConsentEvent{ID: fmt.Sprintf("acme/%s/1", in), Customer: c, Business: "acme", Channel: bot.Channel,
						Topic: "order_updates", Status: bot.OptedIn, Source: bot.SourceInChannel, At: time.Now()}},
				bot.Effect{ID: fmt.Sprintf("acme/send:r%d/0", i), Kind: bot.EffectMessage, Business: "acme", Customer: c, Sender: sender,
					RequestID: fmt.Sprintf("r%d", i), Message: &bot.Message{Kind: bot.KindTemplate, Template: "order_shipped"}},
				bot.Effect{ID: fmt.Sprintf("acme/send:q%d/0", i), Kind: bot.EffectRefused, Business: "acme", Customer: c,
					RequestID: fmt.Sprintf("q%d", i), Refusal: &bot.Refusal{Kind: bot.KindTemplate, Reason: bot.ReasonNoConsent, Template: "spring_sale"}},
			)
		}
		if i%3 == 1 {
			effects = append(effects,
				bot.Effect{ID: fmt.Sprintf("acme/%s/1", in), Kind: bot.EffectDelivery, Business: "acme", Customer: c, Sender: sender,
					Delivery: &bot.Delivery{MessageID: "wamid.out" + in, OutboundID: fmt.Sprintf("acme/%s/0", in), Status: bot.StatusRead, At: time.Now()}},
				bot.Effect{ID: fmt.Sprintf("acme/%s/2", in), Kind: bot.EffectNotice, Business: "acme", Customer: c, Sender: sender,
					Notice: &bot.Notice{Kind: bot.NoticeWindowClosed, At: time.Now()}},
			)
		}
		for _, e := range effects {
			pubs, err := envelope.FromEffect(e)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range pubs {
				msgIDs[p.MsgID] = string(p.Kind)
			}
		}
		if err := store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: c, DedupID: in, Effects: effects, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return msgIDs
}

// assertExactlyOnce checks the OUT stream holds each expected msg id once
// and nothing else, on the right subjects.
func assertExactlyOnce(t *testing.T, b *bus, want map[string]string) {
	t.Helper()
	msgs := messagesOf(t, b, b.streams.Out)
	counts := map[string]int{}
	for _, m := range msgs {
		counts[m.MsgID]++
		kind, _, ok := b.streams.Subjects.Parse(m.Subject)
		if !ok || string(kind) != want[m.MsgID] {
			t.Errorf("message %s on subject %s, want kind %q", m.MsgID, m.Subject, want[m.MsgID])
		}
		if _, err := envelope.Decode(m.Data); err != nil {
			t.Errorf("message %s does not decode: %v", m.MsgID, err)
		}
	}
	for id := range want {
		if counts[id] != 1 {
			t.Errorf("msg id %s stored %d times, want 1", id, counts[id])
		}
	}
	if len(msgs) != len(want) {
		t.Errorf("OUT stream holds %d messages, want %d", len(msgs), len(want))
	}
	bySubject := natstest.CountBySubject(t, b.js, b.streams.Out)
	wantBySubject := map[string]int{}
	for _, kind := range want {
		key := sender
		if kind != string(envelope.SubjectOutbound) {
			key = "acme"
		}
		wantBySubject[b.streams.Subjects.For(envelope.SubjectKind(kind), key)]++
	}
	for subj, n := range wantBySubject {
		if bySubject[subj] != n {
			t.Errorf("subject %s: %d messages, want %d (all: %v)", subj, bySubject[subj], n, bySubject)
		}
	}
}

func pending(t *testing.T, store *memstore.Store) int {
	t.Helper()
	effs, err := store.PendingEffects(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	return len(effs)
}

func newRelay(t *testing.T, b *bus, store Outbox, cfg RelayConfig) *Relay {
	t.Helper()
	cfg.Prefix = b.prefix
	r, err := NewRelay(b.js, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runRelay runs r until the test ends.
func runRelay(t *testing.T, r *Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Relay.Run: %v", err)
		}
	})
}

// TestRelayPublishesEachEffectOnce: Run publishes what is committed, on
// Notify, and repeated rounds publish nothing twice.
func TestRelayPublishesEachEffectOnce(t *testing.T) {
	b := embedded(t)
	store := memstore.New()
	r := newRelay(t, b, store, RelayConfig{PollInterval: time.Hour, BatchSize: 7})
	runRelay(t, r)

	want := commitTurns(t, store, 30)
	r.Notify()
	natstest.Eventually(t, 10*time.Second, func() bool { return pending(t, store) == 0 }, "outbox not drained")
	for range 3 {
		if err := r.Flush(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	assertExactlyOnce(t, b, want)
}

// TestRelayEndToEnd: an inbound message through the Consumer and a fake
// engine comes out as a reply on the OUT stream.
func TestRelayEndToEnd(t *testing.T) {
	b := embedded(t)
	endToEnd(t, b)
}

func endToEnd(t *testing.T, b *bus) {
	store := memstore.New()
	r := newRelay(t, b, store, RelayConfig{PollInterval: time.Hour})
	engine := newFakeEngine(store)
	engine.notify = r.Notify
	runRelay(t, r)
	startConsumer(t, b, engine, ConsumerConfig{})

	mustPublishInbound(t, b, inbound("wamid.e2e", "+14155550100", "Yes please"))
	mustPublishInbound(t, b, inbound("wamid.e2e", "+14155550100", "Yes please")) // the provider retried
	if _, err := b.pub.SendRequest(testCtx(t), envelope.SendRequest{ID: "req-1", Business: "acme", To: "US.1234", Kind: bot.KindTemplate, Template: "spring_sale"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"acme/wamid.e2e/0":  string(envelope.SubjectOutbound),
		"acme/send:req-1/0": string(envelope.SubjectDecision),
	}
	natstest.Eventually(t, 10*time.Second, func() bool { return len(messagesOf(t, b, b.streams.Out)) == len(want) }, "replies not published")
	assertExactlyOnce(t, b, want)
	out := messagesOf(t, b, b.streams.Out)
	for _, m := range out {
		switch v, _ := envelope.Decode(m.Data); v := v.(type) {
		case envelope.OutboundMessage:
			if v.InReplyTo != "wamid.e2e" || v.To != "+14155550100" || v.Text != "you said Yes please" || v.Sender != sender {
				t.Errorf("reply %+v", v)
			}
		case envelope.SendDecision:
			if v.Allowed || v.Reason != bot.ReasonOptedOut || v.RequestID != "req-1" {
				t.Errorf("decision %+v", v)
			}
		default:
			t.Errorf("unexpected %T", v)
		}
	}
	natstest.Eventually(t, 5*time.Second, settled(t, b), "inputs not acknowledged")
}

// TestCrashBeforePublish: turns are committed, then the process dies before
// any relay ran. A new Relay on the same store publishes every effect
// exactly once.
func TestCrashBeforePublish(t *testing.T) {
	crashBeforePublish(t, embedded(t))
}

func crashBeforePublish(t *testing.T, b *bus) {
	store := memstore.New()
	want := commitTurns(t, store, 12)
	if n := len(messagesOf(t, b, b.streams.Out)); n != 0 {
		t.Fatalf("OUT stream has %d messages before any relay", n)
	}
	// After the restart: the poll publishes what the crash left.
	r := newRelay(t, b, store, RelayConfig{PollInterval: 20 * time.Millisecond, BatchSize: 5})
	runRelay(t, r)
	natstest.Eventually(t, 10*time.Second, func() bool { return pending(t, store) == 0 }, "effects left by the crash not published")
	assertExactlyOnce(t, b, want)
}

// TestCrashAfterPublishBeforeMark: the relay publishes but dies before
// marking the effects published. A new Relay republishes them all, and the
// stream's deduplication keeps one copy per msg id.
func TestCrashAfterPublishBeforeMark(t *testing.T) {
	crashAfterPublish(t, embedded(t))
}

func crashAfterPublish(t *testing.T, b *bus) {
	store := memstore.New()
	want := commitTurns(t, store, 12)
	before := pending(t, store)
	var crashes atomic.Int32
	crashing := newRelay(t, b, store, RelayConfig{BatchSize: 1000, FailAfterPublish: func(bot.Effect) error {
		crashes.Add(1)
		return errors.New("simulated crash")
	}})
	if err := crashing.Flush(testCtx(t)); err == nil {
		t.Fatal("Flush with a crash hook returned nil")
	}
	// Crash after the first effect: it is published but still pending.
	if crashes.Load() != 1 || pending(t, store) != before {
		t.Fatalf("after the crash: %d crashes, %d pending, want 1, %d", crashes.Load(), pending(t, store), before)
	}
	// A relay that crashes after every effect, round after round, publishes
	// everything without marking anything.
	crashingLate := newRelay(t, b, store, RelayConfig{BatchSize: 1000, FailAfterPublish: func(e bot.Effect) error {
		if pending, _ := store.PendingEffects(context.Background(), 1000); e.ID == pending[len(pending)-1].ID {
			return errors.New("simulated crash after the last publish")
		}
		return nil
	}})
	if err := crashingLate.Flush(testCtx(t)); err == nil {
		t.Fatal("Flush with a crash hook returned nil")
	}
	if pending(t, store) != before {
		t.Fatalf("%d effects pending after the crash, want %d", pending(t, store), before)
	}
	if got := len(messagesOf(t, b, b.streams.Out)); got != len(want) {
		t.Fatalf("OUT holds %d messages after the crashing relay, want %d", got, len(want))
	}
	// After the restart.
	r := newRelay(t, b, store, RelayConfig{BatchSize: 4})
	if err := r.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush after the restart: %v", err)
	}
	if n := pending(t, store); n != 0 {
		t.Errorf("%d effects still pending", n)
	}
	assertExactlyOnce(t, b, want)
}

// TestRelayPublishFailureKeepsEffects: while the OUT stream is missing,
// publishing fails and the effects stay pending; once it exists they are
// published.
func TestRelayPublishFailureKeepsEffects(t *testing.T) {
	b := embedded(t)
	if err := b.js.DeleteStream(testCtx(t), b.streams.Out); err != nil {
		t.Fatal(err)
	}
	store := memstore.New()
	want := commitTurns(t, store, 3)
	before := pending(t, store)
	var logs logBuffer
	r := newRelay(t, b, store, RelayConfig{PublishTimeout: time.Second, Logger: logs.logger()})
	if err := r.Flush(testCtx(t)); err == nil {
		t.Fatal("Flush without an OUT stream returned nil")
	}
	if n := pending(t, store); n != before {
		t.Fatalf("%d pending after the failure, want %d", n, before)
	}
	if _, err := EnsureStreams(testCtx(t), b.js, StreamConfig{Prefix: b.prefix}); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(testCtx(t)); err != nil {
		t.Fatalf("Flush once the stream exists: %v", err)
	}
	assertExactlyOnce(t, b, want)
}

// TestRelayPoisonEffect: an effect that cannot be converted stays pending
// and does not block the others.
func TestRelayPoisonEffect(t *testing.T) {
	b := embedded(t)
	store := memstore.New()
	if err := store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: "+14155550100", DedupID: "x",
		Effects: []bot.Effect{{ID: "acme/x/0", Kind: "teleport", Business: "acme", Customer: "+14155550100"}}}); err != nil {
		t.Fatal(err)
	}
	want := commitTurns(t, store, 4)
	var logs logBuffer
	r := newRelay(t, b, store, RelayConfig{BatchSize: 2, Logger: logs.logger()})
	if err := r.Flush(testCtx(t)); err == nil {
		t.Error("Flush with a poison effect returned nil")
	}
	assertExactlyOnce(t, b, want)
	left, _ := store.PendingEffects(context.Background(), 10)
	if len(left) != 1 || left[0].ID != "acme/x/0" {
		t.Errorf("pending %+v, want the poison effect only", left)
	}
}
