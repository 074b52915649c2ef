package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

// hookFlow has a utility topic the chat grants and a marketing topic the
// API may grant.
const hookFlow = `name: shop
business: Acme Outfitters
topics:
  orders:
    category: utility
    description: updates about your orders
  deals:
    category: marketing
    description: weekly deals
    granted_by: [api]
templates:
  - {name: shipped, topic: orders}
  - {name: weekly, topic: deals}
states:
  ask:
    prompt: "Would you like updates about your orders from Acme Outfitters on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: orders
        goto: done
  done:
    prompt: All set.
`

// consentHookReceiver is the business's endpoint: it verifies each
// request's signature and keeps the consent changes in arrival order.
type consentHookReceiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	got    []envelope.ConsentChange
	bad    int
	test   bool // a request carried Optinbot-Test
}

func (r *consentHookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := consenthook.VerifySignature(r.secret, req.Header.Get(consenthook.SignatureHeader), body, time.Minute, time.Now()); err != nil {
		r.mu.Lock()
		r.bad++
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	c, err := envelope.DecodeConsent(body)
	if err != nil || req.Header.Get(consenthook.IdempotencyHeader) != c.ID {
		r.t.Errorf("consent webhook body %s (%v), Idempotency-Key %q", body, err, req.Header.Get(consenthook.IdempotencyHeader))
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, c)
	r.test = r.test || req.Header.Get(TestEventHeader) == "true"
	fmt.Fprintln(w, `{"received":true}`)
}

func (r *consentHookReceiver) changes() []envelope.ConsentChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]envelope.ConsentChange(nil), r.got...)
}

