package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/bot"
)

// consent import records a file through the engine's checks, prints the
// rows it did not record and a summary, and records nothing twice.
func TestConsentImportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	retail, err := os.ReadFile(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const line = "    description: updates about your orders (confirmation, shipping and delivery)\n"
	flow := filepath.Join(dir, "retail.yaml")
	writeFile(t, flow, strings.Replace(string(retail), line, line+"    granted_by: [web, sms_campaign]\n", 1))
	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"1\"]\n", db, flow))
	file := filepath.Join(dir, "consents.csv")
	writeFile(t, file, "customer,action,topic,source,wording,consented_at\n"+
		"+14155550100,opt_in,order_updates,web,Yes: updates about your orders from Acme Outfitters on WhatsApp,2026-03-01T12:00:00Z\n"+
		"+14155550101,opt_in,order_updates,sms,Text me updates about your orders from Acme Outfitters,2026-03-01T12:00:00Z\n"+
		"+14155550102,opt_out,,email,,2026-03-01T12:00:00Z\n")

	out, _, err := runCLI(t, "", "consent", "import", file, "--config", cfg, "--business", "acme")
	if err != nil {
		t.Fatalf("consent import: %v\n%s", err, out)
	}
	want := "line 3: invalid wording_missing_whatsapp: the wording does not say WhatsApp\n" +
		"3 rows: 2 recorded, 0 duplicate, 0 skipped_stale, 0 refused, 1 invalid\n"
	if out != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
	out, _, err = runCLI(t, "", "consent", "import", file, "--config", cfg, "--business", "acme", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rep consentimport.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if rep.Counts[consentimport.Duplicate] != 2 || rep.Counts[consentimport.Recorded] != 0 {
		t.Errorf("the same file again: counts %v, want 2 duplicate and nothing recorded", rep.Counts)
	}
	st := openSQLite(t, db)
	events, err := st.ConsentEvents(context.Background(), "acme", "+14155550100")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 1 || events[0].Status != bot.OptedIn || events[0].Source != bot.SourceWeb {
		t.Errorf("ledger of +1…00 = %+v, want one web opt-in", events)
	}
	for _, args := range [][]string{
		{"consent", "import", file, "--config", cfg},
		{"consent", "import", file, "--config", cfg, "--business", "globex"},
		{"consent", "import", filepath.Join(dir, "missing.csv"), "--config", cfg, "--business", "acme"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
