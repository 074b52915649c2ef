package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/storetest"
)

const (
	e2eAppSecret   = "e2e-app-secret"
	e2ePhoneNumber = "106540352242922"
	e2eToken       = "EAA-e2e-token"
)

// fakeGraph stands in for Meta's Graph API on loopback: it records every
// request and fails the test on any request that is not a send.
type fakeGraph struct {
	t    *testing.T
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []string // request bodies, in order
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{t: t}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/v21.0/"+e2ePhoneNumber+"/messages" ||
			r.Header.Get("Authorization") != "Bearer "+e2eToken || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("unexpected request to the provider: %s %s %v %s", r.Method, r.URL, r.Header, body)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		g.mu.Lock()
		g.reqs = append(g.reqs, string(body))
		n := len(g.reqs)
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"14155550100","wa_id":"14155550100"}],"messages":[{"id":"wamid.out%d"}]}`, n)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) requests() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.reqs...)
}

// metaWebhook is a Meta webhook body carrying one message from the customer.
func metaWebhook(id, message string) []byte {
	return []byte(`{"object":"whatsapp_business_account","entry":[{"id":"310527784410236","changes":[{"field":"messages","value":{` +
		`"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550101234","phone_number_id":"` + e2ePhoneNumber + `"},` +
		`"contacts":[{"profile":{"name":"Ana"},"wa_id":"14155550100"}],` +
		`"messages":[{"from":"14155550100","id":"` + id + `","timestamp":"` + fmt.Sprint(time.Now().Unix()) + `",` + message + `}]}}]}]}`)
}

func postSigned(t *testing.T, url string, body []byte, secret string) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// e2eConfig is a serve configuration on the machine's NATS and PostgreSQL,
// with the Meta adapter pointed at the fake Graph API.
func e2eConfig(t *testing.T, graphURL string) (*Config, string) {
	t.Helper()
	flowPath, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPTINBOT_E2E_DSN", storetest.PostgresDSN(t))
	t.Setenv("OPTINBOT_E2E_META_SECRET", e2eAppSecret)
	t.Setenv("OPTINBOT_E2E_META_TOKEN", e2eToken)
	prefix := natstest.Prefix(t)
	listen := freeAddr(t)
	path := filepath.Join(t.TempDir(), "optinbot.yaml")
	writeFile(t, path, fmt.Sprintf(`store:
  dsn: ${OPTINBOT_E2E_DSN}
nats:
  url: %s
  subject_prefix: %s
metrics:
  listen: ""
webhooks:
  listen: %s
providers:
  meta:
    app_secret: ${OPTINBOT_E2E_META_SECRET}
    verify_token: e2e-verify
    access_token: ${OPTINBOT_E2E_META_TOKEN}
    base_url: %s
    senders: ["%s"]
businesses:
  - id: acme
    flow: %s
    senders: ["%s"]
