package storetest

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// EraseStore is a Store that can erase customers and keep a suppression
// list.
type EraseStore interface {
	Store
	bot.CustomerEraser
}

// Dump returns everything the store holds as text, every table and every
// column, so a test can search it for what must be gone.
type Dump func(t *testing.T) string

// RunErase runs the erase contract against stores made by open: after an
// erase nothing the store holds contains the customer's number, words or
// the prompts they were shown, the customer is on the suppression list
// (when asked), other customers keep their data, and the ledger still
// verifies.
func RunErase(t *testing.T, open func(t *testing.T) (EraseStore, Dump)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s EraseStore, dump Dump)
	}{
		{"EraseLeavesNoPersonalData", testEraseLeavesNothing},
		{"EraseSuppressesAndChatLifts", testEraseSuppression},
		{"EraseWithoutSuppression", testEraseNoSuppression},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, dump := open(t)
			tc.fn(t, s, dump)
		})
	}
}

// eraseKey is the suite's suppression key.
var eraseKey = []byte("storetest suppression key, 32+ bytes long")

// The erased customer of the suite: its number, and its digits as they
// would appear inside a provider's message id.
const (
	erasedNumber bot.CustomerID = "+14155559876"
	erasedDigits                = "14155559876"
)

// seedCustomer commits, for customer c of business b, a turn holding
// personal data in every place a store keeps it: the conversation (prompt,
// variables, stop question, handoff, timers), consent events, counted
// templates, message statuses, processed ids and outbox effects.
func seedCustomer(t *testing.T, s Store, b bot.BusinessID, c bot.CustomerID, mark string, at time.Time) {
	t.Helper()
	conv := conversation("ask", at)
	conv.LastPrompt = mark + " prompt"
	conv.Vars = map[string]string{"name": mark + " var"}
	conv.StopAsked = &bot.StopQuestion{At: at, Text: mark + " words", Prompt: mark + " prompt"}
	conv.Handoff = "support"
	conv.Timers = []bot.Timer{{ID: "ask#0@1", Due: at.Add(time.Hour), State: "ask", Transition: 0}}
	conv.Stop = &bot.StopRecord{At: at, Prompt: mark + " prompt"}
	in := bot.DedupID(bot.InputInbound, "meta", c, "wamid."+mark)
	ev := event(string(b)+"/"+in+"/0", b, c, "order_updates", bot.OptedIn, at)
	ev.InboundID, ev.InboundText, ev.Prompt = "wamid."+mark, mark+" words", mark+" prompt"
	out := ev
	out.ID, out.Status, out.Trigger = string(b)+"/"+in+"/1", bot.OptedOut, "keyword STOP"
	eff := messageEffect(string(b)+"/"+in+"/2", b, c)
	eff.Message.Text = mark + " text"
	eff.InReplyTo = "wamid." + mark
	commit(t, s, bot.Turn{Business: b, Customer: c, DedupID: in, At: at, Conversation: conv,
		Consent:    []bot.ConsentEvent{ev, out},
		Templates:  []bot.SentTemplate{{At: at, Topic: "order_updates"}},
		Deliveries: []bot.DeliveryRecord{{MessageID: "wamid.out-" + mark, Status: bot.StatusDelivered, At: at}},
		Effects:    []bot.Effect{eff},
		Asks:       []bot.PromptAsk{{Flow: "retail", FlowVersion: "3f2a9c1b7d0e", State: "ask", Variant: "short", At: at}}})
	// a timer's turn, and an effect already published
	timerID := bot.DedupID(bot.InputTimer, "", c, "ask#0@1")
	timerTurn := bot.Turn{Business: b, Customer: c, DedupID: timerID, At: at.Add(time.Second),
		Conversation: conv, Effects: []bot.Effect{messageEffect(string(b)+"/"+timerID+"/0", b, c)}}
	timerTurn.Effects[0].Message.Text = mark + " text again"
	commit(t, s, timerTurn)
	if err := s.MarkPublished(t.Context(), []string{eff.ID}); err != nil {
		t.Fatal(err)
	}
	// a sign-up verification, with the form's wording
	v := bot.NewVerification(b, c, "signin_codes", "271828", at)
	v.OptIn = &bot.VerificationOptIn{Topic: "order_updates", Wording: mark + " signup wording", Where: "https://acme.example/" + mark}
	if err := s.CreateVerification(t.Context(), v); err != nil {
		t.Fatal(err)
	}
}

func erasure(b bot.BusinessID, c bot.CustomerID, suppress bool, at time.Time) bot.Erasure {
	hash := bot.CustomerHash(eraseKey, c)
	return bot.Erasure{Business: b, Customer: c, Hash: hash, Suppress: suppress, At: at,
		Event: bot.ConsentEvent{ID: string(b) + "/erase:" + hash[:12] + at.Format("150405.000000") + "/0",
			Customer: bot.ErasedCustomer(hash), Business: b, Channel: bot.Channel, Status: bot.CustomerErased,
			Source: bot.SourceAPI, Trigger: "erase", FlowName: "retail", FlowVersion: "3f2a9c1b7d0e", At: at}}
}

