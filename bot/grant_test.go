package bot_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

// grantFlow has a utility topic the chat, the API and SMS campaigns may
// grant, and a marketing topic the web may grant.
const grantFlow = `name: shop
business: Acme Outfitters
topics:
  orders:
    category: utility
    description: updates about your orders
    granted_by: [api, sms_campaign]
  deals:
    category: marketing
    description: weekly deals
    granted_by: [web]
templates:
  - {name: shipped, topic: orders}
  - {name: weekly, topic: deals}
states:
  ask:
    prompt: "Would you like updates about your orders and weekly deals from Acme Outfitters on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: orders
        goto: deals
  deals:
    prompt: "And weekly deals from Acme Outfitters on WhatsApp? Reply YES or NO. Reply STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: deals
        goto: done
      - keywords: ["no"]
        goto: done
  done:
    prompt: All set.
`

const explicit = "Yes, send me updates about your orders from Acme Outfitters on WhatsApp. Reply STOP to opt out."

func grantHarness(t *testing.T) *harness {
	t.Helper()
	f, err := flows.Load("shop.yaml", []byte(grantFlow))
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, f, []byte(grantFlow), bot.Caps{TemplatesPerDay: 100})
}

// grant hands a grant to the engine and returns its consent events and
// the refusal, if it was refused.
func (h *harness) grant(g bot.ConsentGrant) ([]bot.ConsentEvent, *bot.GrantRefusal) {
	h.t.Helper()
	if g.Customer == "" {
		g.Customer = alice
	}
	if g.ID == "" {
		g.ID = "grant-" + h.nextID()
	}
	effects, err := h.svc.HandleConsentGrant(context.Background(), g)
	if err != nil {
		h.t.Fatalf("grant %s: %v", g.ID, err)
	}
	var refusal *bot.GrantRefusal
	for _, e := range effects {
		if e.Kind == bot.EffectNotice && e.Notice.Kind == bot.NoticeGrantRefused {
			if e.Notice.Grant == nil || e.Notice.Detail == "" {
				h.t.Errorf("grant_refused notice without the grant or a detail: %+v", e.Notice)
			}
			refusal = e.Notice.Grant
		}
	}
	return consentOf(effects), refusal
}

// Issue 10, item 1: the exact report. A grant from the API worded
// "imported from SMS list", after the customer's STOP and after Twilio
// 21610, was accepted and the next template sent.
func TestGrantAfterStopFromAnotherChannel(t *testing.T) {
	h := grantHarness(t)
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.now = h.now.Add(time.Minute)
	h.say(alice, "STOP")
	h.now = h.now.Add(time.Hour)

	ev, refused := h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: "imported from SMS list", At: h.now})
	if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantWordingIncomplete {
		t.Fatalf("grant imported from an SMS list after STOP: consent %+v, refusal %+v, want wording_incomplete", ev, refused)
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonOptedOut {
		t.Errorf("template after the refused grant: %+v, want opted_out", e)
	}

	// Explicit, but collected before the STOP: the STOP is newer.
	ev, refused = h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: explicit, At: h.now.Add(-2 * time.Hour)})
	if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantOlderThanStop {
		t.Errorf("explicit grant older than the STOP: consent %+v, refusal %+v, want older_than_stop", ev, refused)
	}
	// Explicit, with no time: cannot be newer.
	ev, refused = h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: explicit})
	if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantOlderThanStop {
		t.Errorf("explicit grant without a time after STOP: consent %+v, refusal %+v, want older_than_stop", ev, refused)
	}

	// Twilio 21610: the provider's stop. Not even an explicit, newer grant
	// undoes it.
	h.delivery(alice, "SM1", "failed", bot.SignalOptedOut)
	h.now = h.now.Add(time.Hour)
	ev, refused = h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: explicit, At: h.now})
	if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantProviderBlocked {
		t.Errorf("explicit grant after 21610: consent %+v, refusal %+v, want provider_blocked", ev, refused)
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonProviderBlocked {
		t.Errorf("template after 21610 and a grant: %+v, want provider_blocked", e)
	}

	// Only the customer writing in the chat undoes it.
	h.say(alice, "hi")
	if ev := consentOf(h.say(alice, "yes")); len(ev) != 1 || ev[0].Status != bot.OptedIn {
		t.Fatalf("YES in the chat after 21610: %+v", ev)
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Errorf("template after the customer's own YES: %+v", e)
	}
}

