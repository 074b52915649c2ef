package bot_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

// Issue 10, item 3: near-miss opt-outs were answered as if nothing had
// happened. The retail flow is English; its opted-in customer is in state
// subscribed, whose else transition answers "Thanks! You'll get order
// updates…" to anything.

const (
	retailSubscribed = "Thanks! You'll get order updates"
	askEN            = "Do you want to stop messages from Acme Outfitters on WhatsApp? Reply STOP to confirm."
	keptEN           = "OK, nothing has changed. Reply STOP at any time to stop messages from Acme Outfitters on WhatsApp."
)

// subscribedRetail returns a harness on the retail flow whose customer
// alice has opted in and is in state subscribed.
func subscribedRetail(t *testing.T) *harness {
	t.Helper()
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes")
	if c := h.consent(alice); c["order_updates"] != bot.OptedIn {
		t.Fatalf("consent %v", c)
	}
	h.requireState(alice, "subscribed")
	return h
}

func (h *harness) conversation(c bot.CustomerID) bot.Conversation {
	h.t.Helper()
	s, err := h.store.LoadSession(context.Background(), "acme", c, h.now)
	if err != nil {
		h.t.Fatal(err)
	}
	return s.Conversation
}

func (h *harness) requireState(c bot.CustomerID, state flows.StateName) {
	h.t.Helper()
	if got := h.conversation(c).State; got != state {
		h.t.Fatalf("state %q, want %q", got, state)
	}
}

func TestNearMissOptOutsOfTheIssue(t *testing.T) {
	tests := []struct {
		text string
		// stops: an opt-out at once; otherwise the confirm question, whose
		// text starts with ask (in the phrase's language, then English).
		stops bool
		ask   string
	}{
		{"Unsubscribe me", true, ""},
		{"stop sending me messages", true, ""},
		{"Stop it", false, askEN},
		{"STOPP", false, "Möchten Sie keine Nachrichten mehr von Acme Outfitters auf WhatsApp erhalten?"},
		{"🛑", false, askEN},
		{"remove me", true, ""},
		{"no more messages", true, ""},
		{"s t o p", false, askEN},
		{"arrêter", false, "Voulez-vous ne plus recevoir de messages de Acme Outfitters sur WhatsApp ?"},
		{"se désabonner", true, ""},
		{"darme de baja", true, ""},
		{"basta", false, "¿Quieres dejar de recibir mensajes de Acme Outfitters en WhatsApp?"},
		{"no más", false, "¿Quieres dejar de recibir mensajes de Acme Outfitters en WhatsApp?"},
		{"sair", false, "Quer deixar de receber mensagens de Acme Outfitters no WhatsApp?"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			h := subscribedRetail(t)
			effects := h.say(alice, tt.text)
			r := replies(effects)
			if len(r) != 1 {
				t.Fatalf("replies %q, want one", r)
			}
			if strings.HasPrefix(r[0], retailSubscribed) {
				t.Fatalf("answered by the flow as if nothing happened: %q", r[0])
			}
			ev := consentOf(effects)
			if tt.stops {
				if len(ev) != 1 || ev[0].Status != bot.OptedOut || h.consent(alice)["order_updates"] != bot.OptedOut {
					t.Fatalf("consent events %+v, want order_updates opted_out", ev)
				}
				if !strings.HasPrefix(r[0], "You're unsubscribed from Acme Outfitters") {
					t.Errorf("reply %q, want the STOP confirmation", r[0])
				}
				return
			}
			if len(ev) != 0 || h.consent(alice)["order_updates"] != bot.OptedIn {
				t.Fatalf("the question changed consent: %+v", ev)
			}
			if !strings.HasPrefix(r[0], tt.ask) {
				t.Errorf("reply %q, want the confirm question %q", r[0], tt.ask)
			}
			if !strings.HasSuffix(r[0], askEN) {
				t.Errorf("reply %q does not end with the question in the flow's language", r[0])
			}
			h.requireState(alice, "subscribed")
			// STOP confirms.
			effects = h.say(alice, "STOP")
			if ev := consentOf(effects); len(ev) != 1 || ev[0].Status != bot.OptedOut || ev[0].Prompt != r[0] {
				t.Errorf("STOP after the question: consent %+v, want opted_out with the question as its prompt", ev)
			}
		})
	}
}

// "don't stop" and "Cancel my order" are ordinary messages: the flow gets
// them.
func TestNotOptOuts(t *testing.T) {
	for _, text := range []string{"don't stop", "Don’t stop!", "Cancel my order", "cancel my order #1234",
		"where is the bus stop?", "no", "end of story", "fine", "Finn", "Parra", "ok", "a b"} {
		t.Run(text, func(t *testing.T) {
			h := subscribedRetail(t)
			effects := h.say(alice, text)
			if r := replies(effects); len(r) != 1 || !strings.HasPrefix(r[0], retailSubscribed) {
				t.Errorf("replies %q, want the flow's answer", r)
			}
			if ev := consentOf(effects); len(ev) != 0 {
				t.Errorf("consent %+v", ev)
			}
			if c := h.conversation(alice); c.StopAsked != nil {
				t.Errorf("a stop question is pending: %+v", c.StopAsked)
			}
		})
	}
}

