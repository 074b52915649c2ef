package natsbus

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
)

func TestNames(t *testing.T) {
	for _, tt := range []struct{ prefix, in, out, durable string }{
		{"", "OPTINBOT_IN", "OPTINBOT_OUT", "optinbot-engine"},
		{"optinbot", "OPTINBOT_IN", "OPTINBOT_OUT", "optinbot-engine"},
		{"staging.optinbot", "STAGING_OPTINBOT_IN", "STAGING_OPTINBOT_OUT", "staging_optinbot-engine"},
		{"t-1é", "T-1__IN", "T-1__OUT", "t-1_-engine"},
	} {
		in, out := StreamNames(tt.prefix)
		if in != tt.in || out != tt.out || DurableName(tt.prefix) != tt.durable {
			t.Errorf("prefix %q: %s %s %s, want %s %s %s", tt.prefix, in, out, DurableName(tt.prefix), tt.in, tt.out, tt.durable)
		}
	}
}

func TestEnsureStreamsIdempotent(t *testing.T) {
	b := embedded(t)
	ctx := testCtx(t)
	check := func(name string, subjects []string, dup time.Duration, retention jetstream.RetentionPolicy) {
		t.Helper()
		s, err := b.js.Stream(ctx, name)
		if err != nil {
			t.Fatalf("stream %s: %v", name, err)
		}
		cfg := s.CachedInfo().Config
		if !slices.Equal(cfg.Subjects, subjects) || cfg.Duplicates != dup || cfg.Retention != retention || cfg.MaxAge != DefaultMaxAge {
			t.Errorf("stream %s: subjects %v dup %v retention %v max age %v", name, cfg.Subjects, cfg.Duplicates, cfg.Retention, cfg.MaxAge)
		}
	}
	p := b.prefix
	inSubjects := []string{p + ".v1.inbound.>", p + ".v1.send.>", p + ".v1.status.>", p + ".v1.signal.>", p + ".v1.grant.>", p + ".v1.release.>"}
	outSubjects := []string{p + ".v1.outbound.>", p + ".v1.consent.>", p + ".v1.decision.>", p + ".v1.event.>", p + ".v1.deadletter.>",
		p + ".v1.delivery.>", p + ".v1.notice.>", p + ".v1.handoff.>", p + ".v1.alert.>"}
	check(b.streams.In, inSubjects, DefaultDuplicates, jetstream.WorkQueuePolicy)
	check(b.streams.Out, outSubjects, DefaultDuplicates, jetstream.LimitsPolicy)

	// Again, unchanged: fine. Then with other windows: updated in place.
	if _, err := EnsureStreams(ctx, b.js, StreamConfig{Prefix: p}); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	mustPublishInbound(t, b, inbound("w1", "+14155550100", "hi"))
	if _, err := EnsureStreams(ctx, b.js, StreamConfig{Prefix: p, InDuplicates: 2 * time.Minute, OutDuplicates: time.Minute}); err != nil {
		t.Fatalf("EnsureStreams with new windows: %v", err)
	}
	check(b.streams.In, inSubjects, 2*time.Minute, jetstream.WorkQueuePolicy)
	check(b.streams.Out, outSubjects, time.Minute, jetstream.LimitsPolicy)
	if n := len(messagesOf(t, b, b.streams.In)); n != 1 {
		t.Errorf("update lost messages: %d left, want 1", n)
	}

	if _, err := EnsureStreams(ctx, b.js, StreamConfig{Prefix: "bad prefix"}); err == nil {
		t.Error("EnsureStreams accepted a prefix with a space")
	}
	if _, err := EnsureStreams(ctx, b.js, StreamConfig{Prefix: p, MaxAge: time.Minute}); err == nil {
		t.Error("EnsureStreams accepted a duplicate window longer than MaxAge")
	}
}

// TestPublisherDeduplicates: the IN stream stores a provider's retried
// webhook once, and keeps the kinds of message ids apart.
func TestPublisherDeduplicates(t *testing.T) { publisherDeduplicates(t, embedded(t)) }