func erase(t *testing.T, s EraseStore, e bot.Erasure) {
	t.Helper()
	if err := s.EraseCustomer(t.Context(), e); err != nil {
		t.Fatalf("EraseCustomer(%s/%s): %v", e.Business, e.Customer, err)
	}
}

func suppressed(t *testing.T, s EraseStore, b bot.BusinessID, c bot.CustomerID) bool {
	t.Helper()
	on, err := s.Suppressed(t.Context(), b, bot.CustomerHash(eraseKey, c))
	if err != nil {
		t.Fatalf("Suppressed(%s, hash of %s): %v", b, c, err)
	}
	return on
}

// testEraseLeavesNothing: after the erase no table holds the number, the
// customer's words, prompts, variables or texts, nor the digest of the
// number that dedup ids carry; the other customer keeps everything; the
// ledger verifies and keeps the erased events, marked.
func testEraseLeavesNothing(t *testing.T, s EraseStore, dump Dump) {
	const other bot.CustomerID = phone2
	seedCustomer(t, s, acme, erasedNumber, "Zelda", t0)
	seedCustomer(t, s, acme, other, "Otto", t0.Add(time.Minute))
	before := dump(t)
	inbound, _ := bot.DedupIDsOf(erasedNumber)
	tag := strings.Trim(strings.TrimPrefix(inbound, "in:%:"), ":%")
	secrets := []string{erasedDigits, "Zelda", tag}
	for _, s := range secrets {
		if !strings.Contains(before, s) {
			t.Fatalf("before the erase the store holds no %q: the dump misses a table", s)
		}
	}

	erase(t, s, erasure(acme, erasedNumber, true, t0.Add(time.Hour)))

	after := dump(t)
	for _, secret := range secrets {
		if i := strings.Index(after, secret); i >= 0 {
			t.Errorf("after the erase the store still holds %q: …%s…", secret, after[max(0, i-80):min(len(after), i+80)])
		}
	}
	for _, kept := range []string{string(other), "Otto words", "Otto prompt", "Otto var", "Otto text", "Otto signup wording"} {
		if !strings.Contains(after, kept) {
			t.Errorf("the erase removed the other customer's %q", kept)
		}
	}
	if sess := load(t, s, acme, erasedNumber, t0.Add(-48*time.Hour)); sess.Conversation.State != "" || len(sess.Consent) > 0 || len(sess.RecentTemplates) > 0 {
		t.Errorf("the erased customer's session is %+v, want empty", sess)
	}
	if sess := load(t, s, acme, other, t0.Add(-48*time.Hour)); sess.Conversation.State == "" || len(sess.Consent) == 0 {
		t.Errorf("the other customer's session is %+v, want kept", sess)
	}
	if _, err := s.LatestVerification(t.Context(), acme, erasedNumber); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("the erased customer's verification: %v, want ErrNotFound", err)
	}
	if _, err := s.LatestVerification(t.Context(), acme, other); err != nil {
		t.Errorf("the other customer's verification: %v", err)
	}
	asks, err := s.PromptAsks(t.Context(), acme, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(asks) != 1 || asks[0].Customer != other {
		t.Errorf("prompt asks after the erase: %+v, want the other customer's only", asks)
	}
	if st, _ := s.MessageStatus(t.Context(), acme, "wamid.out-Zelda"); st != "" {
		t.Errorf("the erased customer's message status is %q, want none", st)
	}
	if done, _ := s.Processed(t.Context(), acme, bot.DedupID(bot.InputInbound, "meta", other, "wamid.Otto")); !done {
		t.Error("the other customer's processed input was forgotten")
	}
	due, err := s.DueTimers(t.Context(), t0.Add(48*time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 || due[0].Customer != other {
		t.Errorf("due timers after the erase: %+v, want the other customer's only", due)
	}
	pending, err := s.PendingEffects(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pending {
		if e.Customer == erasedNumber {
			t.Errorf("effect %s for the erased customer is still pending", e.ID)
		}
	}
	if len(pending) != 1 {
		t.Errorf("%d effects pending, want the other customer's 1", len(pending))
	}

	rep := verify(t, s, 2)
	if rep.Break != nil {
		t.Fatalf("the ledger no longer verifies after the erase: %v", rep.Break)
	}
	if rep.Events != 5 {
		t.Errorf("%d events verified, want 5 (2 erased, 2 kept, the erase)", rep.Events)
	}
	hash := bot.CustomerHash(eraseKey, erasedNumber)
	var erased, eraseEvents int
	for _, e := range entries(t, s, 0, 100) {
		switch {
		case e.Event.Status == bot.CustomerErased:
			eraseEvents++
			if e.Event.Customer != bot.ErasedCustomer(hash) || e.Event.Source != bot.SourceAPI {
				t.Errorf("the erase's event is %+v, want customer %s, source api", e.Event, bot.ErasedCustomer(hash))
			}
		case e.Event.Erased():
			erased++
			if e.Event.Customer != bot.ErasedCustomer(hash) || e.Event.ID != "erased:"+strconv.FormatInt(e.Seq, 10) {
				t.Errorf("erased event at seq %d: customer %q id %q, want %q and erased:%d", e.Seq, e.Event.Customer, e.Event.ID,
					bot.ErasedCustomer(hash), e.Seq)
			}
			if e.Event.Topic != "order_updates" || e.Event.Hash == "" || e.Event.PIIDigestHex == "" {
				t.Errorf("erased event at seq %d lost its evidence: %+v", e.Seq, e.Event)
			}
		}
	}
	if erased != 2 || eraseEvents != 1 {
		t.Errorf("%d erased events and %d erase events, want 2 and 1", erased, eraseEvents)
	}
	if evs, _ := s.ConsentEvents(t.Context(), acme, bot.ErasedCustomer(hash)); len(evs) != 3 {
		t.Errorf("the erased customer's pseudonymous ledger has %d events, want 3", len(evs))
	}
}

// testEraseSuppression: the suppression is per business; a turn with
// Unsuppress lifts it; erasing again suppresses again; the list and the
// ledger survive further turns of the customer.
func testEraseSuppression(t *testing.T, s EraseStore, _ Dump) {
	seedCustomer(t, s, acme, erasedNumber, "Zelda", t0)
	if suppressed(t, s, acme, erasedNumber) {
		t.Fatal("suppressed before any erase")
	}
	erase(t, s, erasure(acme, erasedNumber, true, t0.Add(time.Hour)))
	if !suppressed(t, s, acme, erasedNumber) {
		t.Fatal("not suppressed after an erase with Suppress")
	}
	if suppressed(t, s, globex, erasedNumber) {
		t.Error("suppressed for another business")
	}
	if suppressed(t, s, acme, phone2) {
		t.Error("another customer is suppressed")
	}
	// the customer writes in again: a turn that does not lift keeps it
	at := t0.Add(2 * time.Hour)
	commit(t, s, bot.Turn{Business: acme, Customer: erasedNumber, DedupID: "in:again-1", At: at, Conversation: conversation("ask", at)})
	if !suppressed(t, s, acme, erasedNumber) {
		t.Fatal("a turn without Unsuppress lifted the suppression")
	}
	ev := event("acme/again-2/0", acme, erasedNumber, "order_updates", bot.OptedIn, at)
	commit(t, s, bot.Turn{Business: acme, Customer: erasedNumber, DedupID: "in:again-2", At: at, Conversation: conversation("done", at),
		Consent: []bot.ConsentEvent{ev}, Unsuppress: bot.CustomerHash(eraseKey, erasedNumber)})
	if suppressed(t, s, acme, erasedNumber) {
		t.Fatal("Unsuppress did not lift the suppression")
	}
	if sess := load(t, s, acme, erasedNumber, at); sess.Consent["order_updates"] != bot.OptedIn {
		t.Errorf("consent after the new opt-in: %v", sess.Consent)
	}
	erase(t, s, erasure(acme, erasedNumber, true, t0.Add(3*time.Hour)))
	if !suppressed(t, s, acme, erasedNumber) {
		t.Fatal("a second erase did not suppress again")
	}
	if rep := verify(t, s, 3); rep.Break != nil || rep.Events != 5 {
		t.Errorf("after two erases: %d events, break %v; want 5 and none", rep.Events, rep.Break)
	}
}

// testEraseNoSuppression: an erase without Suppress erases but lists
// nothing.
func testEraseNoSuppression(t *testing.T, s EraseStore, _ Dump) {
	at := t0
	ev := event("acme/grant-1/0", acme, userID, flows.Topic("offers"), bot.OptedIn, at)
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "grant:1", At: at, Conversation: conversation("s", at),
		Consent: []bot.ConsentEvent{ev}})
	erase(t, s, erasure(acme, userID, false, at.Add(time.Minute)))
	if suppressed(t, s, acme, userID) {
		t.Error("suppressed by an erase without Suppress")
	}
	if evs, _ := s.ConsentEvents(t.Context(), acme, userID); len(evs) != 0 {
		t.Errorf("%d events still name the customer", len(evs))
	}
	if rep := verify(t, s, 10); rep.Break != nil || rep.Events != 2 {
		t.Errorf("ledger: %d events, break %v; want 2 and none", rep.Events, rep.Break)
	}
}
