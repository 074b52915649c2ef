package consenthook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
)

const secret = "whsec_test_secret"

// bus is an embedded NATS server with a prefix's streams.
type bus struct {
	js     jetstream.JetStream
	prefix string
	out    string
}

func newBus(t *testing.T) *bus {
	t.Helper()
	srv := natstest.RunServer(t)
	_, js := natstest.Connect(t, srv.ClientURL())
	prefix := natstest.Prefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return &bus{js: js, prefix: prefix, out: s.Out}
}

// change makes a consent change of business acme.
func change(id string, customer bot.CustomerID, status bot.ConsentStatus) envelope.ConsentChange {
	return envelope.ConsentChange{ID: id, Customer: customer, Business: "acme", Channel: "whatsapp",
		Topic: "order_updates", Category: "utility", Status: status, Source: bot.SourceInChannel,
		Trigger: "keyword STOP", At: time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)}
}

// publish puts a change on the consent subject the way the relay does.
func (b *bus) publish(t *testing.T, c envelope.ConsentChange) {
	t.Helper()
	data, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	subjects, _ := envelope.NewSubjects(b.prefix)
	msg := nats.NewMsg(subjects.Consent(string(c.Business)))
	msg.Header.Set(jetstream.MsgIDHeader, c.ID)
	msg.Data = data
	if _, err := b.js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// deadLetters returns the dead letters on the consent webhook's subject.
func (b *bus) deadLetters(t *testing.T) []envelope.DeadLetter {
	t.Helper()
	var out []envelope.DeadLetter
	subject := b.prefix + ".v1.deadletter.consent-webhook"
	for _, m := range natstest.Messages(t, b.js, b.out) {
		if m.Subject != subject {
			continue
		}
		d, err := envelope.DecodeDeadLetter(m.Data)
		if err != nil {
			t.Fatalf("dead letter: %v", err)
		}
		out = append(out, d)
	}
	return out
}

// receiver is the business's endpoint: it checks every request's
// signature and answers with the next of its scripted statuses (then 200).
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	script []func(w http.ResponseWriter) // one per request, then 200
	got    []received
	srv    *httptest.Server
}

type received struct {
	id, status, customer string
	idempotency          string
	at                   time.Time
}

