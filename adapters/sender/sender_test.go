package sender

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
)

var _ Guard = EngineGuard((*bot.Service)(nil))

const (
	addr1 = "106540352242922"
	addr2 = "106540352242933"
)

// fakeClient records calls and answers with reply (attempt counts from 1
// per outbound id).
type fakeClient struct {
	name  string
	reply func(m envelope.OutboundMessage, attempt int) (string, error)
	// called, when set, receives every call as it starts.
	called chan string

	mu    sync.Mutex
	calls map[string]int
	order []string
}

func newClient(name string) *fakeClient {
	return &fakeClient{name: name, calls: map[string]int{}}
}

func (c *fakeClient) Name() string { return c.name }

func (c *fakeClient) Send(ctx context.Context, m envelope.OutboundMessage) (string, error) {
	c.mu.Lock()
	c.calls[m.ID]++
	n := c.calls[m.ID]
	c.order = append(c.order, m.ID)
	c.mu.Unlock()
	if c.called != nil {
		c.called <- m.ID
	}
	if c.reply != nil {
		return c.reply(m, n)
	}
	return "wamid.sent." + m.ID, nil
}

func (c *fakeClient) callsOf(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

func (c *fakeClient) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.order)
}

// fakeGuard refuses what refuse says, and counts.
type fakeGuard struct {
	refuse func(m envelope.OutboundMessage, n int) (bot.Reason, error)
	mu     sync.Mutex
	checks map[string]int
}

func (g *fakeGuard) Recheck(ctx context.Context, m envelope.OutboundMessage) (bot.Reason, error) {
	g.mu.Lock()
	if g.checks == nil {
		g.checks = map[string]int{}
	}
	g.checks[m.ID]++
	n := g.checks[m.ID]
	g.mu.Unlock()
	if g.refuse != nil {
		return g.refuse(m, n)
	}
	return "", nil
}

// countingLimiter never waits; it counts.
type countingLimiter struct {
	mu    sync.Mutex
	waits int
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return ctx.Err()
}

func (l *countingLimiter) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.waits
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// bus is one test's NATS.
type bus struct {
	t       *testing.T
	url     string
	js      jetstream.JetStream
	prefix  string
	streams natsbus.Streams
	logs    *logBuffer
}

func newBus(t *testing.T) *bus {
	t.Helper()
	return busAt(t, natstest.RunServer(t).ClientURL())
}

func busAt(t *testing.T, url string) *bus {
	_, js := natstest.Connect(t, url)
	b := &bus{t: t, url: url, js: js, prefix: natstest.Prefix(t), logs: &logBuffer{}}
	var err error
	b.streams, err = natsbus.EnsureStreams(ctx(t), js, natsbus.StreamConfig{Prefix: b.prefix})
	if err != nil {
		t.Fatal(err)
	}
	in, out := natsbus.StreamNames(b.prefix)
	natstest.DeleteStreamsAtCleanup(t, js, in, out, "KV_"+natsbus.SentBucketName(b.prefix))
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// config is a fast test configuration.
func (b *bus) config(senders ...string) Config {
	if len(senders) == 0 {
		senders = []string{addr1}
	}
	return Config{
		Prefix: b.prefix, Senders: senders, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
		MaxAttempts: 3, Logger: zerolog.New(b.logs).Level(zerolog.DebugLevel),
	}
}

// start runs a Sender until the test ends or stop is called.
func (b *bus) start(client Client, guard Guard, cfg Config) (s *Sender, stop func()) {
	b.t.Helper()
	s, err := New(b.js, client, guard, cfg)
	if err != nil {
		b.t.Fatalf("New: %v", err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(c) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					b.t.Errorf("Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				b.t.Error("Run did not return within 20s of cancel")
			}
		})
	}
	b.t.Cleanup(stop)
	return s, stop
}

func outbound(id, sender string, to bot.CustomerID) envelope.OutboundMessage {
	return envelope.OutboundMessage{ID: id, Business: "acme", Sender: sender, To: to, RequestID: "req-" + id,
		Kind: bot.KindTemplate, Template: "order_shipped", Topic: "order_updates", Params: map[string]string{"1": "Ana"}}
}