// Every kind of consent change, an in-chat YES and STOP (of every topic), an API grant and
// a provider marketing stop, is published on the business's consent
// subject, and `optinbot serve` POSTs each, signed, to the business's
// consent webhook, a customer's STOP after their YES.
func TestServeConsentWebhook(t *testing.T) {
	srv := natstest.RunServer(t)
	dir := t.TempDir()
	flow := filepath.Join(dir, "shop.yaml")
	writeFile(t, flow, hookFlow)
	const secret = "whsec_e2e_secret"
	t.Setenv("ACME_CONSENT_WEBHOOK_SECRET", secret)
	rcv := &consentHookReceiver{t: t, secret: secret}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	metricsAddr, apiAddr := freeAddr(t), freeAddr(t)
	dbPath := filepath.Join(dir, "optinbot.db")
	// A business API key, created as optinbot apikey create does.
	keyStore, err := sqlstore.Open(context.Background(), "sqlite:"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	key, apiToken, err := bot.NewAPIKey("acme", "e2e", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := keyStore.CreateAPIKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	keyStore.Close()
	cfgPath := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store:
  dsn: sqlite:%s
nats:
  url: %s
  subject_prefix: hooks
metrics:
  listen: %s
api:
  listen: %s
businesses:
  - id: acme
    flow: %s
    senders: ["15550001111"]
    consent_webhook:
      url: %s/optinbot/consent
      secret_env: ACME_CONSENT_WEBHOOK_SECRET
`, dbPath, srv.ClientURL(), metricsAddr, apiAddr, flow, hook.URL))
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	_, js := natstest.Connect(t, srv.ClientURL())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, cfg, zerolog.New(logs), prometheus.NewRegistry()) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	_, out := natsbus.StreamNames(cfg.NATS.SubjectPrefix)
	waitUntil(t, func() bool { _, err := js.Stream(ctx, out); return err == nil }, "serve created its streams")
	pub, err := natsbus.NewPublisher(js, cfg.NATS.SubjectPrefix)
	if err != nil {
		t.Fatal(err)
	}
	const alice, bob, carol bot.CustomerID = "+14155550100", "+14155550101", "+14155550102"
	say := func(id, text string) {
		t.Helper()
		if _, err := pub.Inbound(ctx, envelope.InboundMessage{ID: id, Provider: "meta", Sender: "15550001111",
			From: alice, Timestamp: time.Now().UTC(), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	say("wamid.h1", "hi")
	say("wamid.h2", "yes")
	say("wamid.h3", "STOP")

	// Bob: a grant from the business's systems, then a stop in WhatsApp.
	grant := envelope.ConsentGrantEnvelope{ID: "form-1", Business: "acme", Customer: bob, Topic: "deals", Source: bot.SourceAPI,
		Wording: "Yes, send me weekly deals from Acme Outfitters on WhatsApp. Reply STOP to opt out.", At: time.Now().UTC()}
	publishGrant(t, js, pub.Subjects(), grant)
	waitUntil(t, func() bool { return len(consentOn(t, js, out, "hooks.v1.consent.acme", bob)) == 1 }, "the grant's consent change")
	if _, err := pub.Signal(ctx, envelope.ConsentSignal{ID: "up-1", Provider: "meta", Sender: "15550001111", Customer: bob,
		Signal: envelope.ConsentStopMarketing, Timestamp: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}

	// Carol: an opt-in and an opt-out from another channel, recorded
	// through the business API.
	record := func(body string) {
		t.Helper()
		var status int
		waitUntil(t, func() bool {
			req, _ := http.NewRequest(http.MethodPost, "http://"+apiAddr+"/v1/businesses/acme/customers/"+string(carol)+"/consent", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+apiToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return false // the API is not listening yet
			}
			resp.Body.Close()
			status = resp.StatusCode
			return true
		}, "the business API answers")
		if status != http.StatusCreated {
			t.Fatalf("record %s: %d", body, status)
		}
	}
	record(`{"id": "web-1", "action": "opt_in", "topic": "deals", "source": "api", "consented_at": "` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `",
	  "wording": "Yes, send me weekly deals from Acme Outfitters on WhatsApp. Reply STOP to opt out."}`)
	record(`{"id": "web-2", "action": "opt_out", "topic": "deals", "source": "api", "consented_at": "` + time.Now().UTC().Format(time.RFC3339) + `"}`)

	// On the bus.
	waitUntil(t, func() bool {
		return len(consentOn(t, js, out, "hooks.v1.consent.acme", alice)) == 3 && len(consentOn(t, js, out, "hooks.v1.consent.acme", bob)) == 2 &&
			len(consentOn(t, js, out, "hooks.v1.consent.acme", carol)) == 2
	}, "the consent changes on the consent subject")
	describe := func(cs []envelope.ConsentChange) string {
		var s []string
		for _, c := range cs {
			s = append(s, fmt.Sprintf("%s %s %s", c.Topic, c.Status, c.Source))
		}
		return strings.Join(s, "; ")
	}
	if got, want := describe(consentOn(t, js, out, "hooks.v1.consent.acme", alice)), "orders opted_in in_channel; orders opted_out in_channel; deals opted_out in_channel"; got != want {
		t.Errorf("alice on the bus: %s, want %s", got, want)
	}
	if got, want := describe(consentOn(t, js, out, "hooks.v1.consent.acme", bob)), "deals opted_in api; deals opted_out provider"; got != want {
		t.Errorf("bob on the bus: %s, want %s", got, want)
	}
	if got, want := describe(consentOn(t, js, out, "hooks.v1.consent.acme", carol)), "deals opted_in api; deals opted_out api"; got != want {
		t.Errorf("carol on the bus: %s, want %s", got, want)
	}

	// At the business's webhook, signed, each customer's in order.
	waitUntil(t, func() bool { return len(rcv.changes()) >= 7 }, "seven consent changes at the webhook")
	perCustomer := map[bot.CustomerID][]envelope.ConsentChange{}
	for _, c := range rcv.changes() {
		perCustomer[c.Customer] = append(perCustomer[c.Customer], c)
	}
	if got, want := describe(perCustomer[alice]), "orders opted_in in_channel; orders opted_out in_channel; deals opted_out in_channel"; got != want {
		t.Errorf("alice at the webhook: %s, want %s", got, want)
	}
	if got, want := describe(perCustomer[bob]), "deals opted_in api; deals opted_out provider"; got != want {
		t.Errorf("bob at the webhook: %s, want %s", got, want)
	}
	if got, want := describe(perCustomer[carol]), "deals opted_in api; deals opted_out api"; got != want {
		t.Errorf("carol at the webhook: %s, want %s", got, want)
	}
	if stop := perCustomer[alice]; len(stop) == 3 && (stop[1].Trigger != "keyword STOP" || stop[1].InboundID != "wamid.h3") {
		t.Errorf("the STOP's evidence: %+v", stop[1])
	}
	rcv.mu.Lock()
	if rcv.bad != 0 {
		t.Errorf("%d requests with a bad signature", rcv.bad)
	}
	rcv.mu.Unlock()

	wantMetrics := []string{
		`optinbot_consent_webhook_deliveries_total{business="acme",outcome="delivered"} 7`,
		`optinbot_consent_webhook_attempts_total{business="acme",result="2xx"} 7`,
		`optinbot_consent_webhook_request_seconds_count{business="acme"} 7`,
	}
	var body string
	waitUntil(t, func() bool {
		body = scrape(t, "http://"+metricsAddr+"/metrics")
		for _, want := range wantMetrics {
			if !strings.Contains(body, want) {
				return false
			}
		}
		return true
	}, "the consent webhook's metrics count seven deliveries")
	for _, secretText := range []string{string(alice), "14155550101", "14155550102", secret, apiToken} {
		if strings.Contains(logs.String(), secretText) {
			t.Errorf("the logs contain %q", secretText)
		}
	}

	// optinbot webhook test sends a signed sample to the same receiver.
	stdout, _, err := runCLI(t, "", "webhook", "test", "--config", cfgPath, "--business", "acme")
	if err != nil {
		t.Fatalf("webhook test: %v\n%s", err, stdout)
	}
	if !strings.Contains(stdout, "200 OK") || !strings.Contains(stdout, `{"received":true}`) || !strings.Contains(stdout, "Optinbot-Signature: t=") {
		t.Errorf("webhook test printed:\n%s", stdout)
	}
	rcv.mu.Lock()
	if !rcv.test || rcv.bad != 0 {
		t.Errorf("the sample: marked as a test %v, bad signatures %d", rcv.test, rcv.bad)
	}
	rcv.mu.Unlock()
	if _, _, err := runCLI(t, "", "webhook", "test", "--config", cfgPath, "--business", "globex"); err == nil ||
		!strings.Contains(err.Error(), `business "globex" has no consent_webhook`) {
		t.Errorf("webhook test of a business without a webhook: %v", err)
	}
}

// publishGrant publishes a consent grant the way a business's systems do.
func publishGrant(t *testing.T, js jetstream.JetStream, s envelope.Subjects, g envelope.ConsentGrantEnvelope) {
	t.Helper()
	data, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(s.Grant(string(g.Business)))
	msg.Header.Set(jetstream.MsgIDHeader, g.MsgID())
	msg.Data = data
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// consentOn returns a customer's consent changes on a subject, in stream
// order.
func consentOn(t *testing.T, js jetstream.JetStream, stream, subject string, customer bot.CustomerID) []envelope.ConsentChange {
	t.Helper()
	var out []envelope.ConsentChange
	for _, m := range natstest.Messages(t, js, stream) {
		if m.Subject != subject {
			continue
		}
		c, err := envelope.DecodeConsent(m.Data)
		if err != nil {
			t.Fatalf("consent change: %v", err)
		}
		if c.Customer == customer {
			out = append(out, c)
		}
	}
	return out
}

// A webhook answering 401 to `optinbot webhook test` exits 1 with the
// answer printed.
func TestWebhookTestCommandFailure(t *testing.T) {
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "signature does not match", http.StatusUnauthorized)
	}))
	t.Cleanup(hook.Close)
	dir := t.TempDir()
	flow, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "secret"), "s3cret\n")
	cfgPath := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf("store:\n  dsn: sqlite:x.db\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n"+
		"    consent_webhook:\n      url: %s\n      secret_file: secret\n", flow, hook.URL))
	stdout, _, err := runCLI(t, "", "webhook", "test", "--config", cfgPath, "--business", "acme")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(stdout, "401 Unauthorized") || !strings.Contains(stdout, "signature does not match") {
		t.Errorf("err %v, stdout:\n%s", err, stdout)
	}
}
