package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
)

// A flow timer set before `optinbot serve` stops fires after it starts
// again: timers live in the database with their conversations.
func TestTimerFiresAfterServeRestart(t *testing.T) {
	srv := natstest.RunServer(t)
	dir := t.TempDir()
	flow := filepath.Join(dir, "nudge.yaml")
	writeFile(t, flow, `business: Acme Outfitters
topics:
  order_updates: {category: utility, description: updates about your orders}
states:
  ask:
    prompt: Would you like updates about your orders from Acme Outfitters on WhatsApp? Reply YES. Reply STOP at any time to opt out.
    on:
      - keywords: ["yes"]
        opt_in: order_updates
        goto: done
      - after: 3s
        goto: nudge
  nudge:
    prompt: Still there? Reply YES for updates about your orders from Acme Outfitters on WhatsApp, or STOP to opt out.
    on:
      - keywords: ["yes"]
        opt_in: order_updates
        goto: done
  done:
    prompt: Done.
`)
	cfgPath := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store:
  dsn: sqlite:%s
nats:
  url: %s
  subject_prefix: timers
metrics:
  listen: ""
businesses:
  - id: acme
    flow: %s
    senders: ["15550001111"]
`, filepath.Join(dir, "optinbot.db"), srv.ClientURL(), flow))
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	_, js := natstest.Connect(t, srv.ClientURL())
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- serve(ctx, cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel), prometheus.NewRegistry())
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		}
	}
	_, out := natsbus.StreamNames(cfg.NATS.SubjectPrefix)
	texts := func() []string {
		var got []string
		for _, m := range natstest.Messages(t, js, out) {
			if v, err := envelope.Decode(m.Data); err == nil {
				if o, ok := v.(envelope.OutboundMessage); ok {
					got = append(got, o.Text)
				}
			}
		}
		return got
	}

	stop := start()
	waitUntil(t, func() bool { _, err := js.Stream(context.Background(), out); return err == nil }, "serve created its streams")
	pub, err := natsbus.NewPublisher(js, cfg.NATS.SubjectPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Inbound(context.Background(), envelope.InboundMessage{ID: "wamid.t1", Provider: "test",
		Sender: "15550001111", From: "+14155550100", Timestamp: time.Now().UTC(), Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(texts()) == 1 }, "the opt-in question")
	stop() // the timer is due in 3 seconds; nothing runs meanwhile
	time.Sleep(3500 * time.Millisecond)
	if n := len(texts()); n != 1 {
		t.Fatalf("%d messages while serve was down", n)
	}

	stop = start()
	defer stop()
	waitUntil(t, func() bool { return len(texts()) == 2 }, "the timer's nudge after the restart")
	if got := texts(); !strings.HasPrefix(got[1], "Still there?") {
		t.Errorf("after the restart: %q", got)
	}
}