func newReceiver(t *testing.T, script ...func(w http.ResponseWriter)) *receiver {
	r := &receiver{t: t, script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := consenthook.VerifySignature(secret, req.Header.Get(consenthook.SignatureHeader), body, time.Minute, time.Now()); err != nil {
		r.t.Errorf("request signature: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != "application/json" || req.Method != http.MethodPost {
		r.t.Errorf("%s with Content-Type %q", req.Method, ct)
	}
	c, err := envelope.DecodeConsent(body)
	if err != nil {
		r.t.Errorf("body is no consent change: %v", err)
	}
	r.mu.Lock()
	r.got = append(r.got, received{id: c.ID, status: string(c.Status), customer: string(c.Customer),
		idempotency: req.Header.Get(consenthook.IdempotencyHeader), at: time.Now()})
	var answer func(w http.ResponseWriter)
	if len(r.script) > 0 {
		answer, r.script = r.script[0], r.script[1:]
	}
	r.mu.Unlock()
	if answer != nil {
		answer(w)
	}
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func status(code int) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { http.Error(w, http.StatusText(code), code) }
}

// recorder is an Observer.
type recorder struct {
	mu       sync.Mutex
	attempts []string
	outcomes []consenthook.Outcome
}

func (o *recorder) ObserveAttempt(_ bot.BusinessID, result string, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.attempts = append(o.attempts, result)
}

func (o *recorder) ObserveDelivery(_ bot.BusinessID, outcome consenthook.Outcome, _ int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.outcomes = append(o.outcomes, outcome)
}

func (o *recorder) snapshot() ([]string, []consenthook.Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.attempts...), append([]consenthook.Outcome(nil), o.outcomes...)
}

// start runs a Hook for acme until the test ends.
func start(t *testing.T, b *bus, url string, tweak func(*consenthook.Config)) *recorder {
	t.Helper()
	obs := &recorder{}
	cfg := consenthook.Config{Prefix: b.prefix, Targets: []consenthook.Target{{Business: "acme", URL: url, Secret: secret}},
		BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, Timeout: 2 * time.Second,
		Logger: zerolog.New(zerolog.NewTestWriter(t)), Observer: obs}
	if tweak != nil {
		tweak(&cfg)
	}
	h, err := consenthook.New(context.Background(), b.js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return obs
}

func waitOutcomes(t *testing.T, obs *recorder, n int) []consenthook.Outcome {
	t.Helper()
	natstest.Eventually(t, 10*time.Second, func() bool { _, o := obs.snapshot(); return len(o) >= n }, "%d outcomes", n)
	_, o := obs.snapshot()
	return o
}

// A customer's YES then STOP reach the webhook signed, in that order, with
// the change id as idempotency key; another customer's too.
func TestDeliversInOrder(t *testing.T) {
	b := newBus(t)
	// The YES is slow to be accepted: the STOP must still wait for it.
	r := newReceiver(t, func(w http.ResponseWriter) { time.Sleep(200 * time.Millisecond) })
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedIn))
	b.publish(t, change("acme/2/0", "+14155550100", bot.OptedOut))
	b.publish(t, change("acme/3/0", "+14155550101", bot.OptedIn))
	obs := start(t, b, r.srv.URL, nil)
	waitOutcomes(t, obs, 3)
	var first []string
	for _, g := range r.requests() {
		if g.idempotency != g.id {
			t.Errorf("Idempotency-Key %q for change %q", g.idempotency, g.id)
		}
		if g.customer == "+14155550100" {
			first = append(first, g.id+" "+g.status)
		}
	}
	if want := []string{"acme/1/0 opted_in", "acme/2/0 opted_out"}; fmt.Sprint(first) != fmt.Sprint(want) {
		t.Errorf("the customer's changes arrived as %v, want %v", first, want)
	}
	if _, o := obs.snapshot(); fmt.Sprint(o) != "[delivered delivered delivered]" {
		t.Errorf("outcomes %v", o)
	}
	if d := b.deadLetters(t); len(d) != 0 {
		t.Errorf("dead letters: %+v", d)
	}
}