func TestStopQuestionAnswers(t *testing.T) {
	tests := []struct {
		answer string
		stops  bool   // the answer confirms the stop
		reply  string // the reply's start when it does not
	}{
		{"yes", true, ""},
		{"Yes please", true, ""},
		{"YES, stop", true, ""},
		{"ok", true, ""},
		{"sí", true, ""},
		{"STOP", true, ""},
		{"unsubscribe", true, ""},
		{"stop it!", true, ""},
		{"no", false, keptEN},
		{"No thanks", false, keptEN},
		{"don't stop", false, keptEN},
		{"nein", false, keptEN},
		// Anything else goes on with the flow: the question lapses.
		{"where is my parcel?", false, retailSubscribed},
		{"HELP", false, "Acme Outfitters on WhatsApp sends order updates"},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			h := subscribedRetail(t)
			ask := replies(h.say(alice, "stop it"))
			if len(ask) != 1 || ask[0] != askEN {
				t.Fatalf("question %q", ask)
			}
			if c := h.conversation(alice); c.StopAsked == nil || c.StopAsked.Text != "stop it" || c.StopAsked.Prompt != askEN {
				t.Fatalf("pending question %+v", c.StopAsked)
			}
			effects := h.say(alice, tt.answer)
			ev := consentOf(effects)
			r := replies(effects)
			if tt.stops {
				if len(ev) != 1 || ev[0].Status != bot.OptedOut {
					t.Fatalf("consent %+v, want opted_out", ev)
				}
				if ev[0].Prompt != askEN || ev[0].InboundText != tt.answer || !strings.Contains(ev[0].Trigger, `"stop it"`) {
					t.Errorf("evidence %+v: want the question as prompt, the answer and the first message", ev[0])
				}
				if len(r) != 1 || !strings.HasPrefix(r[0], "You're unsubscribed") {
					t.Errorf("replies %q", r)
				}
			} else {
				if len(ev) != 0 || h.consent(alice)["order_updates"] != bot.OptedIn {
					t.Fatalf("consent %+v changed", ev)
				}
				if len(r) != 1 || !strings.HasPrefix(r[0], tt.reply) {
					t.Errorf("replies %q, want %q…", r, tt.reply)
				}
				h.requireState(alice, "subscribed")
			}
			if c := h.conversation(alice); c.StopAsked != nil {
				t.Errorf("the question is still pending after %q", tt.answer)
			}
			// The answer consumed the question: a later "yes" is the flow's.
			if !tt.stops {
				effects = h.say(alice, "yes")
				if ev := consentOf(effects); len(ev) != 0 {
					t.Errorf("a later yes changed consent: %+v", ev)
				}
			}
		})
	}
}

// A YES to the confirm question is never an opt-in, even where the flow
// asks for one: the flow's own YES keywords confirm the stop instead.
func TestYesAfterStopQuestionIsNoOptIn(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	for _, yes := range []string{"yes", "yeah", "sure", "si", "Okay!"} {
		h := newHarness(t, f, src, bot.Caps{})
		h.say(alice, "hi") // the opt-in request
		h.say(alice, "enough")
		effects := h.say(alice, yes)
		for _, ev := range consentOf(effects) {
			if ev.Status == bot.OptedIn {
				t.Errorf("%q after the question opted in: %+v", yes, ev)
			}
		}
		if h.consent(alice)["order_updates"] != bot.OptedOut {
			t.Errorf("%q after the question: consent %v, want opted_out", yes, h.consent(alice))
		}
	}
	// A button is the customer tapping the opt-in request itself: that is
	// the flow's, and the question lapses.
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "enough")
	h.tap(alice, "optin_yes")
	if h.consent(alice)["order_updates"] != bot.OptedIn || h.conversation(alice).StopAsked != nil {
		t.Errorf("button after the question: consent %v, pending %+v", h.consent(alice), h.conversation(alice).StopAsked)
	}
}

// A customer who ignores the question goes on with the flow as if it had
// not been asked: the flow's state, prompt on record and timers are as
// before it.
func TestStopQuestionChangesNothing(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	before := h.conversation(alice)
	h.say(alice, "leave me alone")
	after := h.conversation(alice)
	if after.State != before.State || after.LastPrompt != before.LastPrompt || after.Stop != nil ||
		!slices.Equal(after.Timers, before.Timers) || after.StopAsked == nil {
		t.Errorf("conversation after the question %+v, before %+v", after, before)
	}
	effects := h.tap(alice, "optin_no")
	if r := replies(effects); len(r) != 1 || !strings.HasPrefix(r[0], "No problem, we won't send you order updates") {
		t.Errorf("the flow after an ignored question: %q", r)
	}
}

