package bot_test

import (
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// catchAllOptIn is the flow of issue 10: a regex that takes any text
// records the opt-in, so a customer who answers "no" is opted in. The
// engine follows the flow; lint (OB012) and the compliance explorer (P6)
// refuse it, and they rely on Machine.MatchText agreeing with the engine.
const catchAllOptIn = `name: catch_all
business: Acme Outfitters
topics:
  order_updates:
    category: utility
    description: updates about your orders
templates:
  - {name: shipped, topic: order_updates}
states:
  ask:
    prompt: Would you like updates about your orders from Acme Outfitters on WhatsApp? Reply STOP at any time to opt out.
    on:
      - keywords: ["no thanks"]
        end: true
      - regex: '.'
        opt_in: order_updates
        end: true
      - else: true
        end: true
`

// TestMatchTextAgreesWithTheEngine: for every negative answer, the
// transition MatchText names is the one the engine takes, and so whether
// the answer records consent: "no" does with the catch-all regex, nothing
// does in the shipped retail flow.
func TestMatchTextAgreesWithTheEngine(t *testing.T) {
	catchAll, err := flows.Load("catch_all.yaml", []byte(catchAllOptIn))
	if err != nil {
		t.Fatal(err)
	}
	retail, retailSrc := loadExample(t, "retail.yaml")
	for _, tc := range []struct {
		f     *flows.Flow
		src   []byte
		state flows.StateName
		// grants are answers that must record consent in this flow.
		grants []string
	}{
		{catchAll, []byte(catchAllOptIn), "ask", []string{"no", "later", "what?", "nein", "👎"}},
		{retail, retailSrc, "welcome", nil},
	} {
		kw := bot.NewKeywords(tc.f.Language, nil)
		m, err := bot.Compile(tc.f, kw.Polite())
		if err != nil {
			t.Fatal(err)
		}
		granted := map[string]bool{}
		for _, neg := range flows.AllNegativeAnswers() {
			if kw.Match(neg.Text).Kind != bot.KeywordNone {
				continue // answered by the engine before the flow
			}
			h := newHarness(t, tc.f, tc.src, bot.Caps{})
			h.say(alice, "hi") // the start state's prompt
			effects := h.say(alice, neg.Text)
			tr, _, trigger := m.MatchText(tc.state, neg.Text)
			wantGrant := tr != nil && tr.OptIn != ""
			gotGrant := len(consentOf(effects)) > 0
			if gotGrant != wantGrant {
				t.Errorf("%s: %q recorded consent %v, MatchText says %q (opt_in %v)", tc.f.Name, neg.Text, gotGrant, trigger, wantGrant)
			}
			granted[neg.Text] = gotGrant
		}
		for _, want := range tc.grants {
			if !granted[want] {
				t.Errorf("%s: %q did not record consent", tc.f.Name, want)
			}
		}
		if tc.grants == nil {
			for text, g := range granted {
				if g {
					t.Errorf("%s: negative answer %q recorded consent", tc.f.Name, text)
				}
			}
		}
		if granted["no thanks"] {
			t.Errorf("%s: \"no thanks\" recorded consent: an earlier transition takes it", tc.f.Name)
		}
	}
}

func TestMatchText(t *testing.T) {
	f, _ := loadExample(t, "retail.yaml")
	m, err := bot.Compile(f, bot.NewKeywords("en", nil).Polite())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		state         flows.StateName
		text, trigger string
		index         int
	}{
		{"welcome", "Yes please!", "keyword yes", 0},
		{"welcome", "not now", "keyword not now", 1},
		{"welcome", "1", "button optin_yes (by number)", 0},
		{"welcome", "what is this?", "else", 2},
		{"nowhere", "yes", "", -1},
	} {
		tr, i, trigger := m.MatchText(tc.state, tc.text)
		if trigger != tc.trigger || i != tc.index || (tr == nil) != (tc.index < 0) {
			t.Errorf("MatchText(%s, %q) = %v, %d, %q; want %d, %q", tc.state, tc.text, tr != nil, i, trigger, tc.index, tc.trigger)
		}
		if tr != nil && tr != &f.States[tc.state].On[i] {
			t.Errorf("MatchText(%s, %q): not transition %d of the flow", tc.state, tc.text, i)
		}
	}
}