// A 500 is retried, and the customer's next change waits for the retry.
func TestRetriesServerErrorThenSucceeds(t *testing.T) {
	b := newBus(t)
	r := newReceiver(t, status(500), status(502))
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedIn))
	b.publish(t, change("acme/2/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, r.srv.URL, nil)
	waitOutcomes(t, obs, 2)
	var ids []string
	for _, g := range r.requests() {
		ids = append(ids, g.id)
	}
	if want := "[acme/1/0 acme/1/0 acme/1/0 acme/2/0]"; fmt.Sprint(ids) != want {
		t.Errorf("requests %v, want %s", ids, want)
	}
	attempts, outcomes := obs.snapshot()
	if fmt.Sprint(attempts) != "[5xx 5xx 2xx 2xx]" || fmt.Sprint(outcomes) != "[delivered delivered]" {
		t.Errorf("attempts %v, outcomes %v", attempts, outcomes)
	}
}

// A 429 is retried no sooner than its Retry-After.
func TestRespectsRetryAfter(t *testing.T) {
	b := newBus(t)
	r := newReceiver(t, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, r.srv.URL, nil)
	waitOutcomes(t, obs, 1)
	got := r.requests()
	if len(got) != 2 {
		t.Fatalf("%d requests, want 2", len(got))
	}
	if gap := got[1].at.Sub(got[0].at); gap < time.Second {
		t.Errorf("retried %v after a 429 with Retry-After: 1", gap)
	}
	if attempts, _ := obs.snapshot(); fmt.Sprint(attempts) != "[429 2xx]" {
		t.Errorf("attempts %v", attempts)
	}
}

// A 400 is final: one request, then a dead letter with the body, and the
// customer's next change goes on.
func TestClientErrorIsDeadLettered(t *testing.T) {
	b := newBus(t)
	r := newReceiver(t, status(400))
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedIn))
	b.publish(t, change("acme/2/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, r.srv.URL, nil)
	if o := waitOutcomes(t, obs, 2); fmt.Sprint(o) != "[rejected delivered]" {
		t.Errorf("outcomes %v", o)
	}
	if n := len(r.requests()); n != 2 {
		t.Errorf("%d requests, want 2 (no retry of the 400)", n)
	}
	d := b.deadLetters(t)
	if len(d) != 1 {
		t.Fatalf("dead letters %+v", d)
	}
	if d[0].ID != "consent-webhook:acme/1/0" || d[0].Provider != "consent-webhook" ||
		!strings.Contains(d[0].Reason, "400") || !strings.Contains(d[0].Item, `"id":"acme/1/0"`) {
		t.Errorf("dead letter %+v", d[0])
	}
	// The change itself is acknowledged.
	assertNoPending(t, b)
}

// With nobody listening, a change is tried MaxAttempts times, then
// dead-lettered and acknowledged.
func TestServerDownIsRetriedThenDeadLettered(t *testing.T) {
	b := newBus(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String() + "/hooks/consent?token=hidden"
	l.Close() // connection refused from now on
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, url, func(c *consenthook.Config) { c.MaxAttempts = 3 })
	if o := waitOutcomes(t, obs, 1); fmt.Sprint(o) != "[exhausted]" {
		t.Errorf("outcomes %v", o)
	}
	if attempts, _ := obs.snapshot(); fmt.Sprint(attempts) != "[error error error]" {
		t.Errorf("attempts %v", attempts)
	}
	d := b.deadLetters(t)
	if len(d) != 1 || !strings.Contains(d[0].Reason, "3 attempts") {
		t.Fatalf("dead letters %+v", d)
	}
	if strings.Contains(d[0].Reason, "hidden") {
		t.Errorf("the dead letter shows the URL's query: %s", d[0].Reason)
	}
	assertNoPending(t, b)
}

// A redirect is not followed: it is final.
func TestRedirectIsNotFollowed(t *testing.T) {
	b := newBus(t)
	r := newReceiver(t, func(w http.ResponseWriter) {
		w.Header().Set("Location", "https://elsewhere.invalid/")
		w.WriteHeader(http.StatusFound)
	})
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, r.srv.URL, nil)
	if o := waitOutcomes(t, obs, 1); fmt.Sprint(o) != "[rejected]" {
		t.Errorf("outcomes %v", o)
	}
}

func assertNoPending(t *testing.T, b *bus) {
	t.Helper()
	natstest.Eventually(t, 5*time.Second, func() bool {
		c, err := b.js.Consumer(context.Background(), b.out, consenthook.DurableName(b.prefix, "acme"))
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	}, "the consent webhook's consumer has acknowledged everything")
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://crm.example.com/hooks/optinbot": true,
		"http://127.0.0.1:8080/hook":             true,
		"http://localhost/hook":                  true,
		"http://[::1]:9000/hook":                 true,
		"http://crm.example.com/hook":            false,
		"http://10.0.0.1/hook":                   false,
		"ftp://crm.example.com/":                 false,
		"https:///nohost":                        false,
		"crm.example.com/hook":                   false,
	} {
		if _, err := consenthook.CheckURL(raw); (err == nil) != ok {
			t.Errorf("CheckURL(%q) = %v, want ok %v", raw, err, ok)
		}
	}
}

