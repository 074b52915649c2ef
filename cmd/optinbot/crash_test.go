package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func retailBusiness(t testing.TB, senders ...string) []bot.BusinessConfig {
	t.Helper()
	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(examples.Retail, src)
	if err != nil {
		t.Fatal(err)
	}
	return []bot.BusinessConfig{{ID: "acme", Flow: f, Source: src, Senders: senders}}
}

// crashScript is what the customer sends: 7 effects (4 replies, 3 consent
// changes); then the business sends a template: one more effect, published
// as two messages (the template and the decision).
var crashScript = []struct{ text, button string }{{"hi", ""}, {"", "optin_yes"}, {"STOP", ""}, {"START", ""}}

const crashEffects = 4 + 3 + 1

// A failure between the store commit and the NATS publish loses nothing and
// duplicates nothing: after a restart every reply and consent event is in
// the OUT stream exactly once.
func TestCrashBetweenCommitAndPublish(t *testing.T) {
	for _, tc := range []struct {
		name  string
		crash func(t *testing.T, ctx context.Context, e *engine) // runs the first engine until its "crash"
	}{
		{"before publish", func(t *testing.T, ctx context.Context, e *engine) {
			// The consumer commits every turn, but the relay never runs:
			// the process dies right after each commit.
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- e.consumer.Run(ctx) }()
			waitUntil(t, func() bool { return pendingEffects(t, e) == crashEffects }, "all turns committed")
			cancel()
			<-done
		}},
		{"after publish, before marking", func(t *testing.T, ctx context.Context, e *engine) {
			// Every effect is published and acknowledged by the stream, then
			// the process dies before the outbox records it: the restart
			// publishes it all again and the stream drops the repeats.
			ctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- e.consumer.Run(ctx) }()
			waitUntil(t, func() bool { return pendingEffects(t, e) == crashEffects }, "all turns committed")
			cancel()
			<-done
			if err := e.relay.Flush(context.Background()); err == nil {
				t.Error("the injected failure did not happen")
			}
			if n := len(natstest.Messages(t, e.js, e.streams.Out)); n != crashEffects+1 {
				t.Errorf("before the crash %d messages were published, want all %d", n, crashEffects+1)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv := natstest.RunServer(t)
			_, js := natstest.Connect(t, srv.ClientURL())
			db := filepath.Join(t.TempDir(), "crash.db")
			prefix := natstest.Prefix(t)

			// First life: publish the customer's messages, run until the crash.
			st1 := openSQLite(t, db)
			var failure func(bot.Effect) error
			if tc.name != "before publish" {
				failure = func(e bot.Effect) error {
					if e.RequestID == "" { // fail on the last effect: all were published, none marked
						return nil
					}
					return errors.New("injected crash after publish")
				}
			}
			e1, err := newEngine(ctx, js, st1, retailBusiness(t, "15550001111"), engineOptions{Prefix: prefix, FailAfterPublish: failure}, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			publishScript(t, js, prefix)
			tc.crash(t, ctx, e1)
			st1.Close()

			// Second life: same database, same streams.
			st2 := openSQLite(t, db)
			e2, err := newEngine(ctx, js, st2, retailBusiness(t, "15550001111"), engineOptions{Prefix: prefix}, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- e2.run(runCtx) }()
			waitUntil(t, func() bool { return pendingEffects(t, e2) == 0 }, "the outbox drained after the restart")
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}

			byID := natstest.CountByMsgID(t, js, e2.streams.Out)
			kinds := map[string]int{}
			for _, m := range natstest.Messages(t, js, e2.streams.Out) {
				v, err := envelope.Decode(m.Data)
				if err != nil {
					t.Fatalf("stored message %d does not decode: %v", m.Seq, err)
				}
				switch v := v.(type) {
				case envelope.OutboundMessage:
					kinds["outbound_"+string(v.Kind)]++
				case envelope.ConsentChange:
					kinds["consent_"+string(v.Status)]++
				case envelope.SendDecision:
					kinds["decision"]++
				}
			}
			for id, n := range byID {
				if n != 1 {
					t.Errorf("message %s is in the stream %d times", id, n)
				}
			}
			want := map[string]int{"outbound_text": 4, "consent_opted_in": 2, "consent_opted_out": 1, "outbound_template": 1, "decision": 1}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("%s: %d in the stream, want %d (all: %v)", k, kinds[k], n, kinds)
				}
			}
			if len(byID) != crashEffects+1 { // the allowed template also yields its decision
				t.Errorf("%d distinct messages, want %d", len(byID), crashEffects+1)
			}
		})
	}
}

func publishScript(t *testing.T, js jetstream.JetStream, prefix string) {
	t.Helper()
	pub, err := natsbus.NewPublisher(js, prefix)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, step := range crashScript {
		m := envelope.InboundMessage{ID: "wamid.crash." + string(rune('a'+i)), Provider: "test", Sender: "15550001111",
			From: "+14155550100", Timestamp: now, Text: step.text}
		if step.button != "" {
			m.Button = &envelope.Button{ID: step.button, Title: "Yes, send updates"}
		}
		if _, err := pub.Inbound(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.SendRequest(context.Background(), envelope.SendRequest{ID: "req-1", Business: "acme",
		To: "+14155550100", Kind: bot.KindTemplate, Template: "shipped"}); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T, path string) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func pendingEffects(t *testing.T, e *engine) int {
	t.Helper()
	p, err := e.store.PendingEffects(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(p)
}

func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
