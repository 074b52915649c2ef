package bot_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

func fullHarness(t *testing.T) *harness {
	t.Helper()
	f, src := loadTestFlow(t, "full.yaml")
	return newHarness(t, f, src, bot.Caps{})
}

func lastMessage(t *testing.T, effects []bot.Effect) *bot.Message {
	t.Helper()
	for i := len(effects) - 1; i >= 0; i-- {
		if effects[i].Kind == bot.EffectMessage {
			return effects[i].Message
		}
	}
	t.Fatalf("no message in %v", kinds(effects))
	return nil
}

func TestCaptureVariablesFragmentsAndLists(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	msg := lastMessage(t, h.say(alice, "Ana"))
	if msg.Text != "Thanks Ana! Would you like appointment reminders from Sunny Clinic on WhatsApp? Reply STOP at any time to opt out." {
		t.Errorf("rendered prompt %q", msg.Text)
	}
	if msg.List == nil || msg.List.Button != "Choose" || len(msg.List.Rows) != 3 || msg.List.Rows[2].ID != "agent" {
		t.Fatalf("list %+v", msg.List)
	}
	// A list row comes back as the tapped id; a digit picks a row too where
	// the rows were shown numbered (issue 10, item 4).
	ev := consentOf(h.inbound(bot.Inbound{ID: h.nextID(), Sender: twilioSender, Customer: alice, Timestamp: h.now, Text: "1"}))
	if len(ev) != 1 || ev[0].Topic != "reminders" || !strings.HasPrefix(ev[0].Prompt, "Thanks Ana!") {
		t.Errorf("row by number: %+v", ev)
	}
	if m := lastMessage(t, h.say(alice, "START")); !strings.Contains(m.Text, "no paused") {
		t.Errorf("unexpected %q", m.Text)
	}
}

func TestRegexTransition(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	h.say(alice, "Ana")
	ev := consentOf(h.say(alice, "Sí, claro"))
	if len(ev) != 1 || !strings.HasPrefix(ev[0].Trigger, "regex ") {
		t.Errorf("regex answer: %+v", ev)
	}
}

func TestLanguageVariants(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	if m := lastMessage(t, h.say(alice, "Español")); m.Text != "¡Hola! ¿Cómo te llamas?" {
		t.Errorf("Spanish prompt %q", m.Text)
	}
	m := lastMessage(t, h.say(alice, "Ana"))
	if !strings.HasPrefix(m.Text, "¡Gracias Ana!") || m.List == nil || m.List.Button != "Elegir" || m.List.Rows[0].Title != "Sí" {
		t.Errorf("Spanish list prompt %+v %+v", m.Text, m.List)
	}
	// ALTO is Spanish for STOP: every configured language's opt-out words apply.
	if ev := consentOf(h.say(alice, "ALTO")); len(ev) != 2 {
		t.Errorf("ALTO: %+v", ev)
	}
}

func TestHandoffSilencesTheBot(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	h.say(alice, "Ana")
	effects := h.tap(alice, "agent")
	// The customer is told (see handoff_test.go), then the agents' queue
	// gets the handoff.
	if len(effects) != 2 || effects[0].Kind != bot.EffectMessage || effects[1].Kind != bot.EffectHandoff ||
		effects[1].Handoff.Queue != "front-desk" || effects[1].Handoff.Vars["name"] != "Ana" || effects[1].Handoff.State != "ask_reminders" {
		t.Fatalf("handoff effects %+v", effects)
	}
	if got := h.say(alice, "hello? is anyone there"); len(replies(got)) != 0 {
		t.Errorf("the bot answered during a handoff: %v", kinds(got))
	}
	if r := replies(h.say(alice, "help")); len(r) != 1 {
		t.Errorf("HELP during a handoff: %q", r)
	}
	if ev := consentOf(h.say(alice, "stop")); len(ev) != 2 {
		t.Errorf("STOP during a handoff: %+v", ev)
	}
	h.now = h.now.Add(25 * time.Hour)
	if r := replies(h.say(alice, "hi again")); len(r) != 1 || !strings.HasPrefix(r[0], "Hi! What's your name?") {
		t.Errorf("after the handoff's day: %q", r)
	}
}

func (h *harness) fireTimers() []bot.Effect {
	h.t.Helper()
	var all []bot.Effect
	due, err := h.store.DueTimers(context.Background(), h.now.Add(time.Microsecond), 100)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, d := range due {
		effects, err := h.svc.HandleTimer(context.Background(), d)
		if err != nil {
			h.t.Fatal(err)
		}
		all = append(all, effects...)
	}
	return all
}

