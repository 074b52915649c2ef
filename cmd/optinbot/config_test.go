package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestLoadConfigExample(t *testing.T) {
	t.Setenv("OPTINBOT_DATABASE_URL", "postgres://optinbot@db.example/optinbot")
	for _, secret := range []string{"META_APP_SECRET", "META_VERIFY_TOKEN", "META_ACCESS_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"} {
		t.Setenv(secret, "test-"+strings.ToLower(secret))
	}
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatalf("config.example.yaml does not load:\n%v", err)
	}
	if cfg.Store.DSN != "postgres://optinbot@db.example/optinbot" {
		t.Errorf("store.dsn = %q, want it expanded from the environment", cfg.Store.DSN)
	}
	if cfg.NATS.SubjectPrefix != "optinbot" || cfg.NATS.DuplicateWindow != 10*time.Minute || cfg.NATS.Workers != 8 {
		t.Errorf("nats = %+v", cfg.NATS)
	}
	if cfg.Retention.ProcessedIDs != 720*time.Hour {
		t.Errorf("retention.processed_ids = %s", cfg.Retention.ProcessedIDs)
	}
	bcs, err := cfg.BusinessConfigs()
	if err != nil {
		t.Fatalf("businesses: %v", err)
	}
	if len(bcs) != 1 || bcs[0].ID != "acme" || bcs[0].Flow.Name != "retail" {
		t.Fatalf("businesses = %+v", bcs)
	}
	if got := bcs[0].Caps.PerTopic["order_updates"]; got != 3 {
		t.Errorf("topic cap = %d, want 3", got)
	}
	if got := len(bcs[0].Keywords["en"].OptOut); got != 10 {
		t.Errorf("en opt_out has %d words, want 10", got)
	}
	providers, err := cfg.buildProviders(nil)
	if err != nil {
		t.Fatalf("providers: %v", err)
	}
	if len(providers) != 2 || providers["meta"] == nil || providers["twilio"] == nil {
		t.Errorf("providers = %v, want meta and twilio", providers)
	}
	if cfg.Webhooks.Listen != ":8080" || cfg.Webhooks.MaxBody != 1<<20 {
		t.Errorf("webhooks = %+v", cfg.Webhooks)
	}
}

// A bad config gets one clear error per problem, all at once.
func TestLoadConfigReportsEveryProblem(t *testing.T) {
	_, err := LoadConfig(filepath.Join("testdata", "bad_config.yaml"))
	if err == nil {
		t.Fatal("bad config loaded")
	}
	got := err.Error() + "\n"
	golden := filepath.Join("testdata", "bad_config.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s (run go test -update):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
	if n := strings.Count(got, "\n"); n < 9 {
		t.Errorf("want one line per problem, got %d lines", n)
	}
}