func TestNewRefusesBadTargets(t *testing.T) {
	b := newBus(t)
	for _, tg := range []consenthook.Target{
		{Business: "acme", URL: "http://crm.example.com/", Secret: "s"},
		{Business: "acme", URL: "https://crm.example.com/", Secret: ""},
		{Business: "", URL: "https://crm.example.com/", Secret: "s"},
	} {
		if _, err := consenthook.New(context.Background(), b.js, consenthook.Config{Prefix: b.prefix, Targets: []consenthook.Target{tg}}); err == nil {
			t.Errorf("New accepted %+v", tg)
		}
	}
}

// the JSON posted is exactly the envelope on the bus.
func TestBodyIsTheEnvelope(t *testing.T) {
	b := newBus(t)
	var mu sync.Mutex
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ = io.ReadAll(r.Body)
	}))
	t.Cleanup(srv.Close)
	c := change("acme/1/0", "+14155550100", bot.OptedOut)
	b.publish(t, c)
	obs := start(t, b, srv.URL, nil)
	waitOutcomes(t, obs, 1)
	want, _ := c.MarshalJSON()
	mu.Lock()
	defer mu.Unlock()
	if string(body) != string(want) {
		t.Errorf("posted %s\nwant %s", body, want)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil || m["type"] != "consent_change" {
		t.Errorf("body %s", body)
	}
}

// A customer's change waiting behind a long retry is kept alive: it is
// not redelivered behind the customer's later changes, nor posted twice.
func TestQueuedChangeOutlivesAckWait(t *testing.T) {
	b := newBus(t)
	r := newReceiver(t, status(503), status(503), status(503), status(503))
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedIn))
	b.publish(t, change("acme/2/0", "+14155550100", bot.OptedOut))
	obs := start(t, b, r.srv.URL, func(c *consenthook.Config) {
		c.AckWait = 300 * time.Millisecond
		c.BackoffBase, c.BackoffMax = 300*time.Millisecond, 400*time.Millisecond
	})
	waitOutcomes(t, obs, 2)
	time.Sleep(500 * time.Millisecond) // a redelivery would show by now
	var ids []string
	for _, g := range r.requests() {
		ids = append(ids, g.id)
	}
	if want := "[acme/1/0 acme/1/0 acme/1/0 acme/1/0 acme/1/0 acme/2/0]"; fmt.Sprint(ids) != want {
		t.Errorf("requests %v, want %s", ids, want)
	}
	assertNoPending(t, b)
	c, err := b.js.Consumer(context.Background(), b.out, consenthook.DurableName(b.prefix, "acme"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Delivered.Consumer != 2 {
		t.Errorf("JetStream redelivered changes in hand or queued: %d deliveries of 2 changes", info.Delivered.Consumer)
	}
}

// A change being retried at shutdown is given back, and the next Hook
// posts it before the customer's later change.
func TestShutdownGivesBackInOrder(t *testing.T) {
	b := newBus(t)
	var mu sync.Mutex
	healthy := false
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c, _ := envelope.DecodeConsent(body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c.ID)
		if !healthy {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	b.publish(t, change("acme/1/0", "+14155550100", bot.OptedIn))
	b.publish(t, change("acme/2/0", "+14155550100", bot.OptedOut))
	cfg := consenthook.Config{Prefix: b.prefix, Targets: []consenthook.Target{{Business: "acme", URL: srv.URL, Secret: secret}},
		BackoffBase: 50 * time.Millisecond, BackoffMax: 50 * time.Millisecond, Logger: zerolog.New(zerolog.NewTestWriter(t))}
	h, err := consenthook.New(context.Background(), b.js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.Run(ctx) }()
	natstest.Eventually(t, 5*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 }, "two failed attempts")
	cancel()
	<-done
	mu.Lock()
	for _, id := range got {
		if id != "acme/1/0" {
			t.Errorf("the STOP was posted while the YES before it was failing: %v", got)
		}
	}
	got, healthy = nil, true
	mu.Unlock()

	obs := start(t, b, srv.URL, nil)
	waitOutcomes(t, obs, 2)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "[acme/1/0 acme/2/0]" {
		t.Errorf("after the restart: %v", got)
	}
}
