package compliance

import (
	"context"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

// negativeFlow is a flow whose opt-in request is its second state, reached
// by a button, answered by the given transitions; extra is top-level YAML.
func negativeFlow(on, extra string) string {
	return `name: negatives
business: Brewline Coffee
` + extra + `
topics:
  news:
    category: marketing
    description: weekly coffee news
states:
  hello:
    prompt:
      text: Hi! Tap Go to hear about our news.
      buttons: [{id: go, title: Go}]
    on:
      - button: go
        goto: ask
      - else: true
        goto: hello
  ask:
    prompt: Would you like weekly coffee news from Brewline Coffee on WhatsApp? Reply STOP at any time to opt out.
    on:
` + on + `
  subscribed:
    prompt: Thanks! Reply STOP at any time to opt out.
    on:
      - else: true
        goto: subscribed
`
}

// TestOnlyYesGrants: every way of issue 10 to record a "no" as consent
// violates P6, at the transition that recorded it, with a conversation
// that goes through the button to the opt-in request; honest yes answers
// do not.
func TestOnlyYesGrants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		on     string
		extra  string
		answer string // the negative answer reported; "" when P6 holds
	}{
		{"catch-all regex", `      - regex: '.'
        opt_in: news
        goto: subscribed`, "", "no"},
		{"else", `      - keywords: ["yes"]
        goto: subscribed
      - else: true
        opt_in: news
        goto: subscribed`, "", "no"},
		{"keyword no", `      - keywords: ["yes", "no"]
        opt_in: news
        goto: subscribed`, "", "no"},
		{"keyword later", `      - keywords: ["yes", "later"]
        opt_in: news
        goto: subscribed`, "", "later"},
		{"keyword of another language", `      - keywords: ["yes", "nein"]
        opt_in: news
        goto: subscribed`, "", "nein"},
		{"keyword stop where STOP is no opt-out word", `      - keywords: ["yes", "stop"]
        opt_in: news
        goto: subscribed`, "keywords: {en: {opt_out: [UNSUBSCRIBE]}}", "stop"},
		{"unanchored regex", `      - regex: '(?i)y'
        opt_in: news
        goto: subscribed`, "", "no thank you"},
		{"stop is answered before the flow", `      - keywords: ["yes", "stop"]
        opt_in: news
        goto: subscribed`, "", ""},
		{"yes words", `      - keywords: ["yes", "y", "ok", "sure", "sí", "oui", "ja", "sim"]
        opt_in: news
        goto: subscribed
      - else: true
        end: true`, "", ""},
		{"anchored regex", `      - regex: '(?i)^\s*(yes|y|yeah)\s*!*$'
        opt_in: news
        goto: subscribed
      - else: true
        goto: ask`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := []byte(negativeFlow(tc.on, tc.extra))
			f, err := flows.Load("negatives.yaml", src)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Explore(context.Background(), f, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var p6 *Violation
			for i, v := range rep.Violations {
				if v.Property == OnlyYesGrants {
					p6 = &rep.Violations[i]
				}
			}
			if tc.answer == "" {
				if p6 != nil {
					t.Errorf("P6 violated: %s", p6.Message)
				}
				return
			}
			if p6 == nil {
				t.Fatalf("P6 holds; violations %+v", rep.Violations)
			}
			if !strings.HasPrefix(p6.Message, "the negative answer \""+tc.answer+"\" opted the customer in to news") {
				t.Errorf("message %q, want the answer %q", p6.Message, tc.answer)
			}
			grant := f.States["ask"].On[0]
			if strings.Contains(tc.on, "else") {
				grant = f.States["ask"].On[1]
			}
			if p6.State != "ask" || p6.Pos != grant.Pos {
				t.Errorf("P6 at %s %v, want ask %v", p6.State, p6.Pos, grant.Pos)
			}
			want := []string{"user: zzz unmatched", "bot: Hi! Tap Go to hear about our news. [go: Go]", "user: [go]"}
			if conv := p6.Conversation; len(conv) < 6 || strings.Join(conv[:3], "\n") != strings.Join(want, "\n") ||
				conv[4] != "user: "+tc.answer || conv[5] != "consent: news opted_in" {
				t.Errorf("conversation:\n%s", strings.Join(conv, "\n"))
			}
		})
	}
}