// Once the bot has said something else (a timer's prompt, a template), a
// later YES answers that, not the old question.
func TestStopQuestionLapsesWhenTheBotSpeaks(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.say(alice, "stop it")
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Fatalf("template refused: %+v", e)
	}
	if c := h.conversation(alice); c.StopAsked != nil {
		t.Errorf("the question is pending after a template: %+v", c.StopAsked)
	}
	effects := h.say(alice, "yes")
	if ev := consentOf(effects); len(ev) != 0 {
		t.Errorf("yes after the template: %+v", ev)
	}
	// A refused send says nothing: the question stays.
	h.say(alice, "STOP")
	h.say(alice, "stop it")
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectRefused {
		t.Fatalf("template to a stopped customer: %+v", e)
	}
	if c := h.conversation(alice); c.StopAsked == nil {
		t.Error("a refused template dropped the question")
	}
}

// The question and the answer to NO can be worded by the flow, per
// language; the business's display name fills {business}.
func TestStopQuestionWording(t *testing.T) {
	const src = `business: Café Olé
language: fr
messages:
  confirm_stop:
    fr: Vous voulez vraiment quitter {business} sur WhatsApp ? Répondez STOP.
    es: ¿Seguro que quieres dejar {business} en WhatsApp? Responde STOP.
  stop_declined: Très bien, rien ne change chez {business}.
topics:
  news: {category: marketing, description: nouvelles}
states:
  ask:
    prompt: Les nouvelles de Café Olé sur WhatsApp ? Répondez OUI. STOP pour arrêter.
    on:
      - keywords: [oui]
        opt_in: news
        end: true
      - else: true
        goto: ask
`
	f, err := flows.Load("cafe.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, []byte(src), bot.Caps{})
	h.say(alice, "bonjour")
	if got := h.reply(alice, "ça suffit"); got != "Vous voulez vraiment quitter Café Olé sur WhatsApp ? Répondez STOP." {
		t.Errorf("question: %q", got)
	}
	if got := h.reply(alice, "non"); got != "Très bien, rien ne change chez Café Olé." {
		t.Errorf("declined: %q", got)
	}
	// A Spanish phrase: the flow's Spanish wording, then its own.
	if got := h.reply(alice, "basta"); got != "¿Seguro que quieres dejar Café Olé en WhatsApp? Responde STOP.\n\nVous voulez vraiment quitter Café Olé sur WhatsApp ? Répondez STOP." {
		t.Errorf("question for a Spanish phrase: %q", got)
	}
	// A German one (after an answer to the flow, so that it is no answer
	// to the question): the engine's German wording, then the flow's.
	h.say(alice, "bonjour")
	if got := h.reply(alice, "genug"); !strings.HasPrefix(got, "Möchten Sie keine Nachrichten mehr von Café Olé auf WhatsApp erhalten?") ||
		!strings.HasSuffix(got, "Répondez STOP.") {
		t.Errorf("question for a German phrase: %q", got)
	}
}

// A customer whose conversation is in a language gets the question in it.
func TestStopQuestionInTheCustomersLanguage(t *testing.T) {
	f, src := loadExample(t, "tienda_es_fr.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hola")
	h.say(alice, "français")
	got := h.reply(alice, "ça suffit")
	if got != "Voulez-vous ne plus recevoir de messages de Alba Moda sur WhatsApp ? Répondez STOP pour confirmer." {
		t.Errorf("question: %q", got)
	}
	// In a Spanish flow, ALTO is certain and darme de baja too; basta asks.
	h.say(bob, "hola")
	if ev := consentOf(h.say(bob, "quiero darme de baja")); len(ev) == 0 {
		t.Error("quiero darme de baja did not opt out")
	}
	if got := h.reply(bob, "basta"); got != "¿Quieres dejar de recibir mensajes de Alba Moda en WhatsApp? Responde STOP para confirmar." {
		t.Errorf("question: %q", got)
	}
}

// Whatever the customer answers to the question whether to stop, asked
// in the opt-in request, it records no opt-in.
func FuzzNoOptInAfterStopQuestion(f *testing.F) {
	for _, s := range []string{"yes", "Yes please!", "sure", "si", "ok", "y", "yeah", "no", "STOP", "START", "HELP",
		"where is my parcel?", "🛑", "", "YES YES", "okay thanks", "yes no"} {
		f.Add(s)
	}
	fl, src := loadExample(&testing.T{}, examples.Retail)
	f.Fuzz(func(t *testing.T, answer string) {
		h := newHarness(t, fl, src, bot.Caps{})
		h.say(alice, "hi")
		h.say(alice, "stop it")
		for _, ev := range consentOf(h.say(alice, answer)) {
			if ev.Status == bot.OptedIn {
				t.Fatalf("%q after the question opted in: %+v", answer, ev)
			}
		}
	})
}
