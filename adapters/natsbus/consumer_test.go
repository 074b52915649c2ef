package natsbus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

func messagesOf(t *testing.T, b *bus, stream string) []natstest.Stored {
	return natstest.Messages(t, b.js, stream)
}

// TestConsumerAcksAfterSuccess: the message stays unacknowledged while the
// engine works, and is acknowledged once it returned nil.
func TestConsumerAcksAfterSuccess(t *testing.T) { consumerAcksAfterSuccess(t, embedded(t)) }

func consumerAcksAfterSuccess(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.hold = make(chan struct{})
	startConsumer(t, b, engine, ConsumerConfig{Workers: 2})

	mustPublishInbound(t, b, inbound("wamid.1", "+14155550100", "Yes please"))
	select {
	case c := <-engine.started:
		if c.id != "wamid.1" || c.customer != "+14155550100" || c.text != "Yes please" {
			t.Errorf("engine got %+v", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("engine never called")
	}
	if info := consumerInfo(t, b, ""); info.NumAckPending != 1 {
		t.Errorf("while the engine works: %d pending acks, want 1", info.NumAckPending)
	}
	close(engine.hold)
	natstest.Eventually(t, 10*time.Second, settled(t, b), "message not acknowledged after the engine returned")
	if got := engine.handled(); len(got) != 1 {
		t.Errorf("engine handled %d inputs, want 1", len(got))
	}
	if info := consumerInfo(t, b, ""); info.AckFloor.Stream != 1 {
		t.Errorf("ack floor %d, want 1", info.AckFloor.Stream)
	}
}

// TestConsumerNaksAndRedelivers: a transient engine error naks the message,
// which comes back after the backoff and is acknowledged once handled.
func TestConsumerNaksAndRedelivers(t *testing.T) { consumerNaksAndRedelivers(t, embedded(t)) }

func consumerNaksAndRedelivers(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.fail = func(c call, attempt int) error {
		if attempt <= 2 {
			return errors.New("database is restarting")
		}
		return nil
	}
	var logs logBuffer
	startConsumer(t, b, engine, ConsumerConfig{BackoffMin: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Logger: logs.logger()})

	start := time.Now()
	mustPublishInbound(t, b, inbound("wamid.2", "+14155550100", "hello"))
	natstest.Eventually(t, 10*time.Second, func() bool { return len(engine.handled()) == 1 }, "never handled")
	if elapsed := time.Since(start); elapsed < 60*time.Millisecond {
		t.Errorf("handled after %v: the backoff (20ms, then 40ms) was not applied", elapsed)
	}
	natstest.Eventually(t, 10*time.Second, func() bool {
		info := consumerInfo(t, b, "")
		return info.NumPending == 0 && info.NumAckPending == 0
	}, "not acknowledged")
	if n := engine.attemptsOf("inbound", "wamid.2"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	var retries int
	for _, l := range logs.lines(t) {
		if l["message"] == "input will be retried" && l["level"] == "warn" {
			retries++
			if l["error"] != "database is restarting" || l["subject"] == nil || l["stream_seq"] == nil {
				t.Errorf("retry log %v", l)
			}
		}
	}
	if retries != 2 {
		t.Errorf("%d retry logs, want 2:\n%s", retries, logs.String())
	}
}

// TestConsumerTermsBadInput: envelopes that cannot decode and inputs the
// engine refuses as bad are terminated, not retried, and logged without
// the body or the phone number.
func TestConsumerTermsBadInput(t *testing.T) { consumerTermsBadInput(t, embedded(t)) }

func consumerTermsBadInput(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.fail = func(c call, attempt int) error {
		if c.id == "wamid.unknown-sender" {
			return fmt.Errorf("no business is configured for sender: %w", bot.ErrBadInput)
		}
		return nil
	}
	var logs logBuffer
	startConsumer(t, b, engine, ConsumerConfig{AckWait: 300 * time.Millisecond, BackoffMin: 10 * time.Millisecond, Logger: logs.logger()})

	s := b.streams.Subjects
	raw := func(subject, msgID, data string) {
		t.Helper()
		msg := nats.NewMsg(subject)
		msg.Header.Set("Nats-Msg-Id", msgID)
		msg.Data = []byte(data)
		if _, err := b.js.PublishMsg(testCtx(t), msg); err != nil {
			t.Fatal(err)
		}
	}
	raw(s.Inbound(sender), "bad-json", `{"v":1,"type":"inbound_message","text":"my secret text","from":"+14155550100"`)
	raw(s.Inbound(sender), "bad-customer", `{"v":1,"type":"inbound_message","id":"w9","provider":"meta","sender":"1","from":"+1415555010099999","timestamp":"2026-01-01T00:00:00Z","text":"my secret text"}`)
	raw(s.Send("acme"), "wrong-type", `{"v":1,"type":"outbound_message","id":"o1","business":"acme","to":"+14155550100","kind":"text","text":"my secret text"}`)
	raw(s.Status(sender), "v2", `{"v":2,"type":"delivery_status"}`)
	mustPublishInbound(t, b, inbound("wamid.unknown-sender", "+14155550100", "my secret text"))
	mustPublishInbound(t, b, inbound("wamid.fine", "+14155550100", "ok"))

	natstest.Eventually(t, 10*time.Second, func() bool { return len(engine.handled()) == 1 }, "the good message was not handled")
	natstest.Eventually(t, 10*time.Second, settled(t, b), "not every message was acknowledged or terminated")
	time.Sleep(500 * time.Millisecond) // longer than AckWait: nothing comes back
	if info := consumerInfo(t, b, ""); info.NumRedelivered != 0 || info.NumAckPending != 0 || info.Delivered.Stream != 6 {
		t.Errorf("consumer: %d redelivered, %d pending acks, delivered up to %d; want 0, 0, 6", info.NumRedelivered, info.NumAckPending, info.Delivered.Stream)
	}
	if n := engine.attemptsOf("inbound", "wamid.unknown-sender"); n != 1 {
		t.Errorf("bad input tried %d times, want 1", n)
	}
	if got := engine.handled(); len(got) != 1 || got[0].id != "wamid.fine" {
		t.Errorf("handled %+v", got)
	}

	out := logs.String()
	for _, secret := range []string{"my secret text", "+14155550100", "+1415555010099999", "4155550100"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log reveals %q:\n%s", secret, out)
		}
	}
	var dropped []map[string]any
	for _, l := range logs.lines(t) {
		if l["message"] == "input dropped as bad input" {
			dropped = append(dropped, l)
			if l["level"] != "warn" || l["subject"] == nil || l["stream_seq"] == nil || l["error"] == nil {
				t.Errorf("drop log lacks level/subject/stream_seq/error: %v", l)
			}
		}
	}
	if len(dropped) != 5 {
		t.Errorf("%d drop logs, want 5:\n%s", len(dropped), out)
	}
}

// TestConsumerPerCustomerOrder: with several workers, each customer's inputs
// are handled one at a time, in the order published, while customers run in
// parallel.
func TestConsumerPerCustomerOrder(t *testing.T) { consumerPerCustomerOrder(t, embedded(t)) }

func consumerPerCustomerOrder(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.delay = 2 * time.Millisecond
	const workers = 4
	startConsumer(t, b, engine, ConsumerConfig{Workers: workers})

	customers := []bot.CustomerID{"+14155550100", "+14155550101", "+14155550102", "+447700900123", "US.1234", "US.5678"}
	partitions := map[int]bool{}
	for _, c := range customers {
		partitions[partition(c, workers)] = true
	}
	const perCustomer = 25
	ctx := testCtx(t)
	for i := range perCustomer {
		for j, c := range customers {
			// Alternate inbound messages and send requests: both count.
			if i%3 == 2 {
				r := envelope.SendRequest{ID: fmt.Sprintf("r-%d-%d", j, i), Business: "acme", To: c, Kind: bot.KindTemplate, Template: "order_shipped"}
				if _, err := b.pub.SendRequest(ctx, r); err != nil {
					t.Fatal(err)
				}
				continue
			}
			mustPublishInbound(t, b, inbound(fmt.Sprintf("w-%d-%d", j, i), c, fmt.Sprint(i)))
		}
	}
	total := perCustomer * len(customers)
	natstest.Eventually(t, 30*time.Second, func() bool { return len(engine.handled()) == total }, "not all %d inputs handled", total)

	seq := map[bot.CustomerID][]string{}
	for _, c := range engine.handled() {
		seq[c.customer] = append(seq[c.customer], c.id)
	}
	for j, c := range customers {
		for i, id := range seq[c] {
			want := fmt.Sprintf("w-%d-%d", j, i)
			if i%3 == 2 {
				want = fmt.Sprintf("r-%d-%d", j, i)
			}
			if id != want {
				t.Fatalf("customer %s: input %d handled was %s, want %s (order: %v)", c, i, id, want, seq[c])
			}
		}
	}
	engine.mu.Lock()
	overlaps, maxConc := engine.overlaps, engine.maxConcurrent
	engine.mu.Unlock()
	if overlaps != 0 {
		t.Errorf("a customer was handled twice at once %d times", overlaps)
	}
	if len(partitions) > 1 && maxConc < 2 {
		t.Errorf("at most %d input at a time: customers did not run in parallel", maxConc)
	}
}

// TestConsumerStatuses: every delivery status reaches the engine as a
// DeliveryUpdate (plain ones too: the engine reports them to the business),
// with the business resolved from the sender, the signal carried, and a
// legacy customer_opted_out read as signal opted_out.
func TestConsumerStatuses(t *testing.T) { consumerStatuses(t, embedded(t)) }

func consumerStatuses(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	startConsumer(t, b, engine, ConsumerConfig{SenderBusiness: func(s string) (bot.BusinessID, bool) {
		if s == sender {
			return "acme", true
		}
		return "", false
	}})
	ctx := testCtx(t)
	at := time.Date(2026, 1, 1, 9, 31, 0, 0, time.UTC)
	for _, s := range []envelope.DeliveryStatus{
		{ID: "wamid.3", Sender: sender, To: "+14155550100", Status: envelope.StatusDelivered, Timestamp: at},
		{ID: "wamid.3", Sender: sender, To: "+14155550100", Status: envelope.StatusFailed, Timestamp: at,
			ErrorCode: "131050", ErrorTitle: "User stopped marketing messages", CustomerOptedOut: true, Topics: []flows.Topic{"promotions"}},
		{ID: "wamid.4", Sender: sender, To: "+14155550101", Status: envelope.StatusFailed, Timestamp: at,
			ErrorCode: "131047", Signal: envelope.SignalWindowClosed, OutboundID: "acme/wamid.1/1"},
		{ID: "SM5", Sender: "whatsapp:+15550001111", To: "+14155550102", Status: envelope.StatusRead, Timestamp: at},
	} {
		if _, err := b.pub.Status(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	natstest.Eventually(t, 10*time.Second, settled(t, b), "statuses not acknowledged")
	got := map[string]call{}
	for _, c := range engine.handled() {
		if c.kind != "status" {
			t.Errorf("status handled as %+v", c)
		}
		got[c.id] = c
	}
	for _, want := range []call{
		{kind: "status", id: "status:wamid.3:delivered", business: "acme", customer: "+14155550100"},
		{kind: "status", id: "status:wamid.3:failed", business: "acme", customer: "+14155550100", text: bot.SignalOptedOut},
		{kind: "status", id: "status:wamid.4:failed", business: "acme", customer: "+14155550101", text: bot.SignalWindowClosed},
		// An unknown sender: the engine resolves (or refuses) it itself.
		{kind: "status", id: "status:SM5:read", business: "", customer: "+14155550102"},
	} {
		if got[want.id] != want {
			t.Errorf("engine got %+v, want %+v", got[want.id], want)
		}
	}
	if len(got) != 4 {
		t.Errorf("engine handled %d statuses, want 4", len(got))
	}
	// The effects the engine returned are the outbox's, not published here.
	if n := len(messagesOf(t, b, b.streams.Out)); n != 0 {
		t.Errorf("%d messages on OUT without a relay", n)
	}
}

// TestConsumerSignals: a consent signal reaches HandleMarketingPreference
// with the business resolved and Stop set from the signal, partitioned by
// the customer.
func TestConsumerSignals(t *testing.T) { consumerSignals(t, embedded(t)) }

func consumerSignals(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	startConsumer(t, b, engine, ConsumerConfig{SenderBusiness: func(s string) (bot.BusinessID, bool) { return "acme", s == sender }})
	ctx := testCtx(t)
	at := time.Date(2026, 1, 1, 9, 33, 20, 0, time.UTC)
	stop := envelope.ConsentSignal{ID: "up:1:stop", Provider: "meta", Sender: sender, Customer: "+14155550100",
		Signal: envelope.ConsentStopMarketing, Timestamp: at}
	resume := stop
	resume.ID, resume.Signal, resume.Timestamp = "up:1:resume", envelope.ConsentResumeMarketing, at.Add(time.Minute)
	for _, s := range []envelope.ConsentSignal{stop, resume, stop} { // the repeat is dropped by the stream
		if _, err := b.pub.Signal(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	natstest.Eventually(t, 10*time.Second, settled(t, b), "signals not acknowledged")
	got := engine.handled()
	want := []call{
		{kind: "preference", id: "signal:up:1:stop", business: "acme", customer: "+14155550100", text: "stop=true"},
		{kind: "preference", id: "signal:up:1:resume", business: "acme", customer: "+14155550100", text: "stop=false"},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("engine handled %+v, want %+v", got, want)
	}
}

// TestConsumerRunWaitsForInFlight: Run returns only after the handler in
// flight finished, and its message is acknowledged.
func TestConsumerRunWaitsForInFlight(t *testing.T) { consumerRunWaitsForInFlight(t, embedded(t)) }

func consumerRunWaitsForInFlight(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.hold = make(chan struct{})
	stop := startConsumer(t, b, engine, ConsumerConfig{})
	mustPublishInbound(t, b, inbound("wamid.4", "+14155550100", "hi"))
	<-engine.started

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned while a handler was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(engine.hold)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the handler finished")
	}
	natstest.Eventually(t, 5*time.Second, settled(t, b), "the in-flight message was not acknowledged")
	if len(engine.handled()) != 1 {
		t.Errorf("handled %+v", engine.handled())
	}
}

// TestConsumerNeedsStream: a consumer without its stream says so.
func TestConsumerNeedsStream(t *testing.T) {
	srv := natstest.RunServer(t)
	_, js := natstest.Connect(t, srv.ClientURL())
	_, err := NewConsumer(context.Background(), js, newFakeEngine(memstore.New()), ConsumerConfig{Prefix: "nostream"})
	if err == nil || !strings.Contains(err.Error(), "EnsureStreams") {
		t.Errorf("NewConsumer without a stream: %v", err)
	}
}

// TestConsumerSurvivesDeletedConsumer: when the durable consumer is deleted
// under it, Run recreates it and carries on.
func TestConsumerSurvivesDeletedConsumer(t *testing.T) {
	b := embedded(t)
	engine := newFakeEngine(memstore.New())
	startConsumer(t, b, engine, ConsumerConfig{})
	mustPublishInbound(t, b, inbound("wamid.a", "+14155550100", "one"))
	natstest.Eventually(t, 10*time.Second, func() bool { return len(engine.handled()) == 1 }, "first message not handled")
	if err := b.js.DeleteConsumer(testCtx(t), b.streams.In, DurableName(b.prefix)); err != nil {
		t.Fatal(err)
	}
	mustPublishInbound(t, b, inbound("wamid.b", "+14155550100", "two"))
	natstest.Eventually(t, 15*time.Second, func() bool { return engine.attemptsOf("inbound", "wamid.b") == 1 }, "message after the consumer was deleted not handled")
	// The inbound stream is a work queue: the new consumer does not replay
	// what the old one acknowledged.
	if n := engine.attemptsOf("inbound", "wamid.a"); n != 1 {
		t.Errorf("the acknowledged message was handled %d times, want 1", n)
	}
}

// TestConsumerRestartKeepsOrder: messages fetched but not handled when Run
// stops are released at once, so the next consumer handles them promptly
// (not after AckWait) and in order.
func TestConsumerRestartKeepsOrder(t *testing.T) { consumerRestartKeepsOrder(t, embedded(t)) }

func consumerRestartKeepsOrder(t *testing.T, b *bus) {
	first := newFakeEngine(memstore.New())
	first.hold = make(chan struct{})
	var logs logBuffer
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	stop := startConsumer(t, b, first, ConsumerConfig{Workers: 2, Logger: logs.logger().With().Str("c", "first").Logger()})
	const n = 10
	for i := range n {
		mustPublishInbound(t, b, inbound(fmt.Sprintf("w%d", i), "+14155550100", "hi"))
	}
	<-first.started // w0 is in flight; the rest are queued or buffered
	natstest.Eventually(t, 5*time.Second, func() bool { return consumerInfo(t, b, "").NumPending == 0 }, "not all fetched")
	go func() { time.Sleep(100 * time.Millisecond); close(first.hold) }()
	stop()
	if got := first.handled(); len(got) != 1 || got[0].id != "w0" {
		t.Fatalf("first consumer handled %+v, want w0 only", got)
	}

	second := newFakeEngine(first.store) // same store: w0 is a duplicate if it comes back
	startConsumer(t, b, second, ConsumerConfig{Workers: 2, Logger: logs.logger().With().Str("c", "second").Logger()})
	start := time.Now()
	natstest.Eventually(t, 10*time.Second, func() bool { return len(second.handled()) >= n-1 }, "released messages not handled")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("released messages took %v: they waited for AckWait", d)
	}
	var ids []string
	for _, c := range second.handled() {
		ids = append(ids, c.id)
	}
	for i, id := range ids {
		if id != fmt.Sprintf("w%d", i+1) {
			t.Fatalf("after the restart: order %v, want w1…w%d", ids, n-1)
		}
	}
}
