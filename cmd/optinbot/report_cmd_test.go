package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// report experiments, end to end: the engine runs an experiment flow on
// SQLite (customers are shown their variant, some opt in, some of those
// stop), then the command prints the table and the JSON.
func TestReportExperimentsCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "optinbot.db")
	st := openSQLite(t, db)
	flowPath, _ := filepath.Abs(filepath.Join("testdata", "experiment.yaml"))
	src, err := os.ReadFile(flowPath)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(flowPath, src)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{
		Store: st, Clock: func() time.Time { return now }, Logger: zerolog.Nop(), SuppressionKey: []byte("report test suppression key, 32+ bytes"),
	}, []bot.BusinessConfig{{ID: "acme", Flow: f, Source: src, Senders: []string{"15550001111"}}})
	if err != nil {
		t.Fatal(err)
	}
	seq := 0
	say := func(c bot.CustomerID, text string) {
		t.Helper()
		seq++
		if _, err := svc.HandleInbound(context.Background(), bot.Inbound{ID: fmt.Sprintf("wamid.%d", seq), Sender: "15550001111",
			Customer: c, Timestamp: now, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		c := bot.CustomerID(fmt.Sprintf("+1415555%04d", i))
		say(c, "hi")
		if i%3 != 0 {
			say(c, "yes")
			if i%5 == 1 {
				now = now.Add(time.Hour)
				say(c, "STOP")
			}
		}
		now = now.Add(time.Minute)
	}

	cfg := filepath.Join(dir, "optinbot.yaml")
	writeFile(t, cfg, fmt.Sprintf("store:\n  dsn: sqlite:%s\nbusinesses:\n  - id: acme\n    flow: %s\n    senders: [\"15550001111\"]\n", db, flowPath))
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"report_experiments.golden", nil},
		{"report_experiments.json.golden", []string{"--json", "--flow", "news", "--since", "2026-03-01"}},
		{"report_experiments_none.golden", []string{"--since", "2026-04-01T00:00:00Z"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			out, _, err := runCLI(t, "", append([]string{"report", "experiments", "--config", cfg, "--business", "acme"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, "+1415") {
				t.Errorf("the report prints customer numbers:\n%s", out)
			}
			path := filepath.Join("testdata", tc.golden)
			if *update {
				writeFile(t, path, out)
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("output differs from %s\ngot:\n%s\nwant:\n%s", path, out, want)
			}
		})
	}
	// The opt-ins name their variant in the trigger, under the hash chain:
	// the ledger verifies.
	if out, _, err := runCLI(t, "", "consent", "verify", "--config", cfg); err != nil || !strings.HasPrefix(out, "ok: 24 events in 1 chains verified\n") {
		t.Errorf("consent verify (20 opt-ins, 4 STOPs): %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"--business", "acme"},
		{"--config", cfg},
		{"--config", cfg, "--business", "globex"},
		{"--config", cfg, "--business", "acme", "--since", "last week"},
	} {
		if _, _, err := runCLI(t, "", append([]string{"report", "experiments"}, args...)...); err == nil {
			t.Errorf("report experiments %v succeeded, want an error", args)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", time.Time{}, true},
		{"2026-03-01T10:00:00+02:00", time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC), true},
		{"2026-03-01", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"720h", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), true},
		{"-1h", time.Time{}, false},
		{"yesterday", time.Time{}, false},
	} {
		got, err := parseSince(tc.in, now)
		if (err == nil) != tc.ok || !got.Equal(tc.want) {
			t.Errorf("parseSince(%q) = %v, %v, want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
