package natsbus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

// bus is one test's NATS: a connection, a unique prefix and its streams.
type bus struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	prefix  string
	streams Streams
	pub     *Publisher
}

// embedded starts an embedded server for the test.
func embedded(t *testing.T) *bus {
	t.Helper()
	srv := natstest.RunServer(t)
	return connect(t, srv.ClientURL())
}

// connect sets up a unique prefix and its streams on the server at url,
// deleting the streams when the test ends.
func connect(t *testing.T, url string) *bus {
	t.Helper()
	nc, js := natstest.Connect(t, url)
	b := &bus{nc: nc, js: js, prefix: natstest.Prefix(t)}
	in, out := StreamNames(b.prefix)
	natstest.DeleteStreamsAtCleanup(t, js, in, out)
	var err error
	b.streams, err = EnsureStreams(testCtx(t), js, StreamConfig{Prefix: b.prefix})
	if err != nil {
		t.Fatalf("EnsureStreams: %v", err)
	}
	b.pub, err = NewPublisher(js, b.prefix)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// logBuffer is a zerolog destination tests can read.
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

// lines returns the logged JSON lines.
func (l *logBuffer) lines(t *testing.T) []map[string]any {
	var out []map[string]any
	for _, line := range bytes.Split([]byte(l.String()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func (l *logBuffer) logger() zerolog.Logger { return zerolog.New(l).Level(zerolog.DebugLevel) }

// call is one Engine call a fakeEngine saw.
type call struct {
	kind     string // "inbound", "send", "status", "preference"
	id       string
	business bot.BusinessID
	customer bot.CustomerID
	text     string
}

// fakeEngine stands in for bot.Service: it commits a turn with effects to a
// memstore (deduplicating by input id like the real one), checks that no
// customer is handled twice at once, and can be told to fail or block.
type fakeEngine struct {
	store  *memstore.Store
	notify func()
	// fail, when set, decides the error of a call (attempt counts from 1).
	fail func(c call, attempt int) error
	// hold, when set, is waited on before each call returns.
	hold chan struct{}
	// delay is slept inside each call.
	delay time.Duration

	mu            sync.Mutex
	calls         []call
	attempts      map[string]int
	active        map[bot.CustomerID]int
	concurrent    int // calls running at once, now
	maxConcurrent int
	overlaps      int // times one customer was handled twice at once
	started       chan call
}

func newFakeEngine(store *memstore.Store) *fakeEngine {
	return &fakeEngine{store: store, attempts: map[string]int{}, active: map[bot.CustomerID]int{}, started: make(chan call, 1000)}
}

func (f *fakeEngine) enter(c call) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts[c.kind+c.id]++
	f.active[c.customer]++
	if f.active[c.customer] > 1 {
		f.overlaps++
	}
	f.concurrent++
	f.maxConcurrent = max(f.maxConcurrent, f.concurrent)
	return f.attempts[c.kind+c.id]
}

func (f *fakeEngine) leave(c call, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.active[c.customer]--
	f.concurrent--
	if err == nil {
		f.calls = append(f.calls, c)
	}
}

// handled returns the calls that succeeded, in completion order.
func (f *fakeEngine) handled() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *fakeEngine) attemptsOf(kind, id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts[kind+id]
}

func (f *fakeEngine) run(ctx context.Context, c call, effects func(business bot.BusinessID) []bot.Effect) (_ []bot.Effect, err error) {
	attempt := f.enter(c)
	defer func() { f.leave(c, err) }()
	f.started <- c
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(c, attempt); err != nil {
			return nil, err
		}
	}
	business := c.business
	if business == "" {
		business = "acme" // what the real engine would resolve
	}
	effs := effects(business)
	err = f.store.Commit(ctx, bot.Turn{Business: business, Customer: c.customer, DedupID: c.kind + ":" + c.id, Effects: effs, At: time.Now()})
	if errors.Is(err, bot.ErrDuplicate) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if f.notify != nil && len(effs) > 0 {
		f.notify()
	}
	return effs, nil
}

func (f *fakeEngine) HandleInbound(ctx context.Context, in bot.Inbound) ([]bot.Effect, error) {
	c := call{kind: "inbound", id: in.ID, business: in.Business, customer: in.Customer, text: in.Text}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		return []bot.Effect{{
			ID: fmt.Sprintf("%s/%s/0", b, in.ID), Kind: bot.EffectMessage, Business: b, Customer: in.Customer,
			Sender: in.Sender, InReplyTo: in.ID, Message: &bot.Message{Kind: bot.KindText, Text: "you said " + in.Text},
		}}
	})
}

func (f *fakeEngine) HandleSendRequest(ctx context.Context, r bot.SendRequest) ([]bot.Effect, error) {
	c := call{kind: "send", id: r.ID, business: r.Business, customer: r.Customer}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		id := fmt.Sprintf("%s/send:%s/0", b, r.ID)
		if r.Template == "spring_sale" {
			return []bot.Effect{{ID: id, Kind: bot.EffectRefused, Business: b, Customer: r.Customer, RequestID: r.ID,
				Refusal: &bot.Refusal{Kind: r.Kind, Reason: bot.ReasonOptedOut, Template: r.Template, Topic: r.Topic}}}
		}
		return []bot.Effect{{ID: id, Kind: bot.EffectMessage, Business: b, Customer: r.Customer, Sender: r.Sender, RequestID: r.ID,
			Message: &bot.Message{Kind: r.Kind, Template: r.Template, Topic: r.Topic, Language: r.Language, Text: r.Text}}}
	})
}

