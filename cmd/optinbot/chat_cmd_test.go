package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/store/memstore"
)

func TestChatCommandPiped(t *testing.T) {
	out, _, err := runCLI(t, "hi\n1\nhelp\n", "chat", "--flow", filepath.Join("..", "..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"bot: Hi, thanks for writing to Acme Outfitters!", "     1) Yes, send updates",
		"consent: order_updates=opted_in", "bot: Acme Outfitters on WhatsApp sends order updates"} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if _, _, err := runCLI(t, "", "chat", "--flow", filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("chat started without a flow file")
	}
}

// An author edits the flow while chatting: the next message reloads it; a
// conversation under way stays on its version; a broken edit is reported
// and the last good version kept.
func TestChatReloadsTheFlow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flow.yaml")
	v1 := `business: Acme
topics:
  news: {category: marketing, description: our news}
states:
  ask:
    prompt: "v1: news from Acme on WhatsApp? Reply YES, or STOP to opt out."
    on:
      - keywords: ["yes"]
        opt_in: news
        goto: done
      - else: true
        goto: ask
  done:
    prompt: v1 done
`
	writeFile(t, path, v1)
	var out bytes.Buffer
	lc := &localChat{path: path, customer: "+14155550100", store: memstore.New(), out: &out, log: zerolog.Nop()}
	ctx := context.Background()
	if err := lc.reload(ctx, true); err != nil {
		t.Fatal(err)
	}
	say := func(text string) string {
		t.Helper()
		events, err := lc.Say(ctx, text, nil)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, e := range events {
			if e.outbound != nil {
				texts = append(texts, e.outbound.Text)
			}
		}
		return strings.Join(texts, "|")
	}
	if got := say("hi"); !strings.HasPrefix(got, "v1:") {
		t.Fatalf("first prompt %q", got)
	}
	writeFile(t, path, strings.ReplaceAll(v1, "v1", "v2"))
	if got := say("what?"); !strings.HasPrefix(got, "v1:") {
		t.Errorf("mid-conversation after an edit: %q, want the version it started on", got)
	}
	if !strings.Contains(out.String(), "(flow reloaded: version") {
		t.Errorf("no reload notice: %q", out.String())
	}
	if got := say("yes"); got != "v1 done" {
		t.Errorf("end of the old conversation: %q", got)
	}
	if got := say("hi"); !strings.HasPrefix(got, "v2:") {
		t.Errorf("a new conversation: %q, want the new version", got)
	}
	if err := os.WriteFile(path, []byte("business: [broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := say("again"); !strings.HasPrefix(got, "v2:") {
		t.Errorf("after a broken edit: %q, want the last good version", got)
	}
	if !strings.Contains(out.String(), "does not load; keeping version") {
		t.Errorf("the broken edit was not reported: %q", out.String())
	}
}