// publish puts an outbound message on the OUT stream, as the relay does,
// with msgID as its Nats-Msg-Id (default: its id).
func (b *bus) publish(m envelope.OutboundMessage, msgID ...string) {
	b.t.Helper()
	data, err := m.MarshalJSON()
	if err != nil {
		b.t.Fatal(err)
	}
	b.publishRaw(b.streams.Subjects.Outbound(m.Sender), data, append(msgID, m.ID)[0])
}

func (b *bus) publishRaw(subject string, data []byte, msgID string) {
	b.t.Helper()
	msg := nats.NewMsg(subject)
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	msg.Data = data
	if _, err := b.js.PublishMsg(ctx(b.t), msg); err != nil {
		b.t.Fatal(err)
	}
}

// settled reports that the durable has acknowledged everything.
func (b *bus) settled(s *Sender) func() bool {
	return func() bool {
		c, err := b.js.Consumer(ctx(b.t), b.streams.Out, s.Durable())
		if err != nil {
			return false
		}
		info, err := c.Info(ctx(b.t))
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	}
}

func (b *bus) statuses() []envelope.DeliveryStatus {
	var out []envelope.DeliveryStatus
	for _, m := range natstest.Messages(b.t, b.js, b.streams.In) {
		s, err := envelope.DecodeStatus(m.Data)
		if err != nil {
			b.t.Fatalf("IN holds %s: %v", m.Data, err)
		}
		if m.MsgID != s.MsgID() || m.Subject != b.streams.Subjects.Status(s.Sender) {
			b.t.Errorf("status %s on %s", m.MsgID, m.Subject)
		}
		out = append(out, s)
	}
	return out
}

func (b *bus) decisions() []natstest.Stored {
	var out []natstest.Stored
	for _, m := range natstest.Messages(b.t, b.js, b.streams.Out) {
		if kind, _, _ := b.streams.Subjects.Parse(m.Subject); kind == envelope.SubjectDecision {
			out = append(out, m)
		}
	}
	return out
}

func (b *bus) record(s *Sender, id string) (record, bool) {
	e, err := s.kv.Get(ctx(b.t), Key(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return record{}, false
	}
	if err != nil {
		b.t.Fatal(err)
	}
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		b.t.Fatal(err)
	}
	return r, true
}

// TestSendsAndRecords: a message is sent once, its provider id recorded,
// nothing published, and it is acknowledged; the client gets it as
// published, params included. The log holds no text nor number.
func TestSendsAndRecords(t *testing.T) { sendsAndRecords(t, newBus(t)) }

func sendsAndRecords(t *testing.T, b *bus) {
	client := newClient("meta")
	s, _ := b.start(client, &fakeGuard{}, b.config())
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	m.Kind, m.Template, m.Text = bot.KindText, "", "my secret words"
	var got envelope.OutboundMessage
	client.reply = func(o envelope.OutboundMessage, _ int) (string, error) { got = o; return "wamid.P1", nil }
	b.publish(m)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if n := client.callsOf(m.ID); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
	client.mu.Lock()
	if got.Text != m.Text || got.Params["1"] != "Ana" || got.To != m.To {
		t.Errorf("client got %+v", got)
	}
	client.mu.Unlock()
	rec, ok := b.record(s, m.ID)
	if !ok || rec.State != stateSent || rec.ProviderID != "wamid.P1" || rec.OutboundID != m.ID || rec.Provider != "meta" || rec.Attempts != 1 {
		t.Errorf("record %+v", rec)
	}
	if n := len(b.statuses()); n != 0 {
		t.Errorf("%d statuses published on success", n)
	}
	for _, secret := range []string{"my secret words", "4155550100"} {
		if strings.Contains(b.logs.String(), secret) {
			t.Errorf("log reveals %q:\n%s", secret, b.logs.String())
		}
	}
}

// TestOneCallPerOutboundID: the same outbound id published twice under
// different msg ids (a republication after the duplicate window), then
// redelivered to a new durable (a restart from scratch), and raced by two
// senders of different providers configured on the same address: one
// provider call per id in all.
func TestOneCallPerOutboundID(t *testing.T) { oneCallPerOutboundID(t, newBus(t)) }