func (f *fakeEngine) HandleDeliveryUpdate(ctx context.Context, u bot.DeliveryUpdate) ([]bot.Effect, error) {
	c := call{kind: "status", id: u.ID, business: u.Business, customer: u.Customer, text: u.Signal}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		id := fmt.Sprintf("%s/%s/0", b, u.ID)
		effs := []bot.Effect{{ID: id, Kind: bot.EffectDelivery, Business: b, Customer: u.Customer, Sender: u.Sender,
			Delivery: &bot.Delivery{MessageID: u.MessageID, OutboundID: u.OutboundID, Status: u.Status, At: u.At,
				ErrorCode: u.ErrorCode, ErrorTitle: u.ErrorTitle, Signal: u.Signal}}}
		if u.Signal == bot.SignalOptedOut {
			cid := fmt.Sprintf("%s/%s/1", b, u.ID)
			effs = append(effs, bot.Effect{ID: cid, Kind: bot.EffectConsent, Business: b, Customer: u.Customer,
				Consent: &bot.ConsentEvent{ID: cid, Customer: u.Customer, Business: b, Channel: bot.Channel, Topic: flows.TopicAll,
					Status: bot.OptedOut, Source: bot.SourceProvider, Trigger: "provider " + u.ErrorCode, InboundID: u.ID, At: u.At}})
		}
		return effs
	})
}

func (f *fakeEngine) HandleMarketingPreference(ctx context.Context, p bot.MarketingPreference) ([]bot.Effect, error) {
	c := call{kind: "preference", id: p.ID, business: p.Business, customer: p.Customer, text: fmt.Sprint("stop=", p.Stop)}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		id := fmt.Sprintf("%s/%s/0", b, p.ID)
		return []bot.Effect{{ID: id, Kind: bot.EffectNotice, Business: b, Customer: p.Customer, Sender: p.Sender,
			Notice: &bot.Notice{Kind: bot.NoticeMarketingResumed, At: p.At, Detail: p.Detail}}}
	})
}

func (f *fakeEngine) HandleConsentGrant(ctx context.Context, g bot.ConsentGrant) ([]bot.Effect, error) {
	c := call{kind: "grant", id: g.ID, business: g.Business, customer: g.Customer, text: string(g.Source)}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		id := fmt.Sprintf("%s/grant:%s/0", b, g.ID)
		return []bot.Effect{{ID: id, Kind: bot.EffectConsent, Business: b, Customer: g.Customer,
			Consent: &bot.ConsentEvent{ID: id, Customer: g.Customer, Business: b, Channel: bot.Channel, Topic: g.Topic,
				Status: bot.OptedIn, Source: g.Source, Trigger: "granted by " + string(g.Source), InboundID: g.ID, Prompt: g.Wording, At: g.At}}}
	})
}

// startConsumer runs a Consumer until the test ends (or stop is called) and
// fails the test if Run returns an error.
func startConsumer(t *testing.T, b *bus, engine Engine, cfg ConsumerConfig) (stop func()) {
	t.Helper()
	cfg.Prefix = b.prefix
	c, err := NewConsumer(testCtx(t), b.js, engine, cfg)
	if err != nil {
		t.Fatalf("NewConsumer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Consumer.Run: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("Consumer.Run did not return within 20s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func consumerInfo(t *testing.T, b *bus, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	if durable == "" {
		durable = DurableName(b.prefix)
	}
	c, err := b.js.Consumer(testCtx(t), b.streams.In, durable)
	if err != nil {
		t.Fatalf("consumer %s: %v", durable, err)
	}
	info, err := c.Info(testCtx(t))
	if err != nil {
		t.Fatalf("consumer info: %v", err)
	}
	return info
}

// settled reports that the consumer has delivered and acknowledged
// everything.
func settled(t *testing.T, b *bus) func() bool {
	return func() bool {
		info := consumerInfo(t, b, "")
		return info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0
	}
}

const sender = "106540352242922"

func inbound(id string, from bot.CustomerID, text string) envelope.InboundMessage {
	return envelope.InboundMessage{ID: id, Provider: "meta", Sender: sender, From: from,
		Timestamp: time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC), Text: text}
}

func mustPublishInbound(t *testing.T, b *bus, m envelope.InboundMessage) {
	t.Helper()
	if _, err := b.pub.Inbound(testCtx(t), m); err != nil {
		t.Fatalf("publish inbound %s: %v", m.ID, err)
	}
}

func (f *fakeEngine) HandleHandoffRelease(ctx context.Context, r bot.HandoffRelease) ([]bot.Effect, error) {
	c := call{kind: "release", id: r.ID, business: r.Business, customer: r.Customer, text: string(r.State) + "/" + r.Agent}
	return f.run(ctx, c, func(b bot.BusinessID) []bot.Effect {
		id := fmt.Sprintf("%s/release:%s/0", b, r.ID)
		return []bot.Effect{{ID: id, Kind: bot.EffectHandoffEnded, Business: b, Customer: r.Customer,
			HandoffEnded: &bot.HandoffEnded{Queue: "front-desk", Reason: bot.HandoffReleased, Resume: string(r.State), Agent: r.Agent, At: time.Now()}}}
	})
}
