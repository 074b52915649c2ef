package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// customer erase erases a customer's data, suppresses one whose consent
// does not stand, keeps the ledger verifiable, and refuses bad input.
func TestCustomerEraseCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	st := openSQLite(t, db)
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		customer bot.CustomerID
		status   bot.ConsentStatus
		text     string
	}{{"+14155550100", bot.OptedIn, "Yes"}, {"+14155550100", bot.OptedOut, "STOP"}, {"+14155550101", bot.OptedIn, "Yes"}} {
		ev := bot.ConsentEvent{ID: fmt.Sprintf("acme/wamid.%d/0", i), Customer: step.customer, Business: "acme", Channel: bot.Channel,
			Topic: "order_updates", Category: "utility", Status: step.status, Source: bot.SourceInChannel,
			Trigger: "keyword " + step.text, InboundID: fmt.Sprintf("wamid.%d", i), InboundText: step.text, Prompt: "Would you like…",
			FlowName: "retail", FlowVersion: "abc123def456", At: at.Add(time.Duration(i) * time.Minute)}
		if err := st.Commit(context.Background(), bot.Turn{Business: "acme", Customer: ev.Customer, DedupID: ev.InboundID,
			Conversation: bot.Conversation{FlowName: "retail", FlowVersion: "abc123def456", State: "done", LastPrompt: "Would you like…"},
			Consent:      []bot.ConsentEvent{ev}, At: ev.At}); err != nil {
			t.Fatal(err)
		}
	}
	const key = "a customer erase test key of 32+ bytes"
	flow, _ := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nprivacy:\n  suppression_key: %q\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n",
		db, key, flow))

	for _, tc := range []struct {
		name     string
		args     []string
		wantErr  string
		wantOut  string
		suppress bool
	}{
		{"opted out: suppressed", []string{"+14155550100", "--json"}, "", `"suppressed":true`, true},
		{"opted in: not suppressed", []string{"+14155550101"}, "", "erased customer +1…01 of acme (ledger event acme/erase:", false},
		{"again", []string{"+14155550100", "--json"}, "", `"erased":true`, true},
		{"bad number", []string{"12345"}, "neither an E.164 number", "", false},
		{"no number", []string{}, "accepts 1 arg", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCLI(t, "", append([]string{"customer", "erase", "--config", cfg, "--business", "acme"}, tc.args...)...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("output %q, want %q in it", out, tc.wantOut)
			}
			if strings.Contains(out, "4155550") {
				t.Errorf("the output names the number: %q", out)
			}
			if strings.Contains(tc.args[len(tc.args)-1], "json") {
				var rep erasedReport
				if err := json.Unmarshal([]byte(out), &rep); err != nil || !rep.Erased || rep.Suppressed != tc.suppress || rep.Business != "acme" {
					t.Errorf("--json printed %q (%v)", out, err)
				}
			}
		})
	}
	if _, _, err := runCLI(t, "", "customer", "erase", "--config", cfg, "--business", "globex", "+14155550100"); err == nil ||
		!strings.Contains(err.Error(), "not configured") {
		t.Errorf("unknown business: err = %v", err)
	}

	// The suppression list holds the configured key's hash of the number.
	if on, err := st.Suppressed(t.Context(), "acme", bot.CustomerHash([]byte(key), "+14155550100")); err != nil || !on {
		t.Errorf("the opted-out customer is not on the list under the configured key: %v, %v", on, err)
	}
	if on, _ := st.Suppressed(t.Context(), "acme", bot.CustomerHash([]byte(key), "+14155550101")); on {
		t.Error("the opted-in customer is on the list")
	}
	if out, _, err := runCLI(t, "", "consent", "verify", "--config", cfg); err != nil || !strings.HasPrefix(out, "ok: 6 events in 1 chains verified") {
		t.Errorf("consent verify after the erases: %v\n%s", err, out)
	}
	if out, _, err := runCLI(t, "", "ledger", "--config", cfg, "--business", "acme", "--customer", "+14155550100"); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("ledger of the erased customer: %v\n%s", err, out)
	}

	short := filepath.Join(dir, "short.yaml")
	writeFile(t, short, fmt.Sprintf("store:\n  dsn: sqlite:%s\nprivacy:\n  suppression_key: short\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n", db, flow))
	if _, _, err := runCLI(t, "", "customer", "erase", "--config", short, "--business", "acme", "+14155550100"); err == nil ||
		!strings.Contains(err.Error(), "privacy.suppression_key has 5 bytes") {
		t.Errorf("a short key: err = %v", err)
	}
}
