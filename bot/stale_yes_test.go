package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

// Issue 10, item 4: a YES 30 days after the question opted in with the old
// prompt as evidence. An opt-in request now expires when the customer
// service window it was sent in closes; the answer to an expired request
// gets the question again, and only the answer to that counts.
func TestStaleYesAsksAgain(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, tc := range []struct {
		name   string
		answer func(h *harness) []bot.Effect
	}{
		{"typed", func(h *harness) []bot.Effect { return h.say(alice, "YES") }},
		{"tapped", func(h *harness) []bot.Effect { return h.tap(alice, "optin_yes") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, f, src, bot.Caps{})
			h.say(alice, "hi")
			h.now = h.now.Add(30 * 24 * time.Hour)
			effects := tc.answer(h)
			if ev := consentOf(effects); len(ev) != 0 {
				t.Fatalf("YES 30 days after the question recorded %+v", ev)
			}
			asked := replies(effects)
			if len(asked) != 1 || asked[0] != f.States["welcome"].Prompt.Text {
				t.Fatalf("answer to an expired request got %q, want the question again", asked)
			}
			if e := h.send(alice, bot.KindTemplate, "shipped"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonNoConsent {
				t.Errorf("template after a stale YES: %+v", e)
			}
			h.now = h.now.Add(time.Minute)
			ev := consentOf(tc.answer(h))
			if len(ev) != 1 || ev[0].Status != bot.OptedIn {
				t.Fatalf("YES to the question asked again: %+v", ev)
			}
			// The evidence is the fresh question, answered a minute after it.
			led := h.ledger(alice)
			if last := led[len(led)-1]; last.At != h.now || last.Prompt != asked[0] {
				t.Errorf("ledger event %+v", last)
			}
		})
	}
}

// The request lasts exactly as long as the window it was sent in.
func TestOptInRequestExpiresWhenTheWindowCloses(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, tc := range []struct {
		after time.Duration
		yes   bool
	}{{23*time.Hour + 59*time.Minute, true}, {24 * time.Hour, false}, {25 * time.Hour, false}} {
		h := newHarness(t, f, src, bot.Caps{})
		h.say(alice, "hi")
		h.now = h.now.Add(tc.after)
		if got := len(consentOf(h.say(alice, "yes"))) == 1; got != tc.yes {
			t.Errorf("YES %s after the question: opted in %v, want %v", tc.after, got, tc.yes)
		}
	}
}

// Writing something else in between (HELP) extends the window, not the
// request: the question was asked when it was asked.
func TestHelpDoesNotRenewTheRequest(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.now = h.now.Add(23 * time.Hour)
	h.say(alice, "HELP")
	h.now = h.now.Add(2 * time.Hour)
	if ev := consentOf(h.say(alice, "yes")); len(ev) != 0 {
		t.Errorf("YES 25 hours after the question, 2 after HELP: %+v", ev)
	}
}

const expiryFlow = `business: Acme
opt_in_expiry: 1h
topics:
  news: {category: marketing, description: our news}
templates:
  - {name: weekly, topic: news}
states:
  ask:
    prompt: "Our news from Acme on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: news
        goto: done
      - else: true
        goto: ask
  done:
    prompt: Done.
`

// A flow may make the request expire sooner.
func TestFlowOptInExpiry(t *testing.T) {
	f, err := flows.Load("expiry.yaml", []byte(expiryFlow))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, nil, bot.Caps{})
	h.say(alice, "hi")
	h.now = h.now.Add(59 * time.Minute)
	h.say(alice, "what news?") // else: the question again, a fresh hour
	h.now = h.now.Add(59 * time.Minute)
	if ev := consentOf(h.say(alice, "yes")); len(ev) != 1 {
		t.Fatalf("YES 59 minutes after the question: %+v", ev)
	}
	h2 := newHarness(t, f, nil, bot.Caps{})
	h2.say(alice, "hi")
	h2.now = h2.now.Add(time.Hour)
	if ev := consentOf(h2.say(alice, "yes")); len(ev) != 0 {
		t.Errorf("YES an hour after the question, with opt_in_expiry 1h: %+v", ev)
	}
}

