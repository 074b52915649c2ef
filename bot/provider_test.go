package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows/examples"
)

func (h *harness) delivery(c bot.CustomerID, messageID, status, signal string) []bot.Effect {
	h.t.Helper()
	effects, err := h.svc.HandleDeliveryUpdate(context.Background(), bot.DeliveryUpdate{
		ID: "status:" + messageID + ":" + status, MessageID: messageID, Sender: "15550001111",
		Customer: c, Status: status, At: h.now, ErrorCode: "x", Signal: signal,
	})
	if err != nil {
		h.t.Fatalf("delivery %s %s: %v", messageID, status, err)
	}
	return effects
}

func kinds(effects []bot.Effect) []string {
	var out []string
	for _, e := range effects {
		k := string(e.Kind)
		switch {
		case e.Delivery != nil:
			k += ":" + e.Delivery.Status
		case e.Notice != nil:
			k += ":" + e.Notice.Kind
		case e.Consent != nil:
			k += ":" + string(e.Consent.Topic) + "=" + string(e.Consent.Status)
		}
		out = append(out, k)
	}
	return out
}

func TestStatusesNeverMoveBackwards(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	for _, step := range []struct {
		status string
		want   int // delivery effects
	}{{"sent", 1}, {"read", 1}, {"delivered", 0}, {"sent", 0}, {"failed", 1}, {"read", 0}} {
		got := h.delivery(alice, "wamid.out1", step.status, "")
		if n := len(got); n != step.want {
			t.Errorf("%s after the others: %d effects %v, want %d", step.status, n, kinds(got), step.want)
		}
	}
	// A redelivered status is ignored outright.
	if got := h.delivery(alice, "wamid.out1", "failed", ""); len(got) != 0 {
		t.Errorf("redelivered status: %v", kinds(got))
	}
}

func TestWindowClosedSignal(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.now = h.now.Add(time.Hour)
	if e := h.send(alice, bot.KindText, "your parcel"); e.Kind != bot.EffectMessage {
		t.Fatalf("inside the window: %+v", e)
	}
	got := h.delivery(alice, "wamid.out2", "failed", bot.SignalWindowClosed)
	if want := []string{"notice:window_closed", "delivery:failed"}; !equal(kinds(got), want) {
		t.Errorf("effects %v, want %v", kinds(got), want)
	}
	if e := h.send(alice, bot.KindText, "again"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonWindowClosed {
		t.Errorf("after the provider closed the window: %+v", e)
	}
	h.now = h.now.Add(time.Minute)
	h.say(alice, "hello?")
	if e := h.send(alice, bot.KindText, "now?"); e.Kind != bot.EffectMessage {
		t.Errorf("after the customer wrote again: %+v", e)
	}
}

func TestUndeliverableHoldsSendsUntilTheCustomerWrites(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.tap(alice, "optin_yes")
	h.delivery(alice, "wamid.out3", "failed", bot.SignalUndeliverable)
	for _, kind := range []bot.MessageKind{bot.KindTemplate, bot.KindText} {
		text := "shipped"
		if kind == bot.KindText {
			text = "hello"
		}
		if e := h.send(alice, kind, text); e.Refusal == nil || e.Refusal.Reason != bot.ReasonHeld {
			t.Errorf("%s while held: %+v", kind, e)
		}
	}
	if r := replies(h.say(alice, "I'm back")); len(r) != 1 {
		t.Errorf("reply to a held customer who writes: %q", r)
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Errorf("template after the customer wrote again: %+v", e)
	}
}

func TestProviderMarketingStopAndResume(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes") // reminders (utility)
	h.say(alice, "yes") // offers (marketing)
	got := h.delivery(alice, "wamid.out4", "failed", bot.SignalStopMarketing)
	ev := consentOf(got)
	if len(ev) != 1 || ev[0].Topic != "offers" || ev[0].Status != bot.OptedOut || ev[0].Source != bot.SourceProvider {
		t.Fatalf("131050 recorded %+v, want a provider opt-out of offers only", ev)
	}
	if c := h.consent(alice); c["reminders"] != bot.OptedIn {
		t.Errorf("a marketing stop ended reminders: %v", c)
	}
	// The in-app resume is recorded, and re-grants nothing.
	effects, err := h.svc.HandleMarketingPreference(context.Background(), bot.MarketingPreference{
		ID: "up-1", Sender: "15550001111", Customer: alice, Stop: false, At: h.now})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"consent:offers=resumed", "notice:marketing_resumed"}; !equal(kinds(effects), want) {
		t.Errorf("resume: %v, want %v", kinds(effects), want)
	}
	if ev := consentOf(effects); len(ev) != 1 || ev[0].Topic != "offers" || ev[0].Status != bot.Resumed || ev[0].Source != bot.SourceProvider {
		t.Errorf("resume recorded %+v, want one provider event of status resumed on offers", ev)
	}
	if c := h.consent(alice); c["offers"] != bot.OptedOut {
		t.Errorf("resume re-granted offers: %v", c)
	}
	// The in-app stop (user_preferences) ends marketing too, idempotently.
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.say(alice, "yes")
	effects, err = h.svc.HandleMarketingPreference(context.Background(), bot.MarketingPreference{
		ID: "up-2", Sender: "15550001111", Customer: alice, Stop: true, At: h.now})
	if err != nil {
		t.Fatal(err)
	}
	if ev := consentOf(effects); len(ev) != 1 || ev[0].Topic != "offers" || ev[0].Trigger != "provider user_preferences stop marketing" {
		t.Errorf("user_preferences stop: %+v", ev)
	}
}

