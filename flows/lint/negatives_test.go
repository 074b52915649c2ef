package lint

import (
	"slices"
	"strings"
	"testing"
)

// TestNegativeOptIn: OB012 fires on every opt_in transition that a
// negative answer of any language takes, and on nothing else.
func TestNegativeOptIn(t *testing.T) {
	const good = "Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or STOP at any time."
	with := func(on string) string { return flow(good, on, "") }
	tests := []struct {
		name string
		on   string
		want []string
	}{
		{"catch-all regex", `      - regex: '.'
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"regex of anything", `      - regex: '(?s).*'
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"unanchored regex", `      - regex: '(?i)y'
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}}, // "why?", "hey"
		{"anchored regex", `      - regex: '(?i)^\s*(yes|y|yeah)\s*!*$'
        opt_in: order_updates
        goto: subscribed`, nil},
		{"keyword no", `      - keywords: [yes, "no"]
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"keyword later", `      - keywords: [yes, later]
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"keyword of another language", `      - keywords: [yes, nein]
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"two bad keywords, two findings", `      - keywords: [yes, "no", maybe]
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error", "OB012 error"}},
		{"a global keyword is OB006's alone", `      - keywords: [yes, stop]
        opt_in: order_updates
        goto: subscribed`, []string{"OB006 error"}},
		{"yes words of several languages", `      - keywords: [yes, y, ok, okay, sure, si, sí, oui, ja, sim, vale, d'accord]
        opt_in: order_updates
        goto: subscribed`, nil},
		{"negatives taken first by another transition", `      - keywords: ["no", nope, later, not now]
        end: true
      - keywords: [yes]
        opt_in: order_updates
        goto: subscribed`, nil},
		{"a regex after the refusals still takes questions", `      - keywords: ["no", nope, later, not now]
        end: true
      - regex: '\w'
        opt_in: order_updates
        goto: subscribed`, []string{"OB012 error"}},
		{"a negative on a transition without opt_in", `      - regex: '.'
        goto: subscribed`, []string{"OB007 error"}},
		{"a button is always fine", `      - button: yes
        opt_in: order_updates
        goto: subscribed`, nil},
		{"else is OB011's", `      - keywords: [yes]
        goto: subscribed
      - else: true
        opt_in: order_updates
        goto: subscribed`, []string{"OB011 error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := with(tt.on)
			if strings.Contains(tt.on, "button: yes") {
				src = strings.Replace(src, `    prompt: "`+good+`"`, `    prompt:
      text: "`+good+`"
      buttons: [{id: "yes", title: "Yes"}]`, 1)
			}
			got := lintString(t, src)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q\n%s", got, tt.want, src)
			}
		})
	}
}
