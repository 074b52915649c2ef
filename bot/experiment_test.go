package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// TestExperimentShowsTheCustomersVariant: each customer sees the variant
// Assign picks for them, every time and after a restart; the ask is
// recorded with the variant, and the opt-in's trigger names it under the
// ledger's hash chain, which still verifies.
func TestExperimentShowsTheCustomersVariant(t *testing.T) {
	f, src := loadTestFlow(t, "experiment.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	seen := map[string]bool{}
	for i := range 12 {
		c := bot.CustomerID(fmt.Sprintf("+1415555%04d", i))
		v := f.States["welcome"].Prompt.Assign("acme", "news", "welcome", string(c))
		seen[v.ID] = true
		got := replies(h.say(c, "hi"))
		if len(got) != 1 || got[0] != v.Text {
			t.Fatalf("%s was shown %q, want variant %s: %q", c, got, v.ID, v.Text)
		}
		if i%2 == 0 {
			h.restart(f, src, bot.Caps{})
		}
		// Asked again after an unclear answer: the same variant.
		if again := replies(h.say(c, "what?")); len(again) != 1 || again[0] != v.Text {
			t.Fatalf("%s was shown %q the second time, want variant %s", c, again, v.ID)
		}
		evs := consentOf(h.say(c, "yes"))
		if len(evs) != 1 {
			t.Fatalf("%s: %d consent events, want 1", c, len(evs))
		}
		if want := "keyword yes; experiment welcome/" + v.ID; evs[0].Trigger != want || evs[0].Prompt != v.Text {
			t.Errorf("%s: opt-in trigger %q prompt %q, want %q and the variant's text", c, evs[0].Trigger, evs[0].Prompt, want)
		}
		state, variant, ok := bot.TriggerExperiment(evs[0].Trigger)
		if !ok || state != "welcome" || variant != v.ID {
			t.Errorf("TriggerExperiment(%q) = %s, %s, %v", evs[0].Trigger, state, variant, ok)
		}
		h.now = h.now.Add(time.Minute)
	}
	if !seen["control"] || !seen["short"] {
		t.Errorf("12 customers saw only %v; the test wants both variants", seen)
	}
	asks, err := h.store.PromptAsks(context.Background(), "acme", "news", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(asks) != 24 {
		t.Errorf("%d asks recorded, want 24 (12 customers, asked twice)", len(asks))
	}
	for _, a := range asks {
		if v := f.States["welcome"].Prompt.Assign("acme", "news", "welcome", string(a.Customer)); a.Variant != v.ID || a.State != "welcome" || a.FlowVersion != f.Version {
			t.Errorf("ask %+v, want variant %s of state welcome, version %s", a, v.ID, f.Version)
		}
	}
	rep, err := bot.VerifyLedger(context.Background(), h.store, 100)
	if err != nil || rep.Break != nil {
		t.Fatalf("VerifyLedger = %+v, %v", rep, err)
	}
}

// TestExperimentInTheCustomersLanguage: a Spanish-speaking customer sees
// their variant's Spanish text.
func TestExperimentInTheCustomersLanguage(t *testing.T) {
	f, src := loadTestFlow(t, "experiment.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	const c bot.CustomerID = "+34600000001"
	v := f.States["welcome"].Prompt.Assign("acme", "news", "welcome", string(c))
	h.say(c, "hola")
	got := replies(h.say(c, "Español"))
	if len(got) != 1 || got[0] != v.TextFor("es") {
		t.Errorf("shown %q, want variant %s in Spanish: %q", got, v.ID, v.TextFor("es"))
	}
}

func TestTriggerExperiment(t *testing.T) {
	for _, tc := range []struct {
		trigger, state, variant string
		ok                      bool
	}{
		{"button optin_yes; experiment welcome/short", "welcome", "short", true},
		{"button optin_yes (by number); experiment ask/b-2", "ask", "b-2", true},
		{"button optin_yes", "", "", false},
		{"keyword yes; experiment welcome", "", "", false},
		{"keyword yes; experiment /x", "", "", false},
	} {
		state, variant, ok := bot.TriggerExperiment(tc.trigger)
		if string(state) != tc.state || variant != tc.variant || ok != tc.ok {
			t.Errorf("TriggerExperiment(%q) = %q, %q, %v, want %q, %q, %v", tc.trigger, state, variant, ok, tc.state, tc.variant, tc.ok)
		}
	}
	if got := bot.ExperimentTrigger("button optin_yes", "welcome", "short"); got != "button optin_yes; experiment welcome/short" {
		t.Errorf("ExperimentTrigger = %q", got)
	}
}

// FuzzTriggerExperiment: TriggerExperiment never panics, and reads back
// what ExperimentTrigger wrote for any trigger, a state name and a
// variant id (neither holds '/').
func FuzzTriggerExperiment(f *testing.F) {
	f.Add("button optin_yes", "welcome", "short")
	f.Add("keyword yes; experiment a/b", "ask", "c-1")
	f.Add("", "s", "v")
	f.Fuzz(func(t *testing.T, trigger, state, variant string) {
		bot.TriggerExperiment(trigger)
		if state == "" || variant == "" || strings.ContainsAny(state+variant, "/") || strings.Contains(state+variant, "; experiment ") {
			return
		}
		st, v, ok := bot.TriggerExperiment(bot.ExperimentTrigger(trigger, flows.StateName(state), variant))
		if !ok || string(st) != state || v != variant {
			t.Errorf("round trip of (%q, %q, %q) = %q, %q, %v", trigger, state, variant, st, v, ok)
		}
	})
}
