package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/storetest"
)

// serve against the machine's real NATS server and PostgreSQL, driven the
// way a provider adapter and a business would: envelopes in, envelopes out.
func TestServeEndToEnd(t *testing.T) {
	natsURL := natstest.RealServer(t)
	dsn := storetest.PostgresDSN(t)
	prefix := natstest.Prefix(t)
	metricsAddr := freeAddr(t)
	flowPath, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPTINBOT_E2E_DSN", dsn)
	cfgPath := filepath.Join(t.TempDir(), "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`log_level: debug
store:
  dsn: ${OPTINBOT_E2E_DSN}
nats:
  url: %s
  subject_prefix: %s
  workers: 2
metrics:
  listen: %s
businesses:
  - id: acme
    flow: %s
    senders: ["1234567890"]
    templates_per_day: 2
`, natsURL, prefix, metricsAddr, flowPath))
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
	reader, err := newOutboxReader(ctx, js, out)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.stop()
	pub, err := natsbus.NewPublisher(js, prefix)
	if err != nil {
		t.Fatal(err)
	}
	const customer bot.CustomerID = "+14155550100"
	var events []chatEvent
	expect := func(n int) []chatEvent {
		t.Helper()
		waitUntil(t, func() bool {
			reader.mu.Lock()
			defer reader.mu.Unlock()
			return len(reader.events[customer]) >= len(events)+n
		}, fmt.Sprintf("%d more envelopes for the customer", n))
		reader.mu.Lock()
		defer reader.mu.Unlock()
		fresh := reader.events[customer][len(events):]
		events = append([]chatEvent(nil), reader.events[customer]...)
		return fresh
	}
	say := func(id, text string, button *envelope.Button) {
		t.Helper()
		if _, err := pub.Inbound(ctx, envelope.InboundMessage{ID: id, Provider: "meta", Sender: "1234567890",
			From: customer, Timestamp: time.Now().UTC(), Text: text, Button: button}); err != nil {
			t.Fatal(err)
		}
	}
	request := func(id, template string) {
		t.Helper()
		if _, err := pub.SendRequest(ctx, envelope.SendRequest{ID: id, Business: "acme", To: customer,
			Kind: bot.KindTemplate, Template: template}); err != nil {
			t.Fatal(err)
		}
	}

	say("wamid.1", "hi", nil)
	got := expect(1)
	if o := got[0].outbound; o == nil || !strings.Contains(o.Text, "Acme Outfitters here on WhatsApp") || len(o.Buttons) != 2 ||
		o.Sender != "1234567890" || o.InReplyTo != "wamid.1" {
		t.Fatalf("first reply: %+v", got[0])
	}

	request("req-early", "shipped")
	if d := expect(1)[0].decision; d == nil || d.Allowed || d.Reason != bot.ReasonNoConsent || d.RequestID != "req-early" {
		t.Errorf("template before consent: %+v", d)
	}

	say("wamid.2", "", &envelope.Button{ID: "optin_yes", Title: "Yes, send updates"})
	say("wamid.2", "", &envelope.Button{ID: "optin_yes", Title: "Yes, send updates"}) // the provider retries
	got = expect(2)
	c := got[0].consent
	if c == nil || c.Status != bot.OptedIn || c.Topic != "order_updates" || c.InboundID != "wamid.2" ||
		c.InboundText != "Yes, send updates" || !strings.Contains(c.Prompt, "Reply YES to opt in") || c.FlowName != "retail" {
		t.Fatalf("opt-in: %+v", got[0])
	}

	request("req-1", "shipped")
	request("req-2", "order_update")
	request("req-3", "shipped")
	got = expect(5) // two templates with their decisions, then a refusal
	var sent, refused int
	for _, e := range got {
		switch {
		case e.outbound != nil && e.outbound.Kind == bot.KindTemplate:
			sent++
		case e.decision != nil && !e.decision.Allowed && e.decision.Reason == bot.ReasonFrequencyCap:
			refused++
		}
	}
	if sent != 2 || refused != 1 {
		t.Errorf("with a cap of 2: %d templates sent, %d refused by the cap; envelopes %+v", sent, refused, got)
	}

	say("wamid.3", "STOP", nil)
	got = expect(2)
	if c := got[0].consent; c == nil || c.Status != bot.OptedOut || c.Trigger != "keyword STOP" {
		t.Errorf("STOP: %+v", got[0])
	}

	// Nothing more arrives for the redelivered opt-in; metrics count what happened.
	body := scrape(t, "http://"+metricsAddr+"/metrics")
	for _, want := range []string{
		`optinbot_consent_events_total{business="acme",source="in_channel",status="opted_in",topic="order_updates"} 1`,
		`optinbot_consent_events_total{business="acme",source="in_channel",status="opted_out",topic="order_updates"} 1`,
		`optinbot_guard_refusals_total{business="acme",kind="template",reason="frequency_cap"} 1`,
		`optinbot_guard_refusals_total{business="acme",kind="template",reason="no_consent"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	time.Sleep(200 * time.Millisecond)
	reader.mu.Lock()
	if n := len(reader.events[customer]); n != len(events) {
		t.Errorf("%d envelopes after the last expected one: the redelivery was not ignored", n-len(events))
	}
	reader.mu.Unlock()

	// Logs are JSON, one event per line, and never hold the phone number
	// or the customer's words (this test logs at debug, the most verbose).
	text := logs.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) < 10 {
		t.Errorf("only %d log lines", len(lines))
	}
	for _, line := range lines {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("log line is not one JSON event: %q", line)
		}
	}
	for _, secret := range []string{string(customer), "14155550100", "Yes, send updates"} {
		if strings.Contains(text, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

// syncBuffer is a log sink shared by the engine's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	var body []byte
	waitUntil(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err == nil && resp.StatusCode == http.StatusOK
	}, "metrics are served")
	return string(body)
}
