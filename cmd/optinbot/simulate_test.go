package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulateCommand(t *testing.T) {
	flow := filepath.Join("..", "..", "flows", "examples", "retail.yaml")
	in := `{"from":"+14155550100","text":"hi"}
{"from":"+14155550100","button":"optin_yes","id":"w1"}
{"from":"+14155550100","button":"optin_yes","id":"w1"}
not json
{"send_template":{"to":"+14155550100","template":"shipped","topic":"order_updates"}}
{"advance":"25h"}
{"send_text":{"to":"+14155550100","text":"still there?"}}
`
	out, _, err := runCLI(t, in, "simulate", "--flow", flow)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	golden(t, "simulate.golden", out)
}

func TestSimulateExitsTwoOnABrokenFlow(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	writeFile(t, broken, "business: Acme\nstates:\n  welcome:\n    promt: hi\n")
	_, _, err := runCLI(t, "", "simulate", "--flow", broken)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("err = %v, want exit code 2", err)
	}
	if !strings.Contains(err.Error(), "broken.yaml:4:5: unknown key 'promt'") {
		t.Errorf("the error does not point at the mistake: %v", err)
	}
	for _, args := range [][]string{{"simulate"}, {"simulate", "--flow", filepath.Join(t.TempDir(), "missing.yaml")}} {
		if _, _, err := runCLI(t, "", args...); !errors.As(err, &ee) || ee.code != 2 {
			t.Errorf("%v: err = %v, want exit code 2", args, err)
		}
	}
}

func TestLintCommand(t *testing.T) {
	out, _, err := runCLI(t, "", "lint", filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil || out != "" {
		t.Errorf("the shipped flow does not lint clean: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, `business: Acme
topics:
  news: {category: marketing, description: our weekly news}
states:
  ask:
    prompt: Want news?
    on:
      - keywords: ["yes"]
        opt_in: news
        goto: done
  done:
    prompt: Done.
`)
	out, _, err = runCLI(t, "", "lint", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 1 {
		t.Fatalf("err = %v, want exit 1", err)
	}
	if !strings.Contains(out, "bad.yaml:6:13: OB") || !strings.Contains(out, "WhatsApp") {
		t.Errorf("findings:\n%s", out)
	}
}
