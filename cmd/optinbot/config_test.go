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

func TestConsentWebhookConfig(t *testing.T) {
	dir := t.TempDir()
	flow, err := filepath.Abs(filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "hook.secret"), "from-a-file\n")
	load := func(hook string) (*Config, error) {
		t.Helper()
		path := filepath.Join(dir, "optinbot.yaml")
		writeFile(t, path, "store:\n  dsn: sqlite:x.db\nbusinesses:\n  - id: acme\n    flow: "+flow+
			"\n    senders: [\"1\"]\n    consent_webhook:\n"+hook)
		return LoadConfig(path)
	}
	t.Setenv("ACME_HOOK_SECRET", "from-the-env")
	for _, tc := range []struct {
		hook, secret string
	}{
		{"      url: https://crm.example.com/hook\n      secret_env: ACME_HOOK_SECRET\n", "from-the-env"},
		{"      url: http://127.0.0.1:9000/hook\n      secret_file: hook.secret\n", "from-a-file"},
	} {
		cfg, err := load(tc.hook)
		if err != nil {
			t.Fatalf("%s: %v", tc.hook, err)
		}
		targets, err := cfg.consentWebhooks()
		if err != nil || len(targets) != 1 || targets[0].Secret != tc.secret || targets[0].Business != "acme" {
			t.Errorf("%s: targets %+v, %v", tc.hook, targets, err)
		}
	}
	for _, tc := range []struct{ hook, want string }{
		{"      url: http://crm.example.com/hook\n      secret_env: ACME_HOOK_SECRET\n", `business "acme": consent_webhook.url "http://crm.example.com/hook": http:// is refused`},
		{"      url: https://crm.example.com/hook\n", `business "acme": consent_webhook: the signing secret is missing`},
		{"      url: https://crm.example.com/hook\n      secret_env: ACME_UNSET_SECRET\n", `business "acme": consent_webhook.secret_env: environment variable ACME_UNSET_SECRET is not set`},
		{"      url: https://crm.example.com/hook\n      secret_file: nowhere.secret\n", `business "acme": consent_webhook.secret_file:`},
		{"      secret_env: ACME_HOOK_SECRET\n", `business "acme": consent_webhook.url is empty`},
		{"      url: https://crm.example.com/hook\n      secret_env: ACME_HOOK_SECRET\n      secret_file: hook.secret\n", "not both"},
	} {
		_, err := load(tc.hook)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error with %q", tc.hook, err, tc.want)
		}
	}
}
