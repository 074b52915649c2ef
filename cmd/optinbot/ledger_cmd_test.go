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
	if got != ev {
		t.Errorf("ledger printed\n %+v\nwant %+v", got, ev)
	}
	if _, _, err := runCLI(t, "", "ledger", "--config", cfg, "--business", "acme", "--customer", "12345"); err == nil {
		t.Error("a malformed customer id was accepted")
	}
}
