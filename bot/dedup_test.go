package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// TestSameMessageIDFromAnotherCustomer is issue 10's defect: a provider
// message id is unique per provider, and a source that makes up ids may
// reuse one for every customer, so the same id from another customer is
// another message. A redelivery to the same customer is still ignored,
// and the effects of both messages have ids of their own.
func TestSameMessageIDFromAnotherCustomer(t *testing.T) {
	f, src := loadExample(t, "retail.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	in := func(c bot.CustomerID, provider, id string) []bot.Effect {
		return h.inbound(bot.Inbound{ID: id, Provider: provider, Sender: "15550001111", Customer: c, Timestamp: h.now, Text: "hi"})
	}
	first := in(alice, "meta", "wamid.same")
	if len(replies(first)) != 1 {
		t.Fatalf("alice's message: %+v", first)
	}
	second := in(bob, "meta", "wamid.same")
	if len(replies(second)) != 1 || !strings.Contains(replies(second)[0], "Acme Outfitters") {
		t.Fatalf("bob's message with alice's message id was dropped: %+v", second)
	}
	if first[0].ID == second[0].ID {
		t.Errorf("both replies have effect id %s", first[0].ID)
	}
	for _, e := range append(first, second...) {
		if strings.Contains(e.ID, string(alice)) || strings.Contains(e.ID, string(bob)) || strings.Contains(e.ID, "4155550100") {
			t.Errorf("effect id %s holds a phone number", e.ID)
		}
	}
	if got := in(alice, "meta", "wamid.same"); len(got) != 0 {
		t.Errorf("alice's redelivered message has effects: %+v", got)
	}
	if got := in(bob, "meta", "wamid.same"); len(got) != 0 {
		t.Errorf("bob's redelivered message has effects: %+v", got)
	}
	// Another provider's message ids are its own.
	if got := in(alice, "twilio", "wamid.same"); len(replies(got)) != 1 {
		t.Errorf("alice's message from another provider with the same id: %+v", got)
	}
	// Consent recorded for one customer stays theirs.
	h.inbound(bot.Inbound{ID: "wamid.yes", Provider: "meta", Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: "yes"})
	if got := h.inbound(bot.Inbound{ID: "wamid.yes", Provider: "meta", Sender: "15550001111", Customer: bob, Timestamp: h.now, Text: "no"}); len(replies(got)) != 1 {
		t.Errorf("bob's answer with alice's id: %+v", got)
	}
	if a, b := h.consent(alice)["order_updates"], h.consent(bob)["order_updates"]; a != bot.OptedIn || b != "" {
		t.Errorf("consent alice %q, bob %q; want opted_in and none", a, b)
	}
}

// TestProcessedBeforeTheUpgrade: a message committed under its bare id,
// as before dedup ids named the provider and the customer, is still a
// redelivery when it comes again.
func TestProcessedBeforeTheUpgrade(t *testing.T) {
	f, src := loadExample(t, "retail.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	if err := h.store.Commit(context.Background(), bot.Turn{Business: "acme", Customer: alice, DedupID: "wamid.old", At: h.now}); err != nil {
		t.Fatal(err)
	}
	if got := h.inbound(bot.Inbound{ID: "wamid.old", Provider: "meta", Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: "yes"}); len(got) != 0 {
		t.Errorf("message processed before the upgrade, redelivered: %+v", got)
	}
	if got := h.say(alice, "hi"); len(replies(got)) != 1 {
		t.Errorf("a new message: %+v", got)
	}
}

// TestTimersOfTwoCustomersAtOnce: two customers who reach the same state in
// the same second have timers with the same id; each fires for its
// customer.
func TestTimersOfTwoCustomersAtOnce(t *testing.T) {
	f, src := loadTestFlow(t, "full.yaml")
	h := newHarness(t, f, src, bot.Caps{})
	h.say(alice, "hi")
	h.say(bob, "hi")
	h.now = h.now.Add(2*time.Hour + time.Minute)
	fired, err := h.svc.FireDueTimers(context.Background(), h.now, 10)
	if err != nil || fired != 2 {
		t.Fatalf("fired %d timers (%v), want 2", fired, err)
	}
	for _, c := range []bot.CustomerID{alice, bob} {
		s, err := h.store.LoadSession(context.Background(), "acme", c, h.now)
		if err != nil {
			t.Fatal(err)
		}
		if s.Conversation.State != "nudge" {
			t.Errorf("customer %s in state %q after the timer, want nudge", c.Redacted(), s.Conversation.State)
		}
	}
}

// TestDedupID: each kind of input has its own namespace; inbound messages
// and timers are per customer, inbound messages per provider too; no id
// holds a phone number.
func TestDedupID(t *testing.T) {
	ids := map[string]string{}
	for _, tc := range []struct {
		kind     bot.InputKind
		provider string
		customer bot.CustomerID
		id       string
	}{
		{bot.InputInbound, "meta", alice, "x1"},
		{bot.InputInbound, "meta", bob, "x1"},
		{bot.InputInbound, "twilio", alice, "x1"},
		{bot.InputInbound, "", alice, "x1"},
		{bot.InputInbound, "meta:x", alice, "1"},
		{bot.InputInbound, "meta", alice, "x:1"},
		{bot.InputTimer, "", alice, "x1"},
		{bot.InputTimer, "", bob, "x1"},
		{bot.InputSendRequest, "", alice, "x1"},
		{bot.InputConsentGrant, "", alice, "x1"},
		{bot.InputConsentWithdrawal, "", alice, "x1"},
		{bot.InputProviderOptOut, "", alice, "x1"},
		{bot.InputDeliveryUpdate, "", alice, "status:x1:read"},
	} {
		got := bot.DedupID(tc.kind, tc.provider, tc.customer, tc.id)
		what := string(tc.kind) + "/" + tc.provider + "/" + tc.customer.Redacted() + "/" + tc.id
		if other, dup := ids[got]; dup {
			t.Errorf("%s and %s have the same dedup id %s", what, other, got)
		}
		ids[got] = what
		if strings.Contains(got, "4155550100") || strings.Contains(got, "1555010") {
			t.Errorf("%s: dedup id %s holds the phone number", what, got)
		}
		if got != bot.DedupID(tc.kind, tc.provider, tc.customer, tc.id) {
			t.Errorf("%s: dedup id not stable", what)
		}
	}
	for _, want := range []string{"send:x1", "grant:x1", "provider:x1", "status:x1:read"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("no input has the dedup id %s (send requests, grants, provider opt-outs and statuses keep theirs)", want)
		}
	}
	if got := bot.DedupID(bot.InputInbound, "meta", alice, "wamid.1"); !strings.HasPrefix(got, "in:meta:") || !strings.HasSuffix(got, ":wamid.1") {
		t.Errorf("inbound dedup id %s", got)
	}
}
