package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/storetest"
)

// qualityWebhook is a recorded Meta phone_number_quality_update (testdata),
// its entry time moved to at so that the conversation before it falls in
// the 24 hours the alert looks back on.
func qualityWebhook(t *testing.T, file string, at time.Time) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Replace(body, []byte(`"time": 1767260000`), []byte(fmt.Sprintf(`"time": %d`, at.Unix())), 1)
	if bytes.Equal(out, body) {
		t.Fatalf("%s: no entry time to move", file)
	}
	return out
}

// metricValue finds a metric by name and labels in a scrape parsed with
// expfmt: the counter's, gauge's or histogram's sample count.
func metricValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	f, ok := families[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(scrape(t, url)))
	if err != nil {
		t.Fatalf("parse the metrics: %v", err)
	}
	return families
}

// A conversation, then Meta's recorded quality update, signed, through
// serve's webhook server, the embedded NATS server, the engine and
// PostgreSQL: the downgrade is recorded, counted, alerted on NATS with the
// template and the opt-in that preceded it, and `optinbot quality` prints
// it; the metrics count the conversation; readyz fails once NATS is gone.
func TestQualityDowngradeEndToEnd(t *testing.T) {
	graph := newFakeGraph(t)
	srv := natstest.RunServer(t)
	flowPath, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPTINBOT_E2E_DSN", storetest.PostgresDSN(t))
	t.Setenv("OPTINBOT_E2E_META_SECRET", e2eAppSecret)
	t.Setenv("OPTINBOT_E2E_META_TOKEN", e2eToken)
	prefix := natstest.Prefix(t)
	listen, metricsAddr := freeAddr(t), freeAddr(t)
	cfgPath := filepath.Join(t.TempDir(), "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store:
  dsn: ${OPTINBOT_E2E_DSN}
nats:
  url: %s
  subject_prefix: %s
metrics:
  listen: %s
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
    quality_numbers: ["15550101234"]
  - id: globex
    flow: %s
    senders: ["222333444"]
`, srv.ClientURL(), prefix, metricsAddr, listen, graph.srv.URL, e2ePhoneNumber, flowPath, e2ePhoneNumber, flowPath))
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	hookURL := "http://" + listen + webhookPath("meta")
	_, js := natstest.Connect(t, srv.ClientURL())
	_, out := natsbus.StreamNames(prefix)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- serve(ctx, cfg, zerolog.New(logs), prometheus.NewRegistry()) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s")
		}
	})
	metricsURL := "http://" + metricsAddr
	waitUntil(t, func() bool {
		resp, err := http.Get(metricsURL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "serve is ready")
	if code, failing := getReady(t, "http://"+listen); code != http.StatusOK {
		t.Errorf("readyz on the webhook server: HTTP %d, failing %v", code, failing)
	}

	// The conversation: hi, YES, a template.
	post := func(body []byte) {
		t.Helper()
		if code := postSigned(t, hookURL, body, e2eAppSecret); code != http.StatusOK {
			t.Fatalf("webhook: HTTP %d", code)
		}
	}
	post(metaWebhook("wamid.q1", `"type":"text","text":{"body":"hi"}`))
	waitUntil(t, func() bool { return len(graph.requests()) >= 1 }, "the opt-in question")
	post(metaWebhook("wamid.q2", `"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"optin_yes","title":"Yes, send updates"}}`))
	waitUntil(t, func() bool { return len(graph.requests()) >= 2 }, "the confirmation")
	pub, err := natsbus.NewPublisher(js, prefix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.SendRequest(ctx, envelope.SendRequest{ID: "req-q1", Business: "acme", To: "+14155550100",
		Kind: bot.KindTemplate, Template: "shipped", Params: map[string]string{"1": "Ana", "2": "ZX-2291"}}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(graph.requests()) >= 3 }, "the template")

	// Meta flags the number; it retries the webhook.
	// Meta's times are whole seconds; the flag comes after the conversation.
	flaggedAt := time.Now().Add(time.Second).Truncate(time.Second)
	flagged := qualityWebhook(t, "meta_quality_update.json", flaggedAt)
	post(flagged)
	post(flagged)
	alertID := fmt.Sprintf("quality:15550101234:%d:FLAGGED", flaggedAt.Unix())
	alerts := func() []envelope.QualityAlert {
		var got []envelope.QualityAlert
		for _, m := range natstest.Messages(t, js, out) {
			if m.Subject != prefix+".v1.alert.acme" {
				continue
			}
			a, err := envelope.DecodeQualityAlert(m.Data)
			if err != nil {
				t.Fatalf("alert: %v", err)
			}
			if m.MsgID != "alert:"+a.ID {
				t.Errorf("alert Nats-Msg-Id %q", m.MsgID)
			}
			got = append(got, a)
		}
		return got
	}
	waitUntil(t, func() bool { return len(alerts()) == 1 }, "the quality alert")
	a := alerts()[0]
	if len(a.Preceding.Prompts) != 1 {
		t.Fatalf("alert %+v: want one opt-in answer before it", a)
	}
	wantPreceding := bot.QualityContext{Since: flaggedAt.Add(-24 * time.Hour).UTC(), Until: flaggedAt.UTC(),
		Templates: []bot.TemplateCount{{Topic: "order_updates", Sent: 1}},
		Prompts:   []bot.PromptCount{{Flow: "retail", Version: a.Preceding.Prompts[0].Version, Status: "opted_in", Count: 1}}}
	if a.ID != alertID || a.Business != "acme" || a.Sender != "15550101234" || a.Provider != "meta" || a.Event != "FLAGGED" ||
		a.Rating != bot.RatingRed || a.Tier != "TIER_1K" || !a.At.Equal(flaggedAt) || a.Preceding.Prompts[0].Version == "" {
		t.Errorf("alert %+v", a)
	}
	if fmt.Sprint(a.Preceding) != fmt.Sprint(wantPreceding) {
		t.Errorf("preceding\n got %+v\nwant %+v", a.Preceding, wantPreceding)
	}

	// Meta lifts the flag: recorded, not alerted.
	post(qualityWebhook(t, "meta_quality_unflagged.json", flaggedAt.Add(time.Hour)))
	var families map[string]*dto.MetricFamily
	waitUntil(t, func() bool {
		families = scrapeFamilies(t, metricsURL+"/metrics")
		v, _ := metricValue(t, families, "optinbot_quality_rating", map[string]string{"business": "acme", "sender": "15550101234"})
		return v == 2
	}, "the rating is green again")
	for _, m := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"optinbot_quality_downgrades_total", map[string]string{"business": "acme", "sender": "15550101234"}, 1},
		{"optinbot_inbound_messages_total", map[string]string{"business": "acme", "kind": "text"}, 1},
		{"optinbot_inbound_messages_total", map[string]string{"business": "acme", "kind": "button"}, 1},
		{"optinbot_reply_latency_seconds", map[string]string{"business": "acme"}, 2},
		{"optinbot_messages_allowed_total", map[string]string{"business": "acme", "kind": "template"}, 1},
		{"optinbot_nats_connected", nil, 1},
		{"optinbot_nats_reconnects_total", nil, 0},
		{"optinbot_store_up", nil, 1},
	} {
		if got, ok := metricValue(t, families, m.name, m.labels); !ok || got != m.want {
			t.Errorf("%s%v = %v (present %v), want %v", m.name, m.labels, got, ok, m.want)
		}
	}
	if _, ok := families["optinbot_store_ping_seconds"]; !ok {
		t.Error("no optinbot_store_ping_seconds")
	}
	if n := len(alerts()); n != 1 {
		t.Errorf("%d alerts, want 1 (the retry and the recovery alert nothing)", n)
	}
	if !strings.Contains(logs.String(), `"message":"sender quality downgraded"`) {
		t.Error("no warning logged for the downgrade")
	}

	// optinbot quality prints the history with what preceded the downgrade.
	var stdout bytes.Buffer
	root := newRootCmd()
	root.SetOut(&stdout)
	root.SetArgs([]string{"quality", "--config", cfgPath, "--business", "acme", "--json"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	var reports []qualityReport
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var r qualityReport
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("quality --json line %q: %v", line, err)
		}
		reports = append(reports, r)
	}
	if len(reports) != 2 || !reports[0].Downgrade || reports[0].Rating != bot.RatingRed || reports[0].Preceding == nil ||
		fmt.Sprint(*reports[0].Preceding) != fmt.Sprint(wantPreceding) ||
		reports[1].Downgrade || reports[1].Rating != bot.RatingGreen || reports[1].PreviousRating != bot.RatingRed || reports[1].Preceding != nil {
		t.Errorf("quality reports %+v", reports)
	}
	stdout.Reset()
	root = newRootCmd()
	root.SetOut(&stdout)
	root.SetArgs([]string{"quality", "--config", cfgPath, "--business", "acme"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"FLAGGED", "UNFLAGGED", "RED→GREEN", "templates sent, topic order_updates: 1", "opt-in prompts answered, flow retail version"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("quality output lacks %q:\n%s", want, stdout.String())
		}
	}

	// The NATS server goes away: readyz fails, naming NATS.
	srv.Shutdown()
	srv.WaitForShutdown()
	waitUntil(t, func() bool {
		code, failing := getReady(t, metricsURL)
		return code == http.StatusServiceUnavailable && failing["nats"] != ""
	}, "readyz fails naming nats")
	families = scrapeFamilies(t, metricsURL+"/metrics")
	if v, _ := metricValue(t, families, "optinbot_nats_connected", nil); v != 0 {
		t.Errorf("optinbot_nats_connected = %v with NATS gone", v)
	}
}
