package bot_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// An opt-out from another channel ends one topic, or every topic when it
// names none, and a grant with older evidence does not undo it.
func TestConsentWithdrawal(t *testing.T) {
	h := grantHarness(t)
	ctx := context.Background()
	for _, topic := range []flows.Topic{"orders", "deals"} {
		src := bot.SourceAPI
		if topic == "deals" {
			src = bot.SourceWeb
		}
		wording := explicit
		if topic == "deals" {
			wording = "Yes, send me weekly deals from Acme Outfitters on WhatsApp."
		}
		if _, refused := h.grant(bot.ConsentGrant{ID: "g-" + string(topic), Customer: alice, Topic: topic, Source: src,
			Wording: wording, At: t0.Add(-time.Hour)}); refused != nil {
			t.Fatalf("grant %s refused: %+v", topic, refused)
		}
	}
	h.now = h.now.Add(time.Minute)
	effects, err := h.svc.HandleConsentWithdrawal(ctx, bot.ConsentWithdrawal{ID: "w1", Customer: alice, Topic: "deals",
		Source: bot.SourceEmailCampaign, Where: "unsubscribe link", At: t0})
	if err != nil || len(effects) != 1 || effects[0].Consent == nil {
		t.Fatalf("withdraw deals: %v %+v", err, effects)
	}
	ev := effects[0].Consent
	if ev.Status != bot.OptedOut || ev.Topic != "deals" || ev.Trigger != "withdrawn by email_campaign (unsubscribe link) at "+t0.Format(time.RFC3339) ||
		ev.InboundID != "w1" || ev.ID != "acme/withdraw:w1/0" {
		t.Errorf("withdrawal event = %+v", ev)
	}
	if c := h.consent(alice); c["orders"] != bot.OptedIn || c["deals"] != bot.OptedOut {
		t.Errorf("after a topic's opt-out: %v, want orders still opted in", c)
	}
	// The same id again changes nothing.
	if again, err := h.svc.HandleConsentWithdrawal(ctx, bot.ConsentWithdrawal{ID: "w1", Customer: alice, Source: bot.SourceWeb}); err != nil || len(again) != 0 {
		t.Errorf("repeated withdrawal: %v %+v, want nothing", err, again)
	}
	// No topic: every topic.
	h.now = h.now.Add(time.Minute)
	effects, err = h.svc.HandleConsentWithdrawal(ctx, bot.ConsentWithdrawal{ID: "w2", Customer: alice, Source: bot.SourceLiveChat})
	if err != nil || len(effects) != 2 {
		t.Fatalf("withdraw every topic: %v, %d effects, want 2", err, len(effects))
	}
	if c := h.consent(alice); c["orders"] != bot.OptedOut || c["deals"] != bot.OptedOut {
		t.Errorf("after an opt-out of every topic: %v", c)
	}
	// A grant whose evidence is older than the opt-out's record is stale.
	if _, refused := h.grant(bot.ConsentGrant{ID: "g-old", Customer: alice, Topic: "orders", Source: bot.SourceAPI,
		Wording: explicit, At: t0}); refused == nil || refused.Reason != bot.GrantOlderThanStop {
		t.Errorf("older grant after the opt-out: %+v, want older_than_stop", refused)
	}
	for _, bad := range []bot.ConsentWithdrawal{
		{Customer: alice, Source: bot.SourceWeb},                         // no id
		{ID: "x", Customer: "12345", Source: bot.SourceWeb},              // bad customer
		{ID: "y", Customer: alice, Topic: "nope", Source: bot.SourceWeb}, // undeclared topic
	} {
		if _, err := h.svc.HandleConsentWithdrawal(ctx, bad); !errors.Is(err, bot.ErrBadInput) {
			t.Errorf("%+v: err %v, want ErrBadInput", bad, err)
		}
	}
}

// Each gap of a grant's wording has its own code; spellings of WhatsApp
// people use count, "WA" does not.
func TestGrantWordingGaps(t *testing.T) {
	f, err := flows.Load("shop.yaml", []byte(grantFlow))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wording string
		want    []bot.WordingGapCode
	}{
		{explicit, nil},
		{"Updates about your orders from ACME OUTFITTERS on ＷＨＡＴＳＡＰＰ", nil},
		{"Updates about your orders from Acme Outfitters on Whats-App", nil},
		{"Updates about your orders from Ácme Outfitters on WhatsApp", nil},
		{"Updates about your orders from Acme Outfitters by SMS", []bot.WordingGapCode{bot.WordingMissingWhatsApp}},
		{"Updates about your orders from Acme Outfitters on WA", []bot.WordingGapCode{bot.WordingMissingWhatsApp}},
		{"Updates about your orders on WhatsApp", []bot.WordingGapCode{bot.WordingMissingBusiness}},
		{"Acme Outfitters on WhatsApp", []bot.WordingGapCode{bot.WordingMissingTopic}},
		{"  ", []bot.WordingGapCode{bot.WordingEmpty}},
	} {
		var got []bot.WordingGapCode
		for _, g := range bot.GrantWordingGaps(f, "orders", tc.wording) {
			got = append(got, g.Code)
			if g.Message == "" {
				t.Errorf("%q: gap %s has no message", tc.wording, g.Code)
			}
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%q: gaps %v, want %v", tc.wording, got, tc.want)
		}
	}
}