// After the customer's own STOP, a grant newer than it whose wording names
// WhatsApp, the business and the topic re-opens the topic: the customer
// signed up again elsewhere.
func TestExplicitNewerGrantReopensAfterStop(t *testing.T) {
	h := grantHarness(t)
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.say(alice, "STOP")
	h.now = h.now.Add(24 * time.Hour)
	ev, refused := h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceSMSCampaign, Wording: explicit, At: h.now.Add(-time.Minute)})
	if refused != nil || len(ev) != 1 || ev[0].Status != bot.OptedIn || ev[0].Prompt != explicit || ev[0].Source != bot.SourceSMSCampaign {
		t.Fatalf("explicit newer grant after STOP: consent %+v, refusal %+v", ev, refused)
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Kind != bot.EffectMessage {
		t.Errorf("template of the re-granted topic: %+v", e)
	}
	// Only that topic: the STOP still ended the other.
	if e := h.send(alice, bot.KindTemplate, "weekly"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonNoConsent {
		t.Errorf("template of a topic the grant did not name: %+v", e)
	}
}

// The customer's "no" to a topic in the chat is their stop of it too.
func TestGrantAfterTheCustomerDeclinedInTheChat(t *testing.T) {
	f, err := flows.Load("shop.yaml", []byte(strings.Replace(grantFlow, "      - keywords: [\"no\"]\n        goto: done",
		"      - keywords: [\"no\"]\n        opt_out: deals\n        goto: done", 1)))
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f, nil, bot.Caps{})
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.say(alice, "no")
	deals := "Weekly deals from Acme Outfitters on WhatsApp: yes!"
	if _, refused := h.grant(bot.ConsentGrant{Topic: "deals", Source: bot.SourceWeb, Wording: deals, At: h.now.Add(-time.Second)}); refused == nil || refused.Reason != bot.GrantOlderThanStop {
		t.Errorf("grant older than the customer's no: %+v, want older_than_stop", refused)
	}
	h.now = h.now.Add(time.Hour)
	if ev, refused := h.grant(bot.ConsentGrant{Topic: "deals", Source: bot.SourceWeb, Wording: deals, At: h.now}); refused != nil || len(ev) != 1 {
		t.Errorf("grant newer than the customer's no: %+v %+v", ev, refused)
	}
}

// A marketing stop the provider reported (Meta 131050, user_preferences)
// is undone by no grant.
func TestGrantAfterProviderMarketingStop(t *testing.T) {
	h := grantHarness(t)
	h.say(alice, "hi")
	h.say(alice, "yes")
	h.say(alice, "yes")
	if _, err := h.svc.HandleMarketingPreference(context.Background(), bot.MarketingPreference{
		ID: "up-1", Sender: "15550001111", Customer: alice, Stop: true, At: h.now}); err != nil {
		t.Fatal(err)
	}
	h.now = h.now.Add(48 * time.Hour)
	ev, refused := h.grant(bot.ConsentGrant{Topic: "deals", Source: bot.SourceWeb, Wording: "Weekly deals from Acme Outfitters on WhatsApp", At: h.now})
	if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantProviderBlocked {
		t.Errorf("grant after the in-app marketing stop: %+v %+v, want provider_blocked", ev, refused)
	}
	// The other topic was not stopped by the provider.
	if ev, refused := h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: explicit, At: h.now}); refused != nil || len(ev) != 1 {
		t.Errorf("grant of a topic the provider did not stop: %+v %+v", ev, refused)
	}
}