// A question the guard refused to send (the window had closed when a
// timer asked it) was never seen: a YES is no answer to it.
func TestUnsentQuestionIsNoRequest(t *testing.T) {
	f, err := flows.Load("nudge.yaml", []byte(`business: Acme
topics:
  news: {category: marketing, description: our news}
states:
  hello:
    prompt: Hello!
    on:
      - after: 25h
        goto: ask
      - else: true
        goto: hello
  ask:
    prompt: "Our news from Acme on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: news
        goto: done
  done:
    prompt: Done.
`))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, nil, bot.Caps{})
	h.say(alice, "hi")
	h.now = h.now.Add(25 * time.Hour)
	fired := h.fireTimers()
	if len(fired) != 1 || fired[0].Kind != bot.EffectRefused {
		t.Fatalf("the timer's question after the window closed: %v", kinds(fired))
	}
	effects := h.say(alice, "yes")
	if ev := consentOf(effects); len(ev) != 0 {
		t.Fatalf("YES to a question never sent: %+v", ev)
	}
	if r := replies(effects); len(r) != 1 || !strings.HasPrefix(r[0], "Our news from Acme") {
		t.Errorf("reply %q, want the question, now sent", r)
	}
	if ev := consentOf(h.say(alice, "yes")); len(ev) != 1 {
		t.Errorf("YES to the question once sent: %+v", ev)
	}
}

// Issue 10, item 4: a bare digit counts as a button only where the prompt
// showed numbered choices.
func TestBareDigitNeedsNumberedChoices(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	effects := h.say(alice, "1")
	if ev := consentOf(effects); len(ev) != 0 {
		t.Fatalf("a bare 1 to buttons shown as buttons recorded %+v", ev)
	}
	if r := replies(effects); len(r) != 1 || !strings.HasPrefix(r[0], "Sorry, I didn't get that") {
		t.Errorf("reply to a bare 1: %q, want the flow's else", r)
	}

	// The prompt's own text numbers its choices: the number is an answer.
	numbered, err := flows.Load("numbered.yaml", []byte(`business: Acme
topics:
  news: {category: marketing, description: our news}
states:
  ask:
    prompt:
      text: "Our news from Acme on WhatsApp? Reply STOP at any time to opt out.\n1) Yes\n2) No"
      buttons:
        - {id: yes, title: "Yes"}
        - {id: no, title: "No"}
    on:
      - button: yes
        opt_in: news
        goto: done
      - button: no
        goto: done
  done:
    prompt: Done.
`))
	if err != nil {
		t.Fatal(err)
	}
	h = newHarness(t, numbered, nil, bot.Caps{})
	h.say(alice, "hi")
	ev := consentOf(h.say(alice, "1"))
	if len(ev) != 1 || ev[0].Trigger != "button yes (by number)" {
		t.Errorf("1 where the text numbers the choices: %+v", ev)
	}
	h = newHarness(t, numbered, nil, bot.Caps{})
	h.say(alice, "hi")
	if ev := consentOf(h.say(alice, "3")); len(ev) != 0 {
		t.Errorf("3 beyond the choices: %+v", ev)
	}
}

// START's confirmation since the question does not hide that the
// question numbered its choices.
func TestNumberedChoicesAfterStart(t *testing.T) {
	f, err := flows.Load("numbered.yaml", []byte(`business: Acme
topics:
  news: {category: marketing, description: our news}
  tips: {category: marketing, description: our tips}
states:
  ask:
    prompt:
      text: "Our news from Acme on WhatsApp? Reply STOP at any time to opt out.\n1) Yes\n2) No"
      buttons:
        - {id: yes, title: "Yes"}
        - {id: no, title: "No"}
    on:
      - button: yes
        opt_in: news
        goto: tips
      - button: no
        goto: tips
  tips:
    prompt: "And our tips from Acme on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: tips
        end: true
`))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, nil, bot.Caps{})
	h.say(alice, "hi")
	h.tap(alice, "yes")
	h.say(alice, "STOP")
	h.say(alice, "hi") // the question again
	if ev := consentOf(h.say(alice, "START")); len(ev) != 1 {
		t.Fatalf("START: %+v", ev)
	}
	if ev := consentOf(h.say(alice, "2")); len(ev) != 0 {
		t.Errorf("2 (No) after START: %+v", ev)
	}
	if s, _ := h.store.LoadSession(t.Context(), "acme", alice, h.now); s.Conversation.State != "tips" {
		t.Errorf("state %q after 2, want tips: the number picked the second button", s.Conversation.State)
	}
}
