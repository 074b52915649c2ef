package bot_test

import (
	"context"
	"testing"

	"github.com/optinbot/optinbot/bot"
)

// Issue 10, item 8: a template refused after the customer stopped
// marketing in WhatsApp says provider_blocked, not no_consent.
func TestProviderStopRefusedAsProviderBlocked(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes") // reminders
	h.say(alice, "yes") // offers
	if _, err := h.svc.HandleMarketingPreference(context.Background(), bot.MarketingPreference{
		ID: "up-1", Sender: "15550001111", Customer: alice, Stop: true, At: h.now}); err != nil {
		t.Fatal(err)
	}
	if e := h.send(alice, bot.KindTemplate, "promo"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonProviderBlocked {
		t.Errorf("marketing template after the in-app stop: %+v, want provider_blocked", e)
	}
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectMessage {
		t.Errorf("a utility template after a marketing stop: %+v, want sent", e)
	}

	// Twilio 21610: every message is stopped by the provider.
	h.delivery(alice, "SM1", "failed", bot.SignalOptedOut)
	for _, kind := range []bot.MessageKind{bot.KindTemplate, bot.KindText} {
		what := "reminder"
		if kind == bot.KindText {
			what = "hello"
		}
		if e := h.send(alice, kind, what); e.Refusal == nil || e.Refusal.Reason != bot.ReasonProviderBlocked {
			t.Errorf("%s after 21610: %+v, want provider_blocked", kind, e)
		}
	}
	// The customer writing in the chat and saying YES undoes it.
	h.say(alice, "hi")
	h.say(alice, "yes")
	if e := h.send(alice, bot.KindTemplate, "reminder"); e.Kind != bot.EffectMessage {
		t.Errorf("template after the customer opted in again in the chat: %+v", e)
	}
}