func TestAfterTimerFiresAndSurvivesARestart(t *testing.T) {
	f, src := loadTestFlow(t, "full.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.now = h.now.Add(time.Hour)
	if got := h.fireTimers(); len(got) != 0 {
		t.Fatalf("fired early: %v", kinds(got))
	}
	h.restart(f, src, bot.Caps{}) // the timer is in the store, not in memory
	h.now = h.now.Add(time.Hour)
	n, err := h.svc.FireDueTimers(context.Background(), h.now, 10)
	if err != nil || n != 1 {
		t.Fatalf("FireDueTimers = %d, %v", n, err)
	}
	s, _ := h.store.LoadSession(context.Background(), "acme", alice, h.now)
	if s.Conversation.State != "nudge" || !strings.HasPrefix(s.Conversation.LastPrompt, "Still there, there?") {
		t.Errorf("after the timer: state %q prompt %q", s.Conversation.State, s.Conversation.LastPrompt)
	}
	// Fired once: firing again finds nothing.
	if n, _ := h.svc.FireDueTimers(context.Background(), h.now.Add(time.Hour), 10); n != 0 {
		t.Errorf("fired %d more", n)
	}
}

func TestAnswerCancelsTheTimer(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	h.say(alice, "Ana") // leaves ask_name: its after-2h timer goes
	h.now = h.now.Add(3 * time.Hour)
	for _, e := range h.fireTimers() {
		if e.Message != nil && strings.HasPrefix(e.Message.Text, "Still there") {
			t.Errorf("the nudge fired after the customer answered")
		}
	}
}

func TestBeforeWindowClosesFiresOnceInsideTheWindow(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	h.say(alice, "Ana") // ask_reminders: window closes at +24h, timer at +23h30m
	h.now = h.now.Add(23*time.Hour + 29*time.Minute)
	if got := h.fireTimers(); len(got) != 0 {
		t.Fatalf("fired early: %v", kinds(got))
	}
	h.now = h.now.Add(time.Minute)
	got := h.fireTimers()
	if m := lastMessage(t, got); !strings.HasPrefix(m.Text, "Last chance today, Ana") {
		t.Errorf("last call %q", m.Text)
	}
	if ev := consentOf(h.say(alice, "yes")); len(ev) != 1 {
		t.Errorf("YES to the last call: %+v", ev)
	}
}

// A topic's frequency_cap in the flow caps its templates.
func TestFlowTopicFrequencyCap(t *testing.T) {
	h := fullHarness(t)
	h.say(alice, "hi")
	h.say(alice, "Ana")
	h.say(alice, "yes") // reminders
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectMessage {
		t.Fatalf("first reminder: %+v", e)
	}
	// offers (frequency_cap: 1) has no consent; reminders has no topic cap.
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectMessage {
		t.Errorf("second reminder: %+v", e)
	}
	b, _ := h.svc.Business("acme")
	if b.Caps.PerTopic["offers"] != 1 || b.Caps.PerTopic["reminders"] != 0 {
		t.Errorf("caps %+v", b.Caps)
	}
}

func TestConsentGrantedByAnotherSource(t *testing.T) {
	f, err := flows.Load("grant.yaml", []byte(`business: Acme
topics:
  news: {category: marketing, description: our news, granted_by: [web, signup]}
  orders: {category: utility, description: order updates}
templates:
  - {name: weekly, topic: news}
states:
  ask:
    prompt: "Our news from Acme on WhatsApp? Reply YES, or STOP to opt out."
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
	grant := bot.ConsentGrant{ID: "form-1", Business: "acme", Customer: alice, Topic: "news", Source: bot.SourceWeb,
		Wording: "Our news from Acme on WhatsApp: yes please. Reply STOP to opt out.", At: t0.Add(-time.Hour)}
	effects, err := h.svc.HandleConsentGrant(context.Background(), grant)
	if err != nil {
		t.Fatal(err)
	}
	ev := consentOf(effects)
	if len(ev) != 1 || ev[0].Source != bot.SourceWeb || ev[0].Prompt != grant.Wording || ev[0].InboundID != "form-1" || ev[0].Status != bot.OptedIn {
		t.Errorf("grant recorded %+v", ev)
	}
	if e := h.send(alice, bot.KindTemplate, "weekly"); e.Kind != bot.EffectMessage {
		t.Errorf("template after a web grant: %+v", e)
	}
	// A grant the flow does not allow is refused with a notice saying why
	// (issue 10: a refused grant is an explicit refusal, not a dropped input).
	for _, tc := range []struct {
		grant bot.ConsentGrant
		want  bot.GrantReason
	}{
		{bot.ConsentGrant{ID: "g2", Customer: alice, Topic: "orders", Source: bot.SourceWeb, Wording: "x"}, bot.GrantSourceNotAllowed},       // orders has no granted_by
		{bot.ConsentGrant{ID: "g3", Customer: alice, Topic: "news", Source: bot.SourceSMSCampaign, Wording: "x"}, bot.GrantSourceNotAllowed}, // not listed
		{bot.ConsentGrant{ID: "g4", Customer: alice, Topic: "news", Source: bot.SourceWeb}, bot.GrantWordingIncomplete},                      // no wording
		{bot.ConsentGrant{ID: "g5", Customer: alice, Topic: "nope", Source: bot.SourceWeb, Wording: "x"}, bot.GrantUnknownTopic},
	} {
		effects, err := h.svc.HandleConsentGrant(context.Background(), tc.grant)
		if err != nil || len(effects) != 1 || effects[0].Notice == nil || effects[0].Notice.Grant == nil ||
			effects[0].Notice.Grant.Reason != tc.want || effects[0].Notice.Grant.ID != tc.grant.ID {
			t.Errorf("grant %+v: %v %+v, want a grant_refused notice %s", tc.grant, err, effects, tc.want)
		}
	}
	if _, err := h.svc.HandleConsentGrant(context.Background(), bot.ConsentGrant{Customer: alice, Topic: "news", Source: bot.SourceWeb}); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("a grant without an id: err = %v, want bad input", err)
	}
	if again, err := h.svc.HandleConsentGrant(context.Background(), grant); err != nil || len(again) != 0 {
		t.Errorf("a repeated grant: %v %v", again, err)
	}
}