func oneCallPerOutboundID(t *testing.T, b *bus) {
	a, c := newClient("meta"), newClient("meta2")
	sa, stopA := b.start(a, &fakeGuard{}, b.config())
	sc, stopC := b.start(c, &fakeGuard{}, b.config())
	const n = 40
	customers := []bot.CustomerID{"+14155550100", "+14155550101", "+14155550102", "US.1234"}
	for i := range n {
		m := outbound(fmt.Sprintf("acme/w%d/0", i), addr1, customers[i%len(customers)])
		b.publish(m)
		b.publish(m, m.ID+"#republished")
	}
	natstest.Eventually(t, 20*time.Second, func() bool { return b.settled(sa)() && b.settled(sc)() }, "not all acknowledged")
	check := func(when string) {
		t.Helper()
		for i := range n {
			id := fmt.Sprintf("acme/w%d/0", i)
			if got := a.callsOf(id) + c.callsOf(id); got != 1 {
				t.Errorf("%s: %s sent %d times (meta %d, meta2 %d), want once", when, id, got, a.callsOf(id), c.callsOf(id))
			}
		}
	}
	check("after the race")
	t.Logf("calls: meta %d, meta2 %d", a.total(), c.total())

	// A restart from scratch: the durable is gone, a new one replays the
	// whole stream.
	stopA()
	stopC()
	if err := b.js.DeleteConsumer(ctx(t), b.streams.Out, sa.Durable()); err != nil {
		t.Fatal(err)
	}
	s2, _ := b.start(a, &fakeGuard{}, b.config())
	natstest.Eventually(t, 20*time.Second, b.settled(s2), "replay not acknowledged")
	check("after the replay")
}

// TestLateRefusal: the guard refuses right before the call: no call, a
// refused decision with the request's id on decision.<business>, acked.
func TestLateRefusal(t *testing.T) { lateRefusal(t, newBus(t)) }

func lateRefusal(t *testing.T, b *bus) {
	client := newClient("meta")
	guard := &fakeGuard{refuse: func(m envelope.OutboundMessage, _ int) (bot.Reason, error) {
		if m.To == "+14155550100" {
			return bot.ReasonOptedOut, nil
		}
		return "", nil
	}}
	s, _ := b.start(client, guard, b.config())
	stopped := outbound("acme/send:r1/0", addr1, "+14155550100")
	reply := outbound("acme/wamid.7/1", addr1, "+14155550101")
	reply.RequestID, reply.InReplyTo = "", "wamid.7"
	b.publish(stopped)
	b.publish(reply)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if client.callsOf(stopped.ID) != 0 || client.callsOf(reply.ID) != 1 {
		t.Errorf("calls: refused %d, allowed %d", client.callsOf(stopped.ID), client.callsOf(reply.ID))
	}
	ds := b.decisions()
	if len(ds) != 1 {
		t.Fatalf("%d decisions, want 1", len(ds))
	}
	d, err := envelope.DecodeDecision(ds[0].Data)
	want := envelope.SendDecision{ID: stopped.ID + "/late-refusal", RequestID: "req-" + stopped.ID, Business: "acme",
		Customer: stopped.To, Kind: stopped.Kind, Template: stopped.Template, Topic: stopped.Topic, Reason: bot.ReasonOptedOut}
	if err != nil || ds[0].MsgID != want.ID || ds[0].Subject != b.streams.Subjects.Decision("acme") || fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("decision %s %s %+v %v\nwant %+v", ds[0].MsgID, ds[0].Subject, d, err, want)
	}
	if rec, _ := b.record(s, stopped.ID); rec.State != stateRefused || rec.Reason != bot.ReasonOptedOut {
		t.Errorf("record %+v", rec)
	}
}