func publisherDeduplicates(t *testing.T, b *bus) {
	ctx := testCtx(t)
	m := inbound("wamid.1", "+14155550100", "hi")
	if ack, err := b.pub.Inbound(ctx, m); err != nil || ack.Duplicate {
		t.Fatalf("first publish: %+v %v", ack, err)
	}
	if ack, err := b.pub.Inbound(ctx, m); err != nil || !ack.Duplicate {
		t.Fatalf("second publish: %+v %v, want a duplicate", ack, err)
	}
	if _, err := b.pub.Inbound(ctx, inbound("", "+14155550100", "hi")); err == nil {
		t.Error("published an inbound message without id")
	}
	msgs := messagesOf(t, b, b.streams.In)
	if len(msgs) != 1 || msgs[0].MsgID != m.MsgID() || msgs[0].Subject != b.prefix+".v1.inbound."+sender {
		t.Errorf("stream holds %+v", msgs)
	}
	// The same message id from another customer is another message.
	other := inbound("wamid.1", "+14155550101", "hi")
	if ack, err := b.pub.Inbound(ctx, other); err != nil || ack.Duplicate {
		t.Fatalf("another customer's message with the same id: %+v %v, want it stored", ack, err)
	}
	if n := len(messagesOf(t, b, b.streams.In)); n != 2 {
		t.Errorf("stream holds %d messages, want 2", n)
	}

	// Once handled, the message leaves the work queue, but its id is
	// still remembered for the duplicate window.
	engine := newFakeEngine(memstore.New())
	startConsumer(t, b, engine, ConsumerConfig{})
	natstest.Eventually(t, 10*time.Second, func() bool { return len(messagesOf(t, b, b.streams.In)) == 0 }, "handled message still in the work queue")
	if ack, err := b.pub.Inbound(ctx, m); err != nil || !ack.Duplicate {
		t.Fatalf("publish after handling: %+v %v, want a duplicate", ack, err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := engine.attemptsOf("inbound", "wamid.1"); n != 2 || len(messagesOf(t, b, b.streams.In)) != 0 {
		t.Errorf("handled %d times, want 2 (once per customer)", n)
	}
}

// TestPublishBatch: a webhook body's items go to their streams and
// subjects with their msg ids, repeats within the batch and within the
// duplicate window are stored once, and an invalid batch publishes nothing.
func TestPublishBatch(t *testing.T) { publishBatch(t, embedded(t)) }

func publishBatch(t *testing.T, b *bus) {
	ctx := testCtx(t)
	at := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	status := envelope.DeliveryStatus{ID: "wamid.9", Provider: "meta", Sender: sender, To: "+14155550100", Status: envelope.StatusRead, Timestamp: at}
	batch := envelope.Batch{
		Inbound:  []envelope.InboundMessage{inbound("wamid.1", "+14155550100", "hi"), inbound("wamid.1", "+14155550100", "hi")},
		Statuses: []envelope.DeliveryStatus{status},
		Signals: []envelope.ConsentSignal{{ID: "up:1", Provider: "meta", Sender: sender, Customer: "+14155550100",
			Signal: envelope.ConsentStopMarketing, Timestamp: at}},
		Events: []envelope.ProviderEvent{{ID: "quality:1", Provider: "meta", Sender: sender, Event: envelope.EventQualityUpdate,
			Timestamp: at, Detail: map[string]string{"event": "FLAGGED"}}},
		DeadLetters: []envelope.DeadLetter{{ID: "meta:bad", Provider: "meta", Reason: "bad timestamp", Item: "{}", ReceivedAt: at}},
	}
	dups, err := b.pub.PublishBatch(ctx, batch)
	if err != nil || dups != 1 {
		t.Fatalf("PublishBatch: %d duplicates, %v; want 1, nil", dups, err)
	}
	s := b.streams.Subjects
	wantIn := map[string]string{batch.Inbound[0].MsgID(): s.Inbound(sender), "status:wamid.9:read": s.Status(sender), "signal:up:1": s.Signal(sender)}
	wantOut := map[string]string{"event:quality:1": s.Event(sender), "dead:meta:bad": s.DeadLetter("meta")}
	check := func(stream string, want map[string]string) {
		t.Helper()
		msgs := messagesOf(t, b, stream)
		if len(msgs) != len(want) {
			t.Errorf("%s holds %d messages, want %d: %+v", stream, len(msgs), len(want), msgs)
		}
		for _, m := range msgs {
			if want[m.MsgID] != m.Subject {
				t.Errorf("%s: msg id %q on %s, want %q", stream, m.MsgID, m.Subject, want[m.MsgID])
			}
			if _, err := envelope.Decode(m.Data); err != nil {
				t.Errorf("%s: %s does not decode: %v", stream, m.MsgID, err)
			}
		}
	}
	check(b.streams.In, wantIn)
	check(b.streams.Out, wantOut)

	// The provider retries the body: everything is a duplicate.
	if dups, err := b.pub.PublishBatch(ctx, batch); err != nil || dups != batch.Len() {
		t.Errorf("again: %d duplicates, %v; want %d", dups, err, batch.Len())
	}
	check(b.streams.In, wantIn)
	check(b.streams.Out, wantOut)

	// An invalid item: nothing of the batch is published.
	bad := envelope.Batch{
		Inbound:  []envelope.InboundMessage{inbound("wamid.2", "+14155550100", "hi")},
		Statuses: []envelope.DeliveryStatus{{ID: "x", Sender: sender, To: "+14155550100", Status: "bounced", Timestamp: at}},
	}
	if _, err := b.pub.PublishBatch(ctx, bad); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("invalid batch: %v, want bot.ErrBadInput", err)
	}
	check(b.streams.In, wantIn)
}
