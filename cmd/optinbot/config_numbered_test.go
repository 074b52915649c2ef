package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The example's Twilio sender shows buttons as numbered lines, so a bare
// number answers them there; its Meta sender shows real buttons (issue
// 10, item 4).
func TestTwilioSendersNumberChoices(t *testing.T) {
	t.Setenv("OPTINBOT_DATABASE_URL", "postgres://optinbot@db.example/optinbot")
	for _, secret := range []string{"META_APP_SECRET", "META_VERIFY_TOKEN", "META_ACCESS_TOKEN", "TWILIO_AUTH_TOKEN"} {
		t.Setenv(secret, "test-"+strings.ToLower(secret))
	}
	t.Setenv("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef")
	cfg, err := LoadConfig(filepath.Join("..", "..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bcs, err := cfg.BusinessConfigs()
	if err != nil || len(bcs) != 1 {
		t.Fatalf("businesses %+v: %v", bcs, err)
	}
	if got := bcs[0].NumberedSenders; !slices.Equal(got, []string{"+14155550199"}) {
		t.Errorf("numbered senders %q, want the Twilio sender only", got)
	}
	cfg.Providers.Twilio = nil
	if bcs, _ := cfg.BusinessConfigs(); len(bcs[0].NumberedSenders) != 0 {
		t.Errorf("numbered senders without Twilio: %q", bcs[0].NumberedSenders)
	}
}