// TestRetryThenSuccess: retryable errors are retried in process until the
// call succeeds; the guard is asked before each attempt; nothing is
// published.
func TestRetryThenSuccess(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	client.reply = func(m envelope.OutboundMessage, n int) (string, error) {
		switch n {
		case 1:
			return "", &envelope.SendError{Provider: "meta", Code: "130429", Retryable: true, RetryAfter: 2 * time.Millisecond}
		case 2:
			return "", errors.New("connection reset by peer")
		}
		return "wamid.ok", nil
	}
	guard := &fakeGuard{}
	s, _ := b.start(client, guard, b.config())
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	b.publish(m)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if n := client.callsOf(m.ID); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
	guard.mu.Lock()
	if guard.checks[m.ID] != 3 {
		t.Errorf("%d guard checks, want one per attempt", guard.checks[m.ID])
	}
	guard.mu.Unlock()
	if rec, _ := b.record(s, m.ID); rec.State != stateSent || rec.ProviderID != "wamid.ok" || rec.Attempts != 3 {
		t.Errorf("record %+v", rec)
	}
	if n := len(b.statuses()); n != 0 {
		t.Errorf("%d statuses", n)
	}
}

// TestGiveUp: after MaxAttempts retryable failures, a failed status with
// the last error's code and signal is published on the IN status subject.
func TestGiveUp(t *testing.T) { giveUp(t, newBus(t)) }

func giveUp(t *testing.T, b *bus) {
	client := newClient("meta")
	client.reply = func(m envelope.OutboundMessage, n int) (string, error) {
		return "", &envelope.SendError{Provider: "meta", Code: "131000", Message: "Something went wrong", HTTPStatus: 500, Retryable: true}
	}
	s, _ := b.start(client, &fakeGuard{}, b.config())
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	b.publish(m)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if n := client.callsOf(m.ID); n != 3 {
		t.Errorf("%d calls, want MaxAttempts 3", n)
	}
	st := b.statuses()
	if len(st) != 1 {
		t.Fatalf("%d statuses, want 1", len(st))
	}
	got := st[0]
	if got.ID != m.ID || got.OutboundID != m.ID || got.Provider != "meta" || got.Sender != addr1 || got.To != m.To ||
		got.Status != envelope.StatusFailed || got.ErrorCode != "131000" || got.ErrorTitle != "Something went wrong" || got.Signal != "" {
		t.Errorf("status %+v", got)
	}
	u, err := got.ToBot()
	if err != nil || u.OutboundID != m.ID || u.ID != "status:"+m.ID+":failed" {
		t.Errorf("the engine gets %+v, %v", u, err)
	}
}

// TestPermanentAndDeferred: a permanent error is not retried and its
// signal reaches the status; a deferral is not retried either, even when
// marked retryable.
func TestPermanentAndDeferred(t *testing.T) { permanentAndDeferred(t, newBus(t)) }

func permanentAndDeferred(t *testing.T, b *bus) {
	client := newClient("meta")
	client.reply = func(m envelope.OutboundMessage, n int) (string, error) {
		if m.To == "+14155550100" {
			return "", &envelope.SendError{Provider: "meta", Code: "131047", Message: "Re-engagement message", Signal: envelope.SignalWindowClosed}
		}
		return "", &envelope.SendError{Provider: "meta", Code: "131049", Retryable: true, Signal: envelope.SignalDeferred}
	}
	s, _ := b.start(client, &fakeGuard{}, b.config())
	closed := outbound("acme/wamid.1/1", addr1, "+14155550100")
	deferred := outbound("acme/send:r2/0", addr1, "+14155550101")
	b.publish(closed)
	b.publish(deferred)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if client.callsOf(closed.ID) != 1 || client.callsOf(deferred.ID) != 1 {
		t.Errorf("calls %d %d, want 1 each", client.callsOf(closed.ID), client.callsOf(deferred.ID))
	}
	signals := map[string]string{}
	for _, st := range b.statuses() {
		signals[st.OutboundID] = st.ErrorCode + " " + st.Signal
	}
	if signals[closed.ID] != "131047 window_closed" || signals[deferred.ID] != "131049 deferred" {
		t.Errorf("statuses %v", signals)
	}
}