func TestProviderOptedOutSignalEndsEverything(t *testing.T) {
	f, src := loadTestFlow(t, "two_topics.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes")
	got := consentOf(h.delivery(alice, "SM1", "failed", bot.SignalOptedOut))
	if len(got) != 2 {
		t.Fatalf("21610 recorded %+v, want both topics", got)
	}
	if got := consentOf(h.say(alice, "START")); len(got) != 0 {
		t.Errorf("START undid a provider opt-out: %+v", got)
	}
}

func TestRecheckSeesALateStop(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{TemplatesPerDay: 1})
	h.say(alice, "hi")
	h.tap(alice, "optin_yes")
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Fatalf("template: %+v", e)
	}
	tpl := bot.Outbound{Kind: bot.KindTemplate, Topic: "order_updates"}
	// The allowed template was counted once; its recheck does not count it again.
	if r, err := h.svc.Recheck(context.Background(), "acme", "", alice, tpl); err != nil || r != "" {
		t.Errorf("recheck before STOP: %q %v", r, err)
	}
	h.say(alice, "STOP")
	if r, _ := h.svc.Recheck(context.Background(), "acme", "", alice, tpl); r != bot.ReasonOptedOut {
		t.Errorf("recheck after STOP: %q, want opted_out", r)
	}
	if r, _ := h.svc.Recheck(context.Background(), "", "15550001111", alice, bot.Outbound{Kind: bot.KindText, Reply: true}); r != "" {
		t.Errorf("recheck of a reply after STOP: %q, want allowed", r)
	}
}

func TestReactionOpensTheWindowWithoutAReply(t *testing.T) {
	f, src := loadExample(t, examples.Retail)
	h := newHarness(t, f, src, bot.Caps{})
	effects := h.inbound(bot.Inbound{ID: "r1", Sender: "15550001111", Customer: alice, Timestamp: h.now, Reaction: true})
	if len(effects) != 0 {
		t.Errorf("a reaction was answered: %v", kinds(effects))
	}
	if e := h.send(alice, bot.KindText, "thanks for the 👍"); e.Kind != bot.EffectMessage {
		t.Errorf("free-form after a reaction: %+v", e)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
