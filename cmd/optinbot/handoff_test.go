package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
	"github.com/optinbot/optinbot/store/storetest"
)

// simulate prints every handoff effect as a JSON object of its own type,
// never {"type":""}, and takes an agent's hand back as an input line.
func TestSimulateHandoff(t *testing.T) {
	flow := filepath.Join("..", "..", "flows", "examples", "appointments.yaml")
	in := `{"from":"+14155550100","text":"hi"}
{"from":"+14155550100","text":"person"}
{"from":"+14155550100","text":"are you there?"}
{"release":{"customer":"+14155550100","agent":"sam"}}
{"from":"+14155550100","text":"person"}
{"advance":"2h"}
`
	out, _, err := runCLI(t, in, "simulate", "--flow", flow)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct {
			Type, Queue, Reason, Resume, Until string
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if o.Type == "" {
			t.Errorf("a line without a type: %s", line)
		}
		if strings.HasPrefix(o.Type, "handoff") && o.Queue != "front-desk" {
			t.Errorf("handoff line without its queue: %s", line)
		}
		types = append(types, o.Type)
	}
	want := "reply reply handoff handoff_message handoff_ended reply reply reply handoff handoff_ended reply reply"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("simulate printed\n%s\nwant types %s, got %s", out, want, got)
	}
}

// serve against the real NATS server and PostgreSQL: a handoff publishes
// the customer's notice and a handoff_request, the customer's next message
// goes to the agents as handoff_message, and an agent hands back with a
// handoff_release on NATS, then with the HTTP API.
func TestServeHandoff(t *testing.T) {
	natsURL := natstest.RealServer(t)
	dsn := storetest.PostgresDSN(t)
	prefix := natstest.Prefix(t)
	apiAddr := freeAddr(t)
	flowPath, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "appointments.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPTINBOT_E2E_DSN", dsn)
	// A business API key, created as optinbot apikey create does.
	keyStore, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	key, apiToken, err := bot.NewAPIKey("clinic", "e2e", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := keyStore.CreateAPIKey(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	keyStore.Close()
	cfgPath := filepath.Join(t.TempDir(), "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store:
  dsn: ${OPTINBOT_E2E_DSN}
nats:
  url: %s
  subject_prefix: %s
  workers: 2
metrics:
  listen: ""
api:
  listen: %s
businesses:
  - id: clinic
    flow: %s
    senders: ["1065"]
`, natsURL, prefix, apiAddr, flowPath))
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	_, js := natstest.Connect(t, natsURL)
	in, out := natsbus.StreamNames(prefix)
	natstest.DeleteStreamsAtCleanup(t, js, in, out)
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
	waitUntil(t, func() bool { _, err := js.Stream(ctx, out); return err == nil }, "serve created its streams")
	pub, err := natsbus.NewPublisher(js, prefix)
	if err != nil {
		t.Fatal(err)
	}
	const customer bot.CustomerID = "+14155550100"
	seen := 0
	// expect waits for n more envelopes on OUT and returns their types.
	expect := func(n int) ([]string, []any) {
		t.Helper()
		var msgs []natstest.Stored
		waitUntil(t, func() bool { msgs = natstest.Messages(t, js, out); return len(msgs) >= seen+n }, fmt.Sprintf("%d more envelopes", n))
		var types []string
		var values []any
		for _, m := range msgs[seen : seen+n] {
			v, err := envelope.Decode(m.Data)
			if err != nil {
				t.Fatalf("envelope on %s does not decode: %v", m.Subject, err)
			}
			var h struct{ Type string }
			_ = json.Unmarshal(m.Data, &h)
			types, values = append(types, h.Type), append(values, v)
		}
		seen += n
		return types, values
	}
	say := func(id, text string) {
		t.Helper()
		if _, err := pub.Inbound(ctx, envelope.InboundMessage{ID: id, Provider: "meta", Sender: "1065", From: customer,
			Timestamp: time.Now().UTC(), Text: text}); err != nil {
			t.Fatal(err)
		}
	}

	say("wamid.1", "hi")
	expect(1)
	say("wamid.2", "person")
	types, values := expect(2)
	if strings.Join(types, " ") != "outbound_message handoff_request" {
		t.Fatalf("handoff published %v", types)
	}
	if o := values[0].(envelope.OutboundMessage); !strings.Contains(o.Text, "front desk") || o.Sender != "1065" {
		t.Errorf("notice %+v", o)
	}
	if h := values[1].(envelope.HandoffRequest); h.Queue != "front-desk" || h.Resume != "welcome" || h.Until.IsZero() {
		t.Errorf("handoff_request %+v", h)
	}
	say("wamid.3", "I need to move my visit")
	types, values = expect(1)
	if m, ok := values[0].(envelope.HandoffMessage); !ok || m.Text != "I need to move my visit" || m.InboundID != "wamid.3" {
		t.Fatalf("forwarded %v %+v", types, values)
	}

	// An agent hands back over NATS.
	if _, err := pub.Release(ctx, envelope.HandoffRelease{ID: "rel-1", Business: "clinic", Customer: customer, Agent: "sam"}); err != nil {
		t.Fatal(err)
	}
	types, values = expect(3)
	if strings.Join(types, " ") != "handoff_ended outbound_message outbound_message" {
		t.Fatalf("release published %v", types)
	}
	if e := values[0].(envelope.HandoffEnded); e.Reason != "released" || e.Agent != "sam" || e.Resume != "welcome" {
		t.Errorf("handoff_ended %+v", e)
	}
	if o := values[2].(envelope.OutboundMessage); !strings.Contains(o.Text, "first name") || o.Sender != "1065" {
		t.Errorf("resumed with %+v", o)
	}

	// Then over the HTTP API.
	say("wamid.4", "agent")
	expect(2)
	post := func(token, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, "http://"+apiAddr+"/v1/businesses/clinic/customers/"+string(customer)+"/handoff/release", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got
	}
	if status, _ := post("wrong", `{}`); status != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", status)
	}
	if status, got := post(apiToken, `{"id":"api-1","agent":"ana"}`); status != http.StatusOK || got["released"] != true {
		t.Fatalf("API release: %d %v", status, got)
	}
	types, _ = expect(3)
	if strings.Join(types, " ") != "handoff_ended outbound_message outbound_message" {
		t.Errorf("API release published %v", types)
	}
	if status, got := post(apiToken, `{"id":"api-1"}`); status != http.StatusOK || got["repeated"] != true {
		t.Errorf("repeated API release: %d %v", status, got)
	}
	if status, _ := post(apiToken, `{"id":"api-2"}`); status != http.StatusConflict {
		t.Errorf("API release with nothing to hand back: %d", status)
	}

	// Operators see handoffs start and end in the logs, without the
	// customer's number or words.
	text := logs.String()
	for _, want := range []string{`"message":"handed off to agents"`, `"reason":"released"`, `"message":"handoff released"`} {
		if !strings.Contains(text, want) {
			t.Errorf("the logs lack %s", want)
		}
	}
	for _, secret := range []string{string(customer), "14155550100", "move my visit"} {
		if strings.Contains(text, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}
