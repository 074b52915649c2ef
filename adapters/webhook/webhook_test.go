package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
)

var _ Publisher = (*natsbus.Publisher)(nil)

// testProvider is a tiny provider dialect: the body is
//
//	{"items":[{"kind":"msg","id","from","text","ts"},{"kind":"status","id","to","status","ts"},
//	          {"kind":"quality","id","ts"}]}
//
// signed with X-Sig: hex HMAC-SHA256 of the body. An item of another kind
// is a dead letter.
type testProvider struct {
	secret    []byte
	handshake bool
}

const testSender = "15550001111"

type testItem struct {
	Kind   string `json:"kind"`
	ID     string `json:"id"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Text   string `json:"text,omitempty"`
	Status string `json:"status,omitempty"`
	TS     int64  `json:"ts"`
}

func (p *testProvider) Name() string { return "testprov" }

func (p *testProvider) sign(body []byte) string {
	m := hmac.New(sha256.New, p.secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func (p *testProvider) Verify(r *http.Request, body []byte) error {
	got, err := hex.DecodeString(r.Header.Get("X-Sig"))
	if err != nil || !hmac.Equal(got, mustHex(p.sign(body))) {
		return fmt.Errorf("testprov: bad X-Sig: %w", envelope.ErrUnauthorized)
	}
	return nil
}

func mustHex(s string) []byte { b, _ := hex.DecodeString(s); return b }

func (p *testProvider) Parse(body []byte, receivedAt time.Time) (envelope.Batch, error) {
	var doc struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return envelope.Batch{}, fmt.Errorf("testprov: body is not JSON: %v", err)
	}
	var b envelope.Batch
	for i, raw := range doc.Items {
		var it testItem
		_ = json.Unmarshal(raw, &it)
		ts := time.Unix(it.TS, 0).UTC()
		switch it.Kind {
		case "msg":
			b.Inbound = append(b.Inbound, envelope.InboundMessage{ID: it.ID, Provider: p.Name(), Sender: testSender,
				From: bot.CustomerID(it.From), Timestamp: ts, Text: it.Text})
		case "status":
			b.Statuses = append(b.Statuses, envelope.DeliveryStatus{ID: it.ID, Provider: p.Name(), Sender: testSender,
				To: bot.CustomerID(it.To), Status: it.Status, Timestamp: ts})
		case "quality":
			b.Events = append(b.Events, envelope.ProviderEvent{ID: it.ID, Provider: p.Name(), Sender: testSender,
				Event: envelope.EventQualityUpdate, Timestamp: ts})
		default:
			b.DeadLetters = append(b.DeadLetters, envelope.DeadLetter{ID: fmt.Sprintf("testprov:%s", it.ID), Provider: p.Name(),
				Sender: testSender, Reason: fmt.Sprintf("items[%d]: unknown kind %q", i, it.Kind), Item: string(raw), ReceivedAt: receivedAt})
		}
	}
	return b, nil
}

// handshaker adds a Meta-like GET verification.
type handshaker struct{ testProvider }

func (h *handshaker) Handshake(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("token") != "tok" {
		http.Error(w, "no", http.StatusForbidden)
		return
	}
	_, _ = io.WriteString(w, r.URL.Query().Get("challenge"))
}

// acker answers with TwiML, like Twilio wants.
type acker struct{ testProvider }

func (a *acker) Acknowledge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "<Response/>")
}

func body(items ...testItem) []byte {
	b, _ := json.Marshal(map[string]any{"items": items})
	return b
}

func msg(id, from, text string) testItem {
	return testItem{Kind: "msg", ID: id, From: from, Text: text, TS: 1767259800}
}

// env is one test's NATS and handler.
type env struct {
	t        *testing.T
	js       jetstream.JetStream
	streams  natsbus.Streams
	provider *testProvider
	handler  http.Handler
	logs     *logBuffer
	observer *countingObserver
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

type countingObserver struct {
	mu       sync.Mutex
	requests map[Outcome]int
	items    map[string]int
}

func (o *countingObserver) ObserveRequest(provider string, outcome Outcome, elapsed time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests[outcome]++
}

func (o *countingObserver) ObserveItems(provider, itemType string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.items[itemType] += n
}

func newEnv(t *testing.T, url string, p Provider, cfg Config) *env {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	prefix := natstest.Prefix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	streams, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := natsbus.NewPublisher(js, prefix)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, js: js, streams: streams, logs: &logBuffer{},
		observer: &countingObserver{requests: map[Outcome]int{}, items: map[string]int{}}}
	cfg.Logger = zerolog.New(e.logs).Level(zerolog.DebugLevel)
	cfg.Observer = e.observer
	e.handler = NewHandler(p, pub, cfg)
	return e
}

func newTestEnv(t *testing.T, cfg Config) *env {
	p := &testProvider{secret: []byte("s3cret")}
	e := newEnv(t, natstest.RunServer(t).ClientURL(), p, cfg)
	e.provider = p
	return e
}

// post sends a body, signed unless sig is given, and returns the response.
func (e *env) post(body []byte, sig ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/webhook/testprov", bytes.NewReader(body))
	if len(sig) > 0 {
		r.Header.Set("X-Sig", sig[0])
	} else {
		r.Header.Set("X-Sig", e.provider.sign(body))
	}
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	return w
}

func (e *env) messages(stream string) []natstest.Stored { return natstest.Messages(e.t, e.js, stream) }

func expectStatus(t *testing.T, w *httptest.ResponseRecorder, want int) {
	t.Helper()
	if w.Code != want {
		t.Fatalf("status %d, want %d (body %q)", w.Code, want, w.Body.String())
	}
}

// TestSignedBodyPublished: a signed body's items are on their streams and
// subjects, with their msg ids, before the 200.
func TestSignedBodyPublished(t *testing.T) {
	e := newTestEnv(t, Config{})
	w := e.post(body(
		msg("wamid.1", "+14155550100", "hello there"),
		testItem{Kind: "status", ID: "wamid.out1", To: "+14155550100", Status: "delivered", TS: 1767259900},
		testItem{Kind: "quality", ID: "q1", TS: 1767259900},
	))
	expectStatus(t, w, http.StatusOK)
	s := e.streams.Subjects
	in := e.messages(e.streams.In)
	if len(in) != 2 || in[0].MsgID != inID("wamid.1", "+14155550100") || in[0].Subject != s.Inbound(testSender) ||
		in[1].MsgID != "status:wamid.out1:delivered" || in[1].Subject != s.Status(testSender) {
		t.Errorf("IN holds %+v", in)
	}
	m, err := envelope.DecodeInbound(in[0].Data)
	if err != nil || m.Text != "hello there" || m.From != "+14155550100" || m.Provider != "testprov" {
		t.Errorf("inbound %+v, %v", m, err)
	}
	out := e.messages(e.streams.Out)
	if len(out) != 1 || out[0].MsgID != "event:q1" || out[0].Subject != s.Event(testSender) {
		t.Errorf("OUT holds %+v", out)
	}
	e.observer.mu.Lock()
	defer e.observer.mu.Unlock()
	if e.observer.requests[OutcomeOK] != 1 || e.observer.items[envelope.TypeInbound] != 1 ||
		e.observer.items[envelope.TypeStatus] != 1 || e.observer.items[envelope.TypeEvent] != 1 {
		t.Errorf("observer: %v %v", e.observer.requests, e.observer.items)
	}
}

// TestUnauthorized: a body without or with a wrong signature is 401,
// nothing is published, and the log holds neither the body nor the number.
func TestUnauthorized(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := body(msg("wamid.1", "+14155550100", "my secret words"))
	expectStatus(t, e.post(b, ""), http.StatusUnauthorized)
	expectStatus(t, e.post(b, e.provider.sign([]byte("other"))), http.StatusUnauthorized)
	if n := len(e.messages(e.streams.In)); n != 0 {
		t.Errorf("%d messages published", n)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "unauthorized") {
		t.Errorf("no log of the refusal:\n%s", logs)
	}
	for _, secret := range []string{"my secret words", "4155550100"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log reveals %q:\n%s", secret, logs)
		}
	}
	if e.observer.requests[OutcomeUnauthorized] != 2 {
		t.Errorf("observer: %v", e.observer.requests)
	}
}

// TestUnreadableBody: a signed body the provider cannot parse is 400,
// logged without the body.
func TestUnreadableBody(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := []byte(`{"items":[{"kind":"msg","text":"my secret words"`)
	expectStatus(t, e.post(b), http.StatusBadRequest)
	if n := len(e.messages(e.streams.In)); n != 0 {
		t.Errorf("%d messages published", n)
	}
	if logs := e.logs.String(); strings.Contains(logs, "my secret words") || !strings.Contains(logs, "unreadable") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestBodyTooLarge: over MaxBody is 413, whether announced by
// Content-Length or not.
func TestBodyTooLarge(t *testing.T) {
	e := newTestEnv(t, Config{MaxBody: 1024})
	big := body(msg("wamid.1", "+14155550100", strings.Repeat("x", 2000)))
	expectStatus(t, e.post(big), http.StatusRequestEntityTooLarge)

	r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(bytes.NewReader(big)))
	r.ContentLength = -1
	r.Header.Set("X-Sig", e.provider.sign(big))
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, r)
	expectStatus(t, w, http.StatusRequestEntityTooLarge)

	expectStatus(t, e.post(body(msg("wamid.2", "+14155550100", "small"))), http.StatusOK)
	if n := len(e.messages(e.streams.In)); n != 1 {
		t.Errorf("%d messages published, want the small one", n)
	}
}

// TestMethods: GET without a Handshaker and other methods are 405; with a
// Handshaker GET is its answer; an Acknowledger writes the 200.
func TestMethods(t *testing.T) {
	e := newTestEnv(t, Config{})
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodHead} {
		w := httptest.NewRecorder()
		e.handler.ServeHTTP(w, httptest.NewRequest(m, "/", nil))
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "POST" {
			t.Errorf("%s: %d, Allow %q", m, w.Code, w.Header().Get("Allow"))
		}
	}

	srv := natstest.RunServer(t)
	hs := &handshaker{testProvider{secret: []byte("k")}}
	he := newEnv(t, srv.ClientURL(), hs, Config{})
	w := httptest.NewRecorder()
	he.handler.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/?token=tok&challenge=1158201444", nil))
	if w.Code != http.StatusOK || w.Body.String() != "1158201444" {
		t.Errorf("handshake: %d %q", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	he.handler.ServeHTTP(w, httptest.NewRequest(http.MethodDelete, "/", nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, POST" {
		t.Errorf("DELETE with a handshaker: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}

	ak := &acker{testProvider{secret: []byte("k")}}
	ae := newEnv(t, srv.ClientURL(), ak, Config{})
	ae.provider = &ak.testProvider
	w = ae.post(body(msg("SM1", "+14155550100", "hi")))
	if w.Code != http.StatusOK || w.Body.String() != "<Response/>" || w.Header().Get("Content-Type") != "text/xml" {
		t.Errorf("acknowledger: %d %q %q", w.Code, w.Body.String(), w.Header().Get("Content-Type"))
	}
}

// TestDeadLetters: an item the provider cannot normalise, and one it let
// through invalid, are dead letters on deadletter.<provider>; the rest of
// the body goes through and the answer is 200.
func TestDeadLetters(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := body(
		msg("wamid.1", "+14155550100", "fine"),
		testItem{Kind: "sticker-pack", ID: "wamid.odd", TS: 1767259800},
		msg("wamid.2", "14155550100", "no plus: invalid customer"),
	)
	expectStatus(t, e.post(b), http.StatusOK)
	in := e.messages(e.streams.In)
	if len(in) != 1 || in[0].MsgID != inID("wamid.1", "+14155550100") {
		t.Errorf("IN holds %+v", in)
	}
	out := e.messages(e.streams.Out)
	if len(out) != 2 {
		t.Fatalf("OUT holds %d messages, want 2 dead letters: %+v", len(out), out)
	}
	var reasons []string
	for _, m := range out {
		if m.Subject != e.streams.Subjects.DeadLetter("testprov") {
			t.Errorf("dead letter on %s", m.Subject)
		}
		d, err := envelope.DecodeDeadLetter(m.Data)
		if err != nil {
			t.Fatalf("dead letter does not decode: %v", err)
		}
		if m.MsgID != d.MsgID() || d.Provider != "testprov" || d.Item == "" || d.ReceivedAt.IsZero() {
			t.Errorf("dead letter %+v (msg id %s)", d, m.MsgID)
		}
		reasons = append(reasons, d.Reason)
	}
	slices.Sort(reasons)
	if !strings.Contains(reasons[0], `field "from"`) || !strings.Contains(reasons[1], "unknown kind") {
		t.Errorf("reasons %q", reasons)
	}
	// The retried body dead-letters nothing new: the ids are stable.
	expectStatus(t, e.post(b), http.StatusOK)
	if n := len(e.messages(e.streams.Out)); n != 2 {
		t.Errorf("after a retry OUT holds %d messages, want 2", n)
	}
}

// TestDuplicates: an item twice in one body is published once, and the
// provider's redelivery of the same body later is dropped by the stream;
// the same message id from another customer is another message.
func TestDuplicates(t *testing.T) {
	e := newTestEnv(t, Config{})
	b := body(msg("wamid.1", "+14155550100", "hi"), msg("wamid.1", "+14155550100", "hi"), msg("wamid.2", "+14155550100", "again"),
		msg("wamid.1", "+14155550101", "hi from another customer"))
	expectStatus(t, e.post(b), http.StatusOK)
	expectStatus(t, e.post(b), http.StatusOK)
	counts := natstest.CountByMsgID(t, e.js, e.streams.In)
	if len(counts) != 3 || counts[inID("wamid.1", "+14155550100")] != 1 || counts[inID("wamid.2", "+14155550100")] != 1 ||
		counts[inID("wamid.1", "+14155550101")] != 1 {
		t.Errorf("IN holds %v, want wamid.1 and wamid.2 of the customer and wamid.1 of the other once each", counts)
	}
	if e.observer.items[envelope.TypeInbound] != 6 { // 3 per request: the in-body repeat is not counted
		t.Errorf("observer items %v", e.observer.items)
	}
}

// TestNATSDown: with NATS down the answer is 503 (within PublishTimeout),
// nothing is lost: once NATS is back the provider's retry is 200 and the
// stream holds exactly one copy.
func TestNATSDown(t *testing.T) {
	dir := t.TempDir()
	srv := natstest.StartServer(t, 0, dir)
	port := srv.Addr().(*net.TCPAddr).Port
	p := &testProvider{secret: []byte("s3cret")}
	e := newEnv(t, srv.ClientURL(), p, Config{PublishTimeout: 500 * time.Millisecond})
	e.provider = p

	expectStatus(t, e.post(body(msg("wamid.before", "+14155550100", "before"))), http.StatusOK)

	srv.Shutdown()
	srv.WaitForShutdown()
	b := body(msg("wamid.1", "+14155550100", "hi"), testItem{Kind: "status", ID: "wamid.out", To: "+14155550101", Status: "read", TS: 1767259900})
	start := time.Now()
	w := e.post(b)
	expectStatus(t, w, http.StatusServiceUnavailable)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("503 after %v", d)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if !strings.Contains(e.logs.String(), "503") {
		t.Errorf("outage not logged:\n%s", e.logs.String())
	}

	srv2 := natstest.StartServer(t, port, dir)
	_ = srv2
	// The client reconnects on its own; the provider retries until 200.
	natstest.Eventually(t, 15*time.Second, func() bool { return e.post(b).Code == http.StatusOK }, "no 200 after NATS came back")
	counts := natstest.CountByMsgID(t, e.js, e.streams.In)
	want := map[string]int{inID("wamid.before", "+14155550100"): 1, inID("wamid.1", "+14155550100"): 1, "status:wamid.out:read": 1}
	if len(counts) != len(want) {
		t.Errorf("IN holds %v, want %v", counts, want)
	}
	for id, n := range want {
		if counts[id] != n {
			t.Errorf("IN holds %s %d times, want %d (all %v)", id, counts[id], n, counts)
		}
	}
	if e.observer.requests[OutcomeUnavailable] < 1 {
		t.Errorf("observer %v", e.observer.requests)
	}
}

// failingPublisher fails every publish.
type failingPublisher struct{}

func (failingPublisher) PublishBatch(ctx context.Context, b envelope.Batch) (int, error) {
	return 0, errors.New("nats: no responders available for request")
}

// TestVerifyErrors: a Verify error that is not ErrUnauthorized is 500;
// a publish failure is 503.
func TestVerifyErrors(t *testing.T) {
	p := &brokenVerifier{}
	h := NewHandler(p, failingPublisher{}, Config{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	expectStatus(t, w, http.StatusInternalServerError)

	p.ok = true
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body(msg("w1", "+14155550100", "x"))))))
	expectStatus(t, w, http.StatusServiceUnavailable)
}

type brokenVerifier struct {
	testProvider
	ok bool
}

func (b *brokenVerifier) Verify(r *http.Request, body []byte) error {
	if b.ok {
		return nil
	}
	return errors.New("secret store unreachable")
}

// TestPrepare: the in-body dedup keys by stream and msg id, dead letters
// missing fields get them, and a dead letter with an unusable id gets a
// stable one.
func TestPrepare(t *testing.T) {
	h := NewHandler(&testProvider{}, failingPublisher{}, Config{}).(*handler)
	at := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	b := envelope.Batch{
		Statuses: []envelope.DeliveryStatus{
			{ID: "w1", Sender: "s", To: "+14155550100", Status: "sent", Timestamp: at},
			{ID: "w1", Sender: "s", To: "+14155550100", Status: "delivered", Timestamp: at},
			{ID: "w1", Sender: "s", To: "+14155550100", Status: "sent", Timestamp: at},
		},
		DeadLetters: []envelope.DeadLetter{{ID: "bad\nid", Item: "{}"}, {ID: "bad\nid", Item: "{}"}},
	}
	got, invalid := h.prepare(b, at)
	if invalid != 0 || len(got.Statuses) != 2 || len(got.DeadLetters) != 1 {
		t.Fatalf("prepare: %d invalid, %+v", invalid, got)
	}
	d := got.DeadLetters[0]
	if err := d.Validate(); err != nil || d.Provider != "testprov" || !d.ReceivedAt.Equal(at) || !strings.HasPrefix(d.ID, "testprov:dead:") {
		t.Errorf("dead letter %+v: %v", d, err)
	}
	again, _ := h.prepare(b, at.Add(time.Hour))
	if again.DeadLetters[0].ID != d.ID {
		t.Error("dead-letter id not stable across a retry")
	}
}

// inID is the Nats-Msg-Id of the test provider's inbound message.
func inID(id, from string) string {
	return bot.DedupID(bot.InputInbound, "testprov", bot.CustomerID(from), id)
}