`, natstest.RealServer(t), prefix, listen, graphURL, e2ePhoneNumber, flowPath, e2ePhoneNumber))
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, "http://" + listen + webhookPath("meta")
}

// A signed webhook goes through NATS JetStream (the machine's server), the
// engine and the sender, and the fake provider receives exactly the
// expected requests: the opt-in question, the confirmation, a template
// after YES, the STOP confirmation, and nothing after STOP.
func TestWebhookToProviderEndToEnd(t *testing.T) {
	graph := newFakeGraph(t)
	cfg, hookURL := e2eConfig(t, graph.srv.URL)
	_, js := natstest.Connect(t, cfg.NATS.URL)
	in, out := natsbus.StreamNames(cfg.NATS.SubjectPrefix)
	natstest.DeleteStreamsAtCleanup(t, js, in, out)
	t.Cleanup(func() { _ = js.DeleteKeyValue(context.Background(), natsbus.SentBucketName(cfg.NATS.SubjectPrefix)) })

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), prometheus.NewRegistry())
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	waitUntil(t, func() bool {
		resp, err := http.Get(strings.TrimSuffix(hookURL, webhookPath("meta")) + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}, "the webhook server listens")
	expect := func(n int) []string {
		t.Helper()
		waitUntil(t, func() bool { return len(graph.requests()) >= n }, fmt.Sprintf("%d provider requests", n))
		return graph.requests()
	}
	welcome := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"interactive","interactive":{"type":"button","body":{"text":"Hi, thanks for writing to Acme Outfitters! Would you like to get updates about your orders (confirmation, shipping and delivery) from Acme Outfitters here on WhatsApp? Reply YES to opt in. You can reply STOP at any time to opt out."},"action":{"buttons":[{"type":"reply","reply":{"id":"optin_yes","title":"Yes, send updates"}},{"type":"reply","reply":{"id":"optin_no","title":"No thanks"}}]}},"biz_opaque_callback_data":"` + e2eEffectID("wamid.e2e1", 0) + `"}`

	// An unsigned or wrongly signed webhook is refused before parsing.
	if code := postSigned(t, hookURL, metaWebhook("wamid.e2e0", `"type":"text","text":{"body":"hi"}`), "wrong-secret"); code != http.StatusUnauthorized {
		t.Errorf("wrongly signed webhook: HTTP %d, want 401", code)
	}
	body := metaWebhook("wamid.e2e1", `"type":"text","text":{"body":"hi"}`)
	if code := postSigned(t, hookURL, body, e2eAppSecret); code != http.StatusOK {
		t.Fatalf("webhook: HTTP %d", code)
	}
	postSigned(t, hookURL, body, e2eAppSecret) // Meta retries: changes nothing
	if got := expect(1); got[0] != welcome {
		t.Errorf("reply request\n got %s\nwant %s", got[0], welcome)
	}

	if code := postSigned(t, hookURL, metaWebhook("wamid.e2e2",
		`"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"optin_yes","title":"Yes, send updates"}}`), e2eAppSecret); code != http.StatusOK {
		t.Fatalf("webhook: HTTP %d", code)
	}
	thanks := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"text","text":{"body":"Thanks! You'll get order updates from Acme Outfitters here on WhatsApp. Reply STOP at any time to unsubscribe, or HELP for help.","preview_url":false},"biz_opaque_callback_data":"` + e2eEffectID("wamid.e2e2", 1) + `"}`
	if got := expect(2); got[1] != thanks {
		t.Errorf("confirmation request\n got %s\nwant %s", got[1], thanks)
	}

	pub, err := natsbus.NewPublisher(js, cfg.NATS.SubjectPrefix)
	if err != nil {
		t.Fatal(err)
	}
	request := func(id string) {
		t.Helper()
		if _, err := pub.SendRequest(ctx, envelope.SendRequest{ID: id, Business: "acme", To: "+14155550100",
			Kind: bot.KindTemplate, Template: "shipped", Params: map[string]string{"1": "Ana", "2": "ZX-2291"}}); err != nil {
			t.Fatal(err)
		}
	}
	request("req-1")
	template := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"template","template":{"name":"shipped","language":{"code":"en"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"ZX-2291"}]}]},"biz_opaque_callback_data":"acme/send:req-1/0"}`
	if got := expect(3); got[2] != template {
		t.Errorf("template request\n got %s\nwant %s", got[2], template)
	}

	if code := postSigned(t, hookURL, metaWebhook("wamid.e2e3", `"type":"text","text":{"body":"STOP"}`), e2eAppSecret); code != http.StatusOK {
		t.Fatalf("webhook: HTTP %d", code)
	}
	stopped := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"text","text":{"body":"You're unsubscribed from Acme Outfitters on WhatsApp and won't get more messages from us. Reply START to subscribe again.","preview_url":false},"biz_opaque_callback_data":"` + e2eEffectID("wamid.e2e3", 1) + `"}`
	if got := expect(4); got[3] != stopped {
		t.Errorf("STOP confirmation request\n got %s\nwant %s", got[3], stopped)
	}
	request("req-2")
	waitForDecision(t, js, out, "req-2", bot.ReasonOptedOut)
	time.Sleep(300 * time.Millisecond)
	if got := graph.requests(); len(got) != 4 {
		t.Errorf("%d provider requests, want 4 (nothing after STOP, nothing twice): %v", len(got), got[4:])
	}
}

// waitForDecision waits for the engine's refusal of a send request.
func waitForDecision(t *testing.T, js jetstream.JetStream, stream, requestID string, reason bot.Reason) {
	t.Helper()
	waitUntil(t, func() bool {
		for _, m := range natstest.Messages(t, js, stream) {
			v, err := envelope.Decode(m.Data)
			if d, ok := v.(envelope.SendDecision); err == nil && ok && d.RequestID == requestID {
				if d.Allowed || d.Reason != reason {
					t.Fatalf("decision for %s: %+v, want refused %s", requestID, d, reason)
				}
				return true
			}
		}
		return false
	}, "the decision for "+requestID)
}

// `optinbot adapter meta` alone: the handshake answers, and a signed
// webhook's envelope lands on NATS for an engine running elsewhere.
func TestAdapterAloneSmoke(t *testing.T) {
	graph := newFakeGraph(t)
	cfg, _ := e2eConfig(t, graph.srv.URL)
	cfg.Webhooks.Listen = "127.0.0.1:0"
	_, js := natstest.Connect(t, cfg.NATS.URL)
	in, out := natsbus.StreamNames(cfg.NATS.SubjectPrefix)
	natstest.DeleteStreamsAtCleanup(t, js, in, out)
	t.Cleanup(func() { _ = js.DeleteKeyValue(context.Background(), natsbus.SentBucketName(cfg.NATS.SubjectPrefix)) })

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- runAdapter(ctx, cfg, "meta", zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel),
			prometheus.NewRegistry(), func(addr string) { addrs <- addr })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("adapter: %v", err)
		}
	})
	var base string
	select {
	case addr := <-addrs:
		base = "http://" + addr
	case err := <-done:
		t.Fatalf("adapter stopped: %v", err)
	}
	resp, err := http.Get(base + webhookPath("meta") + "?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=1158201444")
	if err != nil {
		t.Fatal(err)
	}
	challenge, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(challenge) != "1158201444" {
		t.Errorf("handshake: HTTP %d %q", resp.StatusCode, challenge)
	}
	if code := postSigned(t, base+webhookPath("meta"), metaWebhook("wamid.alone1", `"type":"text","text":{"body":"hi"}`), e2eAppSecret); code != http.StatusOK {
		t.Fatalf("webhook: HTTP %d", code)
	}
	msgs := natstest.Messages(t, js, in)
	if len(msgs) != 1 {
		t.Fatalf("IN holds %d messages, want the one inbound envelope", len(msgs))
	}
	m, err := envelope.DecodeInbound(msgs[0].Data)
	if err != nil || m.ID != "wamid.alone1" || m.From != "+14155550100" || m.Sender != e2ePhoneNumber || m.Text != "hi" {
		t.Errorf("envelope %+v (%v)", m, err)
	}
	if len(graph.requests()) != 0 {
		t.Errorf("the adapter alone called the provider: %v", graph.requests())
	}
}

// e2eEffectID is the id of the nth effect of the customer's message id:
// the business, the message's dedup id (provider, customer digest, id).
func e2eEffectID(wamid string, n int) string {
	return fmt.Sprintf("acme/%s/%d", bot.DedupID(bot.InputInbound, "meta", "+14155550100", wamid), n)
}
