package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// The ledger command prints what the engine recorded, with its evidence.
func TestLedgerCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	st := openSQLite(t, db)
	ev := bot.ConsentEvent{ID: "acme/wamid.1/0", Customer: "+14155550100", Business: "acme", Channel: bot.Channel,
		Topic: "order_updates", Category: "utility", Status: bot.OptedIn, Source: bot.SourceInChannel,
		Trigger: "button optin_yes", InboundID: "wamid.1", InboundText: "Yes, send updates", Prompt: "Would you like…",
		FlowName: "retail", FlowVersion: "abc123def456", At: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	if err := st.Commit(context.Background(), bot.Turn{Business: "acme", Customer: ev.Customer, DedupID: "wamid.1",
		Consent: []bot.ConsentEvent{ev}, At: ev.At}); err != nil {
		t.Fatal(err)
	}
	flow, _ := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n", db, flow))
	out, _, err := runCLI(t, "", "ledger", "--config", cfg, "--business", "acme", "--customer", "+14155550100")
	if err != nil {
		t.Fatal(err)
	}
	var got bot.ConsentEvent
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if got.Hash == "" || got.Hash != got.ChainHash("") {
		t.Errorf("ledger printed hash %q, want the event's chain hash %q", got.Hash, got.ChainHash(""))
	}
	got.Hash, got.PIISalt, got.PIIDigestHex = "", "", ""
	if got != ev {
		t.Errorf("ledger printed\n %+v\nwant %+v", got, ev)
	}
	if _, _, err := runCLI(t, "", "ledger", "--config", cfg, "--business", "acme", "--customer", "12345"); err == nil {
		t.Error("a malformed customer id was accepted")
	}
}

// consent verify reports an intact ledger, then the first broken link once
// a row is changed behind the store's back, and exits non-zero.
func TestConsentVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	st := openSQLite(t, db)
	at := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	for i, text := range []string{"Yes", "STOP"} {
		ev := bot.ConsentEvent{ID: fmt.Sprintf("acme/wamid.%d/0", i), Customer: "+14155550100", Business: "acme", Channel: bot.Channel,
			Topic: "order_updates", Category: "utility", Status: bot.OptedIn, Source: bot.SourceInChannel,
			Trigger: "keyword " + text, InboundID: fmt.Sprintf("wamid.%d", i), InboundText: text, Prompt: "Would you like…",
			FlowName: "retail", FlowVersion: "abc123def456", At: at.Add(time.Duration(i) * time.Minute)}
		if err := st.Commit(context.Background(), bot.Turn{Business: "acme", Customer: ev.Customer, DedupID: ev.InboundID,
			Consent: []bot.ConsentEvent{ev}, At: ev.At}); err != nil {
			t.Fatal(err)
		}
	}
	flow, _ := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n", db, flow))
	out, _, err := runCLI(t, "", "consent", "verify", "--config", cfg)
	if err != nil || !strings.HasPrefix(out, "ok: 2 events in 1 chains verified\nhead acme ") {
		t.Fatalf("consent verify on an intact ledger: %v\n%s", err, out)
	}

	// Someone with the database file drops the trigger and rewrites the
	// customer's STOP.
	raw := openRawSQLite(t, db)
	for _, q := range []string{"DROP TRIGGER consent_events_no_update",
		"UPDATE consent_events SET inbound_text = 'YES' WHERE inbound_id = 'wamid.1'"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out, _, err = runCLI(t, "", "consent", "verify", "--config", cfg, "--json")
	if err == nil {
		t.Fatalf("consent verify on a tampered ledger succeeded:\n%s", out)
	}
	var rep bot.LedgerReport
	if jerr := json.Unmarshal([]byte(out), &rep); jerr != nil || rep.Break == nil ||
		rep.Break.EventID != "acme/wamid.1/0" || rep.Events != 1 {
		t.Errorf("consent verify --json on a tampered ledger printed %s (%v), want a break at event acme/wamid.1/0 after 1 event", out, jerr)
	}
}

// openRawSQLite opens the database file directly, past the store, as
// someone holding the file could.
func openRawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
