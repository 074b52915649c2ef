package storetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

// testDedupIDsExact: the store keys processed inputs on the exact
// (business, DedupID): ids that differ only in the customer or provider
// part the engine puts in them (bot.DedupID) are different inputs, each
// with its own effects and ledger events, and either one committed again
// is a duplicate.
func testDedupIDsExact(t *testing.T, s Store) {
	ids := []string{
		bot.DedupID(bot.InputInbound, "meta", phone, "wamid.same"),
		bot.DedupID(bot.InputInbound, "meta", phone2, "wamid.same"),
		bot.DedupID(bot.InputInbound, "twilio", phone, "wamid.same"),
		"wamid.same", // as committed before dedup ids named the customer
	}
	customers := []bot.CustomerID{phone, phone2, phone, phone}
	for i, id := range ids {
		c := customers[i]
		commit(t, s, bot.Turn{Business: acme, Customer: c, DedupID: id, At: t0,
			Consent: []bot.ConsentEvent{event(acmeEffectID(id, 0), acme, c, "order_updates", bot.OptedIn, t0)},
			Effects: []bot.Effect{messageEffect(acmeEffectID(id, 1), acme, c)}})
	}
	for i, id := range ids {
		if !processed(t, s, acme, id) {
			t.Errorf("Processed(%q) = false after its Commit", id)
		}
		again := bot.Turn{Business: acme, Customer: customers[i], DedupID: id, At: t0.Add(time.Minute),
			Effects: []bot.Effect{messageEffect("again:"+id, acme, customers[i])}}
		if err := s.Commit(t.Context(), again); !errors.Is(err, bot.ErrDuplicate) {
			t.Errorf("Commit of %q again: %v, want ErrDuplicate", id, err)
		}
	}
	if n := len(pending(t, s, 100)); n != len(ids) {
		t.Errorf("outbox holds %d effects, want %d", n, len(ids))
	}
	if n := len(ledger(t, s, acme, phone2)); n != 1 {
		t.Errorf("the second customer's ledger holds %d events, want 1", n)
	}
	if processed(t, s, globex, ids[0]) {
		t.Errorf("Processed for another business = true")
	}
}

func acmeEffectID(dedupID string, n int) string {
	return "acme/" + dedupID + "/" + strconv.Itoa(n)
}

// testInboundDedupThroughTheEngine runs the engine over the store: the
// same provider message id from two customers is two messages, each
// answered; a redelivery to either is ignored; and a message committed
// under its bare id before the upgrade is still a redelivery.
func testInboundDedupThroughTheEngine(t *testing.T, s Store) {
	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(examples.Retail, src)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := bot.NewService(t.Context(), bot.ServiceConfig{Store: s, Clock: func() time.Time { return t0 }, Logger: zerolog.Nop()},
		[]bot.BusinessConfig{{ID: acme, Flow: f, Source: src, Senders: []string{"106540352242922"}}})
	if err != nil {
		t.Fatal(err)
	}
	in := func(c bot.CustomerID, id string) []bot.Effect {
		t.Helper()
		effects, err := svc.HandleInbound(t.Context(), bot.Inbound{ID: id, Provider: "meta", Sender: "106540352242922",
			Customer: c, Timestamp: t0, Text: "hi"})
		if err != nil {
			t.Fatalf("inbound %s from %s: %v", id, c.Redacted(), err)
		}
		return effects
	}
	if got := in(phone, "wamid.shared"); len(got) != 1 {
		t.Fatalf("first customer's message: %d effects, want 1", len(got))
	}
	if got := in(phone2, "wamid.shared"); len(got) != 1 || !strings.Contains(got[0].Message.Text, "Acme Outfitters") {
		t.Fatalf("second customer's message with the same id: %+v, want the welcome prompt", got)
	}
	for _, c := range []bot.CustomerID{phone, phone2} {
		if got := in(c, "wamid.shared"); len(got) != 0 {
			t.Errorf("redelivery to %s: %d effects, want none", c.Redacted(), len(got))
		}
		if st := load(t, s, acme, c, t0.Add(-time.Hour)).Conversation.State; st != "welcome" {
			t.Errorf("customer %s in state %q, want welcome", c.Redacted(), st)
		}
	}
	// Committed by the previous version under the bare message id.
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.before-upgrade", At: t0})
	if got := in(userID, "wamid.before-upgrade"); len(got) != 0 {
		t.Errorf("redelivery of a message processed before the upgrade: %d effects, want none", len(got))
	}
}
