package bot_test

import (
	"slices"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// localizedFlow has its help text, keyword answers and topic descriptions
// in English and Spanish, but for not_stopped and the description of
// offers, which are English only.
const localizedFlow = `business: Acme
language: en
help:
  en: Acme on WhatsApp. Reply STOP to unsubscribe.
  es: Acme en WhatsApp. Responde ALTO para darte de baja.
messages:
  stopped:
    en: You're unsubscribed from {business}.
    es: Te has dado de baja de {business}.
  restarted:
    en: "Welcome back to {business}: {topics}."
    es: "Hola de nuevo a {business}: {topics}."
  not_stopped: Nothing to restart at {business}.
topics:
  news:
    category: marketing
    description: {en: weekly news, es: noticias semanales}
  offers:
    category: marketing
    description: offers
states:
  news:
    prompt:
      text: Weekly news from Acme on WhatsApp? Reply YES. Reply STOP to opt out. (Para español, escribe ESPAÑOL)
      variants:
        es: ¿Noticias semanales de Acme por WhatsApp? Responde SÍ. Responde ALTO para darte de baja.
    on:
      - keywords: [español, espanol]
        set: {language: es}
        goto: news
      - keywords: [yes, sí]
        opt_in: news
        goto: offers
      - else: true
        goto: news
  offers:
    prompt:
      text: And offers from Acme on WhatsApp? Reply YES. Reply STOP to opt out.
      variants:
        es: ¿Y offers de Acme por WhatsApp? Responde SÍ. Responde ALTO para darte de baja.
    on:
      - keywords: [yes, sí]
        opt_in: offers
        end: true
      - else: true
        end: true
`

const bob bot.CustomerID = "+14155550101"

func localizedHarness(t *testing.T) *harness {
	t.Helper()
	f, err := flows.Load("localized.yaml", []byte(localizedFlow))
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, f, []byte(localizedFlow), bot.Caps{})
}

// reply sends text and returns the single reply to it.
func (h *harness) reply(c bot.CustomerID, text string) string {
	h.t.Helper()
	r := replies(h.say(c, text))
	if len(r) != 1 {
		h.t.Fatalf("%q: replies %q, want one", text, r)
	}
	return r[0]
}

func TestHelpInTheCustomersLanguage(t *testing.T) {
	h := localizedHarness(t)
	// Before any language is chosen: the flow's for an English keyword…
	carol := bot.CustomerID("+14155550177")
	if got := h.reply(carol, "HELP"); got != "Acme on WhatsApp. Reply STOP to unsubscribe." {
		t.Errorf("HELP with no language: %q", got)
	}
	// …and the keyword's own language when the flow speaks it: AYUDA is
	// Spanish, and so is the customer from then on.
	dave := bot.CustomerID("+14155550188")
	if got := h.reply(dave, "AYUDA"); got != "Acme en WhatsApp. Responde ALTO para darte de baja." {
		t.Errorf("AYUDA with no language: %q", got)
	}
	if got := h.reply(dave, "help"); got != "Acme en WhatsApp. Responde ALTO para darte de baja." {
		t.Errorf("HELP after AYUDA: %q", got)
	}
	h.say(alice, "hi")
	h.say(alice, "español")
	// The conversation's language, whichever language's keyword asked.
	for _, kw := range []string{"AYUDA", "help", "Info"} {
		if got := h.reply(alice, kw); got != "Acme en WhatsApp. Responde ALTO para darte de baja." {
			t.Errorf("%s in Spanish: %q", kw, got)
		}
	}
	if got := h.reply(bob, "help"); got != "Acme on WhatsApp. Reply STOP to unsubscribe." {
		t.Errorf("HELP in English: %q", got)
	}
}

func TestStopAndStartInTheCustomersLanguage(t *testing.T) {
	h := localizedHarness(t)
	h.say(alice, "hi")
	h.say(alice, "español")
	h.say(alice, "sí")
	h.say(alice, "sí")
	if c := h.consent(alice); c["news"] != bot.OptedIn || c["offers"] != bot.OptedIn {
		t.Fatalf("consent %v", c)
	}

	effects := h.say(alice, "ALTO")
	if r := replies(effects); !slices.Equal(r, []string{"Te has dado de baja de Acme."}) {
		t.Errorf("ALTO: %q", r)
	}
	if ev := consentOf(effects); len(ev) != 2 || ev[0].Status != bot.OptedOut {
		t.Errorf("ALTO consent: %+v", ev)
	}
	// STOP ended the conversation, not the customer's language.
	if got := h.reply(alice, "STOP"); got != "Te has dado de baja de Acme." {
		t.Errorf("a second STOP: %q", got)
	}
	if got := h.reply(alice, "ayuda"); got != "Acme en WhatsApp. Responde ALTO para darte de baja." {
		t.Errorf("HELP after STOP: %q", got)
	}

	effects = h.say(alice, "START")
	// The descriptions in Spanish where the topic has one, else the flow's.
	if r := replies(effects); !slices.Equal(r, []string{"Hola de nuevo a Acme: noticias semanales; offers."}) {
		t.Errorf("START: %q", r)
	}
	ev := consentOf(effects)
	if len(ev) != 2 || ev[0].Status != bot.OptedIn || ev[0].Prompt != "Te has dado de baja de Acme." {
		t.Errorf("START consent: %+v", ev)
	}
	// not_stopped has no Spanish wording: the flow's.
	if got := h.reply(alice, "START"); got != "Nothing to restart at Acme." {
		t.Errorf("START with nothing to restore: %q", got)
	}
}

func TestStopAndStartInTheFlowsLanguage(t *testing.T) {
	h := localizedHarness(t)
	h.say(bob, "hi")
	h.say(bob, "yes")
	if got := h.reply(bob, "stop"); got != "You're unsubscribed from Acme." {
		t.Errorf("STOP: %q", got)
	}
	if got := h.reply(bob, "start"); got != "Welcome back to Acme: weekly news." {
		t.Errorf("START: %q", got)
	}
}