// TestRateLimiter: every provider call waits on its own sender's limiter
// first; the default limiter is RatePerSecond with an equal burst.
func TestRateLimiter(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	limiters := map[string]*countingLimiter{addr1: {}, addr2: {}}
	cfg := b.config(addr1, addr2)
	cfg.NewLimiter = func(sender string) Limiter { return limiters[sender] }
	s, _ := b.start(client, &fakeGuard{}, cfg)
	for i := range 7 {
		b.publish(outbound(fmt.Sprintf("acme/a%d/0", i), addr1, "+14155550100"))
	}
	for i := range 3 {
		b.publish(outbound(fmt.Sprintf("acme/b%d/0", i), addr2, "+14155550101"))
	}
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if client.total() != 10 || limiters[addr1].count() != 7 || limiters[addr2].count() != 3 {
		t.Errorf("%d calls; limiter waits %d and %d, want 7 and 3", client.total(), limiters[addr1].count(), limiters[addr2].count())
	}

	cfg = b.config()
	cfg.RatePerSecond = 0
	d, err := New(b.js, newClient("other"), &fakeGuard{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := d.limiters[addr1].(*rate.Limiter)
	if !ok || l.Limit() != DefaultRatePerSecond || l.Burst() != DefaultRatePerSecond {
		t.Errorf("default limiter %T %v", d.limiters[addr1], d.limiters[addr1])
	}
}

// TestOneCustomerInOrder: a customer's messages are sent one at a time, in
// stream order, even with a retry in between.
func TestOneCustomerInOrder(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	client.reply = func(m envelope.OutboundMessage, n int) (string, error) {
		if m.ID == "acme/w1/0" && n == 1 {
			return "", &envelope.SendError{Provider: "meta", Code: "130429", Retryable: true, RetryAfter: 20 * time.Millisecond}
		}
		return "ok", nil
	}
	s, _ := b.start(client, &fakeGuard{}, b.config())
	for i := range 5 {
		b.publish(outbound(fmt.Sprintf("acme/w%d/0", i), addr1, "+14155550100"))
	}
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	client.mu.Lock()
	defer client.mu.Unlock()
	want := []string{"acme/w0/0", "acme/w1/0", "acme/w1/0", "acme/w2/0", "acme/w3/0", "acme/w4/0"}
	if fmt.Sprint(client.order) != fmt.Sprint(want) {
		t.Errorf("order %v, want %v", client.order, want)
	}
}

// TestExpired: a message older than MaxAge is not sent but reported.
func TestExpired(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	cfg := b.config()
	cfg.MaxAge = time.Hour
	cfg.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
	s, _ := b.start(client, &fakeGuard{}, cfg)
	m := outbound("acme/send:old/0", addr1, "+14155550100")
	b.publish(m)
	// The consumer can look settled before it has seen the message: wait
	// for the status the expiry publishes.
	natstest.Eventually(t, 10*time.Second, func() bool { return len(b.statuses()) > 0 }, "no expiry status")
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	st := b.statuses()
	if client.total() != 0 || len(st) != 1 || st[0].ErrorCode != CodeExpired || st[0].OutboundID != m.ID {
		t.Errorf("%d calls, statuses %+v", client.total(), st)
	}
}

// TestGuardUnavailable: a guard error before anything is claimed leaves the
// message for a redelivery, which sends it once.
func TestGuardUnavailable(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	guard := &fakeGuard{refuse: func(m envelope.OutboundMessage, n int) (bot.Reason, error) {
		if n == 1 {
			return "", errors.New("database is restarting")
		}
		if m.Business == "ghost" {
			return "", fmt.Errorf("business not configured: %w", bot.ErrBadInput)
		}
		return "", nil
	}}
	s, _ := b.start(client, guard, b.config())
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	ghost := outbound("ghost/send:r2/0", addr1, "+14155550101")
	ghost.Business = "ghost"
	b.publish(m)
	b.publish(ghost)
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if client.callsOf(m.ID) != 1 || client.callsOf(ghost.ID) != 0 {
		t.Errorf("calls %d %d", client.callsOf(m.ID), client.callsOf(ghost.ID))
	}
	st := b.statuses()
	if len(st) != 1 || st[0].OutboundID != ghost.ID || st[0].ErrorCode != CodeGuardBadInput {
		t.Errorf("statuses %+v", st)
	}
}

// TestRecordedOutcomeRepublished: a redelivered message whose failure was
// recorded but not published (NATS failed in between) gets its status
// published, without a call.
func TestRecordedOutcomeRepublished(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	s, err := New(b.js, client, &fakeGuard{}, b.config())
	if err != nil {
		t.Fatal(err)
	}
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	at := time.Date(2026, 1, 1, 9, 31, 0, 0, time.UTC)
	rec, _ := json.Marshal(record{State: stateFailed, OutboundID: m.ID, Provider: "meta", Code: "131026", Signal: envelope.SignalUndeliverable, At: at})
	if _, err := s.kv.Create(ctx(t), Key(m.ID), rec); err != nil {
		t.Fatal(err)
	}
	b.start(client, &fakeGuard{}, b.config())
	b.publish(m)
	// The consumer can look settled before it has seen the message: wait
	// for the status the expiry publishes.
	natstest.Eventually(t, 10*time.Second, func() bool { return len(b.statuses()) > 0 }, "no expiry status")
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	st := b.statuses()
	if client.total() != 0 || len(st) != 1 || st[0].ErrorCode != "131026" || st[0].Signal != envelope.SignalUndeliverable || !st[0].Timestamp.Equal(at) {
		t.Errorf("%d calls, statuses %+v", client.total(), st)
	}
}

// TestShutdownReleasesClaim: a message waiting to be retried when the
// sender stops is given back with its claim released, so the next sender
// sends it.
func TestShutdownReleasesClaim(t *testing.T) { shutdownReleasesClaim(t, newBus(t)) }

func shutdownReleasesClaim(t *testing.T, b *bus) {
	first := newClient("meta")
	first.called = make(chan string, 10)
	first.reply = func(m envelope.OutboundMessage, n int) (string, error) {
		return "", &envelope.SendError{Provider: "meta", Code: "130429", Retryable: true, RetryAfter: time.Hour}
	}
	s, stop := b.start(first, &fakeGuard{}, b.config())
	m := outbound("acme/send:r1/0", addr1, "+14155550100")
	b.publish(m)
	select {
	case <-first.called:
	case <-time.After(10 * time.Second):
		t.Fatal("no call")
	}
	natstest.Eventually(t, 5*time.Second, func() bool { r, ok := b.record(s, m.ID); return ok && r.State == stateClaimed }, "not claimed")
	start := time.Now()
	stop()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping took %v: the retry wait was not interrupted", d)
	}
	if _, ok := b.record(s, m.ID); ok {
		t.Error("claim not released")
	}
	second := newClient("meta")
	s2, _ := b.start(second, &fakeGuard{}, b.config())
	natstest.Eventually(t, 10*time.Second, b.settled(s2), "not acknowledged")
	if second.callsOf(m.ID) != 1 {
		t.Errorf("after the restart %d calls, want 1", second.callsOf(m.ID))
	}
}

// TestBadMessages: what is not an outbound message of a configured sender
// is terminated, never sent.
func TestBadMessages(t *testing.T) {
	b := newBus(t)
	client := newClient("meta")
	s, _ := b.start(client, &fakeGuard{}, b.config())
	sub := b.streams.Subjects.Outbound(addr1)
	b.publishRaw(sub, []byte(`{"v":1,"type":"outbound_message","text":"my secret words"`), "bad-json")
	b.publishRaw(sub, []byte(`{"v":1,"type":"consent_change"}`), "wrong-type")
	b.publish(outbound("acme/fine/0", addr1, "+14155550100"))
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if client.total() != 1 {
		t.Errorf("%d calls, want 1", client.total())
	}
	if logs := b.logs.String(); strings.Count(logs, "outbound message dropped") != 2 || strings.Contains(logs, "my secret words") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestNewChecks(t *testing.T) {
	b := newBus(t)
	for _, cfg := range []Config{
		{Prefix: b.prefix},
		{Prefix: b.prefix, Senders: []string{""}},
		{Prefix: b.prefix, Senders: []string{"a", "a"}},
		{Prefix: "nostream", Senders: []string{"a"}},
		{Prefix: "bad prefix", Senders: []string{"a"}},
	} {
		if _, err := New(b.js, newClient("meta"), &fakeGuard{}, cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
	if _, err := New(b.js, newClient("meta"), nil, b.config()); err == nil {
		t.Error("New without a guard: no error")
	}
	s, err := New(b.js, newClient("meta"), &fakeGuard{}, b.config(addr1, addr2))
	if err != nil {
		t.Fatal(err)
	}
	if s.Durable() != natsbus.SenderDurableName(b.prefix, "meta") {
		t.Errorf("durable %s", s.Durable())
	}
	kvInfo, err := s.kv.Status(ctx(t))
	if err != nil || kvInfo.TTL() < natsbus.DefaultMaxAge {
		t.Errorf("bucket TTL %v, %v: want at least the OUT stream's max age", kvInfo.TTL(), err)
	}
}

func TestBackoff(t *testing.T) {
	s := &Sender{cfg: Config{BackoffBase: 500 * time.Millisecond, BackoffMax: 30 * time.Second}}
	for n := 1; n <= 40; n++ {
		ceiling := min(30*time.Second, 500*time.Millisecond<<min(n-1, 20))
		for range 50 {
			if d := s.backoff(n, 0); d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %v, want within [0, %v]", n, d, ceiling)
			}
		}
	}
	if d := s.backoff(1, time.Minute); d != time.Minute {
		t.Errorf("Retry-After not honoured: %v", d)
	}
}

func TestEngineGuard(t *testing.T) {
	var got bot.Outbound
	var gotSender string
	g := EngineGuard(recheckFunc(func(ctx context.Context, b bot.BusinessID, sender string, c bot.CustomerID, out bot.Outbound) (bot.Reason, error) {
		got, gotSender = out, sender
		return bot.ReasonWindowClosed, nil
	}))
	m := outbound("acme/wamid.1/1", addr1, "+14155550100")
	m.InReplyTo, m.Kind, m.Topic = "wamid.1", bot.KindText, ""
	if r, err := g.Recheck(context.Background(), m); r != bot.ReasonWindowClosed || err != nil {
		t.Errorf("Recheck = %q, %v", r, err)
	}
	if !got.Reply || got.Kind != bot.KindText || gotSender != addr1 {
		t.Errorf("engine got %+v from %s", got, gotSender)
	}
}

type recheckFunc func(ctx context.Context, b bot.BusinessID, sender string, c bot.CustomerID, out bot.Outbound) (bot.Reason, error)

func (f recheckFunc) Recheck(ctx context.Context, b bot.BusinessID, sender string, c bot.CustomerID, out bot.Outbound) (bot.Reason, error) {
	return f(ctx, b, sender, c, out)
}

// TestRealServer runs the sender's main tests against the machine's NATS
// server ($OPTINBOT_TEST_NATS_URL), each under its own prefix. It fails,
// never skips, when the server is unreachable.
func TestRealServer(t *testing.T) {
	url := natstest.RealServer(t)
	for name, test := range map[string]func(*testing.T, *bus){
		"SendsAndRecords":       sendsAndRecords,
		"OneCallPerOutboundID":  oneCallPerOutboundID,
		"LateRefusal":           lateRefusal,
		"GiveUp":                giveUp,
		"PermanentAndDeferred":  permanentAndDeferred,
		"ShutdownReleasesClaim": shutdownReleasesClaim,
		"SeveralSenders":        severalSenders,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, busAt(t, url))
		})
	}
}

// TestSeveralSenders: a provider sending from two addresses gets both's
// messages and none of another address's, whether the server filters on
// several subjects (2.10 and later, the embedded one) or only one (the
// machine's 2.9, where the sender reads every outbound subject and skips).
func TestSeveralSenders(t *testing.T) { severalSenders(t, newBus(t)) }

func severalSenders(t *testing.T, b *bus) {
	client := newClient("meta")
	s, _ := b.start(client, &fakeGuard{}, b.config(addr1, addr2))
	mine1, mine2 := outbound("acme/w1/0", addr1, "+14155550100"), outbound("acme/w2/0", addr2, "+14155550101")
	other := outbound("acme/w3/0", "15550009999", "+14155550102")
	b.publish(mine1)
	b.publish(other)
	b.publish(mine2)
	natstest.Eventually(t, 10*time.Second, func() bool {
		return client.callsOf(mine1.ID) == 1 && client.callsOf(mine2.ID) == 1
	}, "both senders' messages sent:\n"+b.logs.String())
	natstest.Eventually(t, 10*time.Second, b.settled(s), "not acknowledged")
	if n := client.callsOf(other.ID); n != 0 {
		t.Errorf("another address's message was sent %d times", n)
	}
}