// With no STOP at all, the wording is still checked: an SMS consent is no
// WhatsApp consent, and consent to Acme is no consent to its topic.
func TestGrantWordingIsCheckedLikeAnOptInRequest(t *testing.T) {
	h := grantHarness(t)
	for _, tc := range []struct {
		wording string
		says    []string
	}{
		{"imported from SMS list", []string{"does not say WhatsApp", "does not name the business", "does not describe topic"}},
		{"Yes to SMS updates about your orders from Acme Outfitters", []string{"does not say WhatsApp"}},
		{"Updates about your orders on WhatsApp", []string{"does not name the business \"Acme Outfitters\""}},
		{"Acme Outfitters on WhatsApp", []string{"does not describe topic \"orders\" (say \"updates about your orders\""}},
	} {
		ev, refused := h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: tc.wording, At: h.now})
		if len(ev) != 0 || refused == nil || refused.Reason != bot.GrantWordingIncomplete {
			t.Errorf("wording %q: consent %+v, refusal %+v, want wording_incomplete", tc.wording, ev, refused)
		}
	}
	if e := h.send(alice, bot.KindTemplate, "shipped"); e.Refusal == nil || e.Refusal.Reason != bot.ReasonNoConsent {
		t.Errorf("template after refused grants: %+v", e)
	}
	// The notice's detail says what is missing.
	effects, err := h.svc.HandleConsentGrant(context.Background(), bot.ConsentGrant{ID: "g-detail", Customer: alice, Topic: "orders",
		Source: bot.SourceAPI, Wording: "imported from SMS list", At: h.now})
	if err != nil || len(effects) != 1 {
		t.Fatalf("%v %+v", err, effects)
	}
	for _, want := range []string{"does not say WhatsApp", "does not name the business \"Acme Outfitters\"", "does not describe topic \"orders\""} {
		if !strings.Contains(effects[0].Notice.Detail, want) {
			t.Errorf("detail %q does not say %q", effects[0].Notice.Detail, want)
		}
	}
	if ev, refused := h.grant(bot.ConsentGrant{Topic: "orders", Source: bot.SourceAPI, Wording: explicit, At: h.now}); refused != nil || len(ev) != 1 {
		t.Errorf("explicit grant: %+v %+v", ev, refused)
	}
}

type turnCounter struct{ notices map[string]int }

func (c *turnCounter) ObserveTurn(input bot.InputKind, turn bot.Turn, elapsed time.Duration) {
	for _, e := range turn.Effects {
		if e.Kind == bot.EffectNotice && e.Notice.Grant != nil {
			c.notices[string(input)+" "+string(e.Notice.Grant.Reason)]++
		}
	}
}

// A refused grant is committed (a redelivery changes nothing), logged at
// info without the customer's number or the wording, and seen by the
// observer that counts it.
func TestRefusedGrantIsLoggedAndObserved(t *testing.T) {
	f, err := flows.Load("shop.yaml", []byte(grantFlow))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	counter := &turnCounter{notices: map[string]int{}}
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{
		Store: memstore.New(), Clock: func() time.Time { return t0 }, Logger: zerolog.New(&logs).Level(zerolog.InfoLevel), Observer: counter,
	}, []bot.BusinessConfig{{ID: "acme", Flow: f}})
	if err != nil {
		t.Fatal(err)
	}
	g := bot.ConsentGrant{ID: "crm-77", Customer: alice, Topic: "orders", Source: bot.SourceAPI, Wording: "imported from SMS list", At: t0}
	for range 2 {
		if _, err := svc.HandleConsentGrant(context.Background(), g); err != nil {
			t.Fatal(err)
		}
	}
	if counter.notices["consent_grant wording_incomplete"] != 1 {
		t.Errorf("observed %v, want one wording_incomplete refusal", counter.notices)
	}
	out := logs.String()
	for _, want := range []string{`"message":"consent grant refused"`, `"reason":"wording_incomplete"`, `"grant":"crm-77"`, `"source":"api"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %s", out, want)
		}
	}
	if strings.Contains(out, string(alice)) || strings.Contains(out, "imported from SMS list") {
		t.Errorf("log at info holds the customer's number or the wording: %s", out)
	}
}
