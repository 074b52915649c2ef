package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebhookParseCommand(t *testing.T) {
	metaData := filepath.Join("..", "..", "adapters", "meta", "testdata")
	out, _, err := runCLI(t, "", "webhook", "parse", "--provider", "meta", "--received-at", "2026-01-01T09:30:00Z",
		filepath.Join(metaData, "text.json"), filepath.Join(metaData, "bad_timestamp_in_batch.json"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	golden(t, "webhook_parse_meta.golden", out)
	if !strings.Contains(out, `"error":`) {
		t.Errorf("the bad item is not printed with an error field:\n%s", out)
	}

	body := filepath.Join(metaData, "signature", "real_meta_text.body")
	const secret, signature = "1222e786b144d0e85b9f365372d93676", "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
	_, stderr, err := runCLI(t, "", "webhook", "parse", "--provider", "meta", "--secret", secret, "--signature", signature, body)
	if err != nil || !strings.Contains(stderr, "signature holds") {
		t.Errorf("a good signature: %v %s", err, stderr)
	}
	_, stderr, err = runCLI(t, "", "webhook", "parse", "--provider", "meta", "--secret", "wrong", "--signature", signature, body)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 || !strings.Contains(stderr, "does not hold") {
		t.Errorf("a wrong secret: %v %s", err, stderr)
	}
	for _, args := range [][]string{
		{"webhook", "parse", "--provider", "smoke-signals", body},
		{"webhook", "parse", "--provider", "twilio", "--secret", "x", "--signature", "y", body},
		{"webhook", "parse", "--provider", "meta", "--secret", "x", body},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
