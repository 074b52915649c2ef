package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Store is what the contract exercises: the engine's bot.Store plus the
// operations of the outbox publisher, the audit reader and housekeeping.
type Store interface {
	bot.Store
	// The sign-up verifications (see verification.go).
	bot.VerificationStore
	// PendingEffects returns up to limit effects of committed turns not yet
	// marked published, oldest commit first. limit < 1 is an error.
	PendingEffects(ctx context.Context, limit int) ([]bot.Effect, error)
	// MarkPublished removes effects from the pending ones. Ids that are
	// unknown or already published are ignored.
	MarkPublished(ctx context.Context, ids []string) error
	// ConsentEvents returns a customer's whole consent ledger in commit order.
	ConsentEvents(ctx context.Context, business bot.BusinessID, customer bot.CustomerID) ([]bot.ConsentEvent, error)
	// Ledger returns up to limit entries of the whole ledger in commit
	// order after seq `after`; LedgerHeads the last hash of each business's
	// chain (bot.VerifyLedger reads both).
	bot.LedgerReader
	// PromptAsks returns the experiment prompts shown to a business's
	// customers at since or later, of one flow or of every flow (""),
	// in commit order.
	PromptAsks(ctx context.Context, business bot.BusinessID, flow string, since time.Time) ([]bot.PromptAsk, error)
	// PruneProcessed forgets processed input ids whose turn's At is before
	// `before` and reports how many it removed.
	PruneProcessed(ctx context.Context, before time.Time) (int64, error)
	// PrunePublished deletes the effects marked published before `before`
	// (MarkPublished stamps them with the store's clock) and reports how
	// many it removed. Pending effects are never pruned, however old.
	PrunePublished(ctx context.Context, before time.Time) (int64, error)
	// PruneDeliveries forgets the message statuses whose latest committed
	// record's At is before `before` and reports how many it removed.
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// Precision is the time resolution every store keeps: times come back as
// t.UTC().Truncate(Precision).
const Precision = time.Microsecond

// Norm is what a stored time comes back as.
func Norm(t time.Time) time.Time { return t.UTC().Truncate(Precision) }

// t0 is the suite's clock: a UTC time with microsecond precision, so that
// values written with it come back unchanged.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

const (
	acme   bot.BusinessID = "acme"
	globex bot.BusinessID = "globex"

	phone  bot.CustomerID = "+14155550100"
	phone2 bot.CustomerID = "+447700900123"
	userID bot.CustomerID = "US.1234"
)

// Run runs the contract against stores made by open; open must return a new,
// empty store each call and arrange its cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"ZeroSessionForUnknownCustomer", testZeroSession},
		{"CommitLoadRoundTrip", testRoundTrip},
		{"TimesUTCMicrosecond", testTimePrecision},
		{"WindowClosedAndHeldSince", testWindowAndHold},
		{"TimersRoundTrip", testTimersRoundTrip},
		{"VarsAndHandoffRoundTrip", testVarsAndHandoff},
		{"HandoffTimerRoundTrip", testHandoffTimerRoundTrip},
		{"StopQuestionRoundTrip", testStopAsked},
		{"DueTimers", testDueTimers},
		{"DueTimersFollowCommits", testDueTimersFollowCommits},
		{"TimersWithDuplicateDedupID", testTimersDuplicate},
		{"DeliveriesAndMessageStatus", testDeliveries},
		{"DeliveriesWithDuplicateDedupID", testDeliveriesDuplicate},
		{"ConsentDerivesFromLedger", testConsentFromLedger},
		{"LatestConsentSourceAndTime", testLatestConsent},
		{"IsolationPerBusinessAndCustomer", testIsolation},
		{"ConsentEventsExact", testConsentEventsExact},
		{"LedgerAppendOnly", testLedgerAppendOnly},
		{"DuplicateDedupIDStoresNothing", testDuplicate},
		{"Processed", testProcessed},
		{"DedupIDsExact", testDedupIDsExact},
		{"InboundDedupThroughTheEngine", testInboundDedupThroughTheEngine},
		{"EmptyDedupIDNeverDedups", testEmptyDedup},
		{"RecentTemplates", testRecentTemplates},
		{"Outbox", testOutbox},
		{"PruneProcessed", testPrune},
		{"PrunePublished", testPrunePublished},
		{"PruneDeliveries", testPruneDeliveries},
		{"FlowSource", testFlowSource},
		{"CommitIsAtomic", testAtomic},
		{"ConcurrentCommits", testConcurrentCommits},
		{"ConcurrentDuplicates", testConcurrentDuplicates},
		{"NoAliasing", testNoAliasing},
		{"CanceledContext", testCanceledContext},
	}
	tests = append(tests, ledgerTests...)
	tests = append(tests, verificationTests...)
	tests = append(tests, askTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// ---- helpers ----

func event(id string, b bot.BusinessID, c bot.CustomerID, topic flows.Topic, st bot.ConsentStatus, at time.Time) bot.ConsentEvent {
	return bot.ConsentEvent{
		ID: id, Customer: c, Business: b, Channel: bot.Channel,
		Topic: topic, Category: flows.CategoryUtility, Status: st, Source: bot.SourceInChannel,
		Trigger: "button optin_yes", InboundID: "wamid." + id, InboundText: "Yes ✅ please",
		Prompt: "Acme Outfitters here on WhatsApp… want order updates?", FlowName: "retail",
		FlowVersion: "3f2a9c1b7d0e", At: at, Sender: "15550001111", Language: "en", ProviderAt: at.Add(-time.Second),
	}
}

func conversation(state flows.StateName, at time.Time) bot.Conversation {
	return bot.Conversation{
		FlowName: "retail", FlowVersion: "3f2a9c1b7d0e", State: state,
		LastPrompt: "Reply YES for order updates 📦", LastInboundAt: at,
	}
}

func messageEffect(id string, b bot.BusinessID, c bot.CustomerID) bot.Effect {
	return bot.Effect{
		ID: id, Kind: bot.EffectMessage, Business: b, Customer: c, Sender: "+15550001111",
		InReplyTo: "wamid." + id,
		Message: &bot.Message{Kind: bot.KindText, Text: "Hi! Want updates? 👋",
			Buttons: []bot.Button{{ID: "optin_yes", Title: "Yes please"}, {ID: "optin_no", Title: "No thanks"}}},
	}
}

func commit(t *testing.T, s Store, turn bot.Turn) {
	t.Helper()
	if err := s.Commit(t.Context(), turn); err != nil {
		t.Fatalf("Commit(%s/%s dedup %q): %v", turn.Business, turn.Customer, turn.DedupID, err)
	}
}

func load(t *testing.T, s Store, b bot.BusinessID, c bot.CustomerID, since time.Time) bot.Session {
	t.Helper()
	sess, err := s.LoadSession(t.Context(), b, c, since)
	if err != nil {
		t.Fatalf("LoadSession(%s, %s): %v", b, c, err)
	}
	return sess
}

// ledger returns a customer's events without their hash-chain links, which
// the ledger tests check on their own.
func ledger(t *testing.T, s Store, b bot.BusinessID, c bot.CustomerID) []bot.ConsentEvent {
	t.Helper()
	evs, err := s.ConsentEvents(t.Context(), b, c)
	if err != nil {
		t.Fatalf("ConsentEvents(%s, %s): %v", b, c, err)
	}
	for i := range evs {
		if evs[i].Hash == "" {
			t.Errorf("ConsentEvents(%s, %s): event %s has no hash", b, c, evs[i].ID)
		}
		evs[i].PrevHash, evs[i].Hash, evs[i].PIISalt, evs[i].PIIDigestHex = "", "", "", ""
	}
	return evs
}

func pending(t *testing.T, s Store, limit int) []bot.Effect {
	t.Helper()
	effs, err := s.PendingEffects(t.Context(), limit)
	if err != nil {
		t.Fatalf("PendingEffects(%d): %v", limit, err)
	}
	return effs
}

func processed(t *testing.T, s Store, b bot.BusinessID, id string) bool {
	t.Helper()
	ok, err := s.Processed(t.Context(), b, id)
	if err != nil {
		t.Fatalf("Processed(%s, %q): %v", b, id, err)
	}
	return ok
}

func messageStatus(t *testing.T, s Store, b bot.BusinessID, id string) string {
	t.Helper()
	st, err := s.MessageStatus(t.Context(), b, id)
	if err != nil {
		t.Fatalf("MessageStatus(%s, %q): %v", b, id, err)
	}
	return st
}

func dueTimers(t *testing.T, s Store, before time.Time, limit int) []bot.DueTimer {
	t.Helper()
	got, err := s.DueTimers(t.Context(), before, limit)
	if err != nil {
		t.Fatalf("DueTimers(%s, %d): %v", before.Format(time.RFC3339Nano), limit, err)
	}
	return got
}

func due(b bot.BusinessID, c bot.CustomerID, tm bot.Timer) bot.DueTimer {
	return bot.DueTimer{Business: b, Customer: c, Timer: tm}
}

func timer(id string, due time.Time, state flows.StateName, transition int) bot.Timer {
	return bot.Timer{ID: id, Due: due, State: state, Transition: transition}
}

// withTimers is conversation(state, t0) with the given timers.
func withTimers(state flows.StateName, timers ...bot.Timer) bot.Conversation {
	c := conversation(state, t0)
	c.Timers = timers
	return c
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %#v\n want %#v", what, got, want)
	}
}

func effectIDs(effs []bot.Effect) []string {
	ids := make([]string, len(effs))
	for i, e := range effs {
		ids[i] = e.ID
	}
	return ids
}

// ---- tests ----

func testZeroSession(t *testing.T, s Store) {
	// Something stored for someone else must not leak into the unknown customer.
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "wamid.other", At: t0,
		Conversation: conversation("ask", t0),
		Consent:      []bot.ConsentEvent{event("ev-other", acme, phone2, "order_updates", bot.OptedIn, t0)},
		Templates:    []bot.SentTemplate{{At: t0, Topic: "order_updates"}}})
	for _, c := range []bot.CustomerID{phone, userID} {
		got := load(t, s, acme, c, t0.Add(-24*time.Hour))
		equal(t, "session of unknown customer "+string(c), got, bot.Session{Business: acme, Customer: c})
	}
	equal(t, "ledger of unknown customer", ledger(t, s, acme, phone), []bot.ConsentEvent(nil))
}

func testRoundTrip(t *testing.T, s Store) {
	conv := bot.Conversation{
		FlowName: "retail", FlowVersion: "3f2a9c1b7d0e", State: "stopped",
		LastPrompt:    "You're unsubscribed. Reply START to resubscribe.\nÇa va? 日本語",
		LastInboundAt: t0.Add(-time.Minute + 7*time.Microsecond),
		PromptExpires: t0.Add(23*time.Hour + 7*time.Microsecond),
		Stop: &bot.StopRecord{At: t0.Add(-time.Minute + 7*time.Microsecond), ByProvider: false,
			Restorable: []flows.Topic{"order_updates", "promotions"},
			Prompt:     "You're unsubscribed. Reply START to resubscribe."},
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.1", Conversation: conv, At: t0})
	got := load(t, s, acme, phone, t0.Add(-24*time.Hour))
	equal(t, "session after commit", got, bot.Session{Business: acme, Customer: phone, Conversation: conv})

	// A provider stop restores nothing: Restorable stays nil.
	conv2 := conversation("", time.Time{})
	conv2.Stop = &bot.StopRecord{At: t0.Add(time.Second), ByProvider: true, Prompt: ""}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.2", Conversation: conv2, At: t0.Add(time.Second)})
	equal(t, "conversation replaced by the next commit", load(t, s, acme, phone, t0).Conversation, conv2)

	// No STOP standing: Stop comes back nil.
	conv3 := conversation("ask_topics", t0.Add(2*time.Second))
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.3", Conversation: conv3, At: t0.Add(2 * time.Second)})
	equal(t, "conversation without stop", load(t, s, acme, phone, t0).Conversation, conv3)

	// The user-id customer form works the same.
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.4", Conversation: conv, At: t0})
	equal(t, "conversation of user-id customer", load(t, s, acme, userID, t0).Conversation, conv)
}

func testTimePrecision(t *testing.T, s Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	nano := time.Date(2026, 3, 4, 5, 6, 7, 987654321, kolkata)
	now := time.Now() // carries a monotonic reading and the local zone
	conv := conversation("ask", nano)
	conv.Stop = &bot.StopRecord{At: now, Restorable: []flows.Topic{"order_updates"}, Prompt: "bye"}
	ev := event("ev-nano", acme, phone, "order_updates", bot.OptedIn, nano)
	consent := []bot.ConsentEvent{ev}
	templates := []bot.SentTemplate{{At: nano, Topic: "order_updates"}, {At: now, Topic: "promotions"}}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.t", At: nano,
		Conversation: conv, Consent: consent, Templates: templates})
	// Commit normalises its own copies, never the caller's values.
	if consent[0].At != nano || templates[0].At != nano || templates[1].At != now || conv.Stop.At != now {
		t.Errorf("Commit changed the times of the Turn it was given")
	}

	want := conv
	want.LastInboundAt = Norm(nano)
	want.Stop = &bot.StopRecord{At: Norm(now), Restorable: []flows.Topic{"order_updates"}, Prompt: "bye"}
	earliest := nano
	if now.Before(nano) {
		earliest = now
	}
	got := load(t, s, acme, phone, earliest.Add(-time.Hour))
	equal(t, "conversation times", got.Conversation, want)
	if loc := got.Conversation.LastInboundAt.Location(); loc != time.UTC {
		t.Errorf("LastInboundAt location = %v, want UTC", loc)
	}
	tpls := []bot.SentTemplate{{At: Norm(nano), Topic: "order_updates"}, {At: Norm(now), Topic: "promotions"}}
	if now.Before(nano) {
		tpls[0], tpls[1] = tpls[1], tpls[0]
	}
	equal(t, "template times", got.RecentTemplates, tpls)
	wantEv := ev
	wantEv.At, wantEv.ProviderAt = Norm(nano), Norm(ev.ProviderAt)
	equal(t, "event time", ledger(t, s, acme, phone), []bot.ConsentEvent{wantEv})

	// The zero time round-trips as the zero time.
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "wamid.z", Conversation: bot.Conversation{State: "ask"}, At: t0})
	equal(t, "zero LastInboundAt", load(t, s, acme, phone2, t0).Conversation, bot.Conversation{State: "ask"})

	// Templates exactly at `since`, to the microsecond, are included.
	got = load(t, s, acme, phone, Norm(nano))
	if len(got.RecentTemplates) == 0 || !got.RecentTemplates[0].At.Equal(Norm(nano)) {
		t.Errorf("template at exactly since not returned: %v", got.RecentTemplates)
	}
}

func testWindowAndHold(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	kolkata := time.FixedZone("IST", 5*3600+1800)
	closed := time.Date(2026, 1, 2, 8, 30, 5, 987654321, kolkata) // 03:00:05.987654 UTC, nanoseconds dropped
	held := time.Now()                                            // monotonic reading, local zone
	conv := conversation("ask", t0)
	conv.WindowClosedAt = closed
	conv.HeldSince = held
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.w1", Conversation: conv, At: t0})
	if conv.WindowClosedAt != closed || conv.HeldSince != held {
		t.Errorf("Commit changed the times of the Conversation it was given")
	}
	want := conversation("ask", t0)
	want.WindowClosedAt = Norm(closed)
	want.HeldSince = Norm(held)
	got := load(t, s, acme, phone, since).Conversation
	equal(t, "conversation with both set", got, want)
	if got.WindowClosedAt.Location() != time.UTC || got.HeldSince.Location() != time.UTC {
		t.Errorf("locations = %v, %v; want UTC", got.WindowClosedAt.Location(), got.HeldSince.Location())
	}

	// Each is kept on its own; the next commit replaces (here: clears) the other.
	onlyClosed := conversation("ask", t0)
	onlyClosed.WindowClosedAt = t0.Add(time.Microsecond)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.w2", Conversation: onlyClosed, At: t0})
	equal(t, "only WindowClosedAt set", load(t, s, acme, phone, since).Conversation, onlyClosed)
	onlyHeld := conversation("ask", t0)
	onlyHeld.HeldSince = t0.Add(2 * time.Microsecond)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.w3", Conversation: onlyHeld, At: t0})
	equal(t, "only HeldSince set", load(t, s, acme, phone, since).Conversation, onlyHeld)

	// Cleared: zero stays zero.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.w4", Conversation: conversation("ask", t0), At: t0})
	got = load(t, s, acme, phone, since).Conversation
	equal(t, "both cleared", got, conversation("ask", t0))
	if !got.WindowClosedAt.IsZero() || !got.HeldSince.IsZero() {
		t.Errorf("cleared times are not zero: %v, %v", got.WindowClosedAt, got.HeldSince)
	}
	// Never set: zero.
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "wamid.w5", Conversation: conversation("ask", t0), At: t0})
	equal(t, "never set", load(t, s, acme, phone2, since).Conversation, conversation("ask", t0))

	// They are per customer and per business.
	other := conversation("ask", t0)
	other.HeldSince = t0
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "wamid.w6", Conversation: other, At: t0})
	equal(t, "globex customer", load(t, s, globex, phone, since).Conversation, other)
	equal(t, "acme customer untouched", load(t, s, acme, phone, since).Conversation, conversation("ask", t0))
}

func testTimersRoundTrip(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	kolkata := time.FixedZone("IST", 5*3600+1800)
	nano := time.Date(2026, 1, 2, 10, 0, 0, 123456789, kolkata) // 04:30:00.123456 UTC, nanoseconds dropped
	conv := withTimers("ask",
		timer("ask:0:1767323045", t0.Add(2*time.Hour), "ask", 0),
		timer("ask:1:1767323045", nano, "ask", 1),
		timer("ask:2 ☎️ «ü»", t0.Add(-time.Minute), "ask", 2), // already due: kept as given
		bot.Timer{ID: "zero"},                                 // zero values round-trip too
	)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.tr1", Conversation: conv, At: t0})
	if conv.Timers[1].Due != nano {
		t.Errorf("Commit changed the timers of the Conversation it was given")
	}
	want := withTimers("ask",
		timer("ask:0:1767323045", t0.Add(2*time.Hour), "ask", 0),
		timer("ask:1:1767323045", Norm(nano), "ask", 1),
		timer("ask:2 ☎️ «ü»", t0.Add(-time.Minute), "ask", 2),
		bot.Timer{ID: "zero"},
	)
	got := load(t, s, acme, phone, since).Conversation
	equal(t, "conversation with timers, in their order", got, want)
	if len(got.Timers) == 4 && got.Timers[1].Due.Location() != time.UTC {
		t.Errorf("timer Due location = %v, want UTC", got.Timers[1].Due.Location())
	}

	// Nothing handed in or out is shared with the store.
	conv.Timers[0].State = "mutated"
	got.Timers[2].ID = "mutated"
	got.Timers[3].Due = t0
	equal(t, "timers after mutating inputs and outputs", load(t, s, acme, phone, since).Conversation, want)

	// The next commit replaces them; none, nil or empty, comes back nil.
	for i, none := range [][]bot.Timer{{}, nil} {
		commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: fmt.Sprintf("wamid.tr%d", i+2),
			Conversation: withTimers("done", none...), At: t0})
		equal(t, fmt.Sprintf("timers cleared (%#v)", none), load(t, s, acme, phone, since).Conversation, conversation("done", t0))
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.tr4",
		Conversation: withTimers("ask", timer("t", t0, "ask", 3)), At: t0})
	equal(t, "timers set again", load(t, s, acme, phone, since).Conversation, withTimers("ask", timer("t", t0, "ask", 3)))

	// A conversation never given timers has none.
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "wamid.tr5", Conversation: conversation("ask", t0), At: t0})
	equal(t, "never set", load(t, s, acme, phone2, since).Conversation, conversation("ask", t0))
	equal(t, "unknown customer", load(t, s, acme, userID, since), bot.Session{Business: acme, Customer: userID})
}

func testDueTimers(t *testing.T, s Store) {
	equal(t, "empty store", dueTimers(t, s, t0.Add(1000*time.Hour), 10), []bot.DueTimer(nil))

	// Timers of several customers of two businesses, interleaved in time; the
	// same customer and timer id at two businesses are two timers.
	a1 := timer("a1", t0.Add(1*time.Minute), "ask", 0)
	a2 := timer("a2", t0.Add(5*time.Minute), "ask", 1)
	a3 := timer("a3", t0.Add(time.Hour), "ask", 2)
	u1 := timer("u1", t0.Add(2*time.Minute), "confirm", 0)
	u2 := timer("u2", t0.Add(30*time.Minute), "confirm", 1)
	g1 := timer("a1", t0.Add(3*time.Minute), "welcome", 0)
	p1 := timer("p1", t0.Add(4*time.Minute+500*time.Nanosecond), "welcome", 7)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.d1", At: t0, Conversation: withTimers("ask", a3, a1, a2)})
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.d2", At: t0, Conversation: withTimers("confirm", u2, u1)})
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "wamid.d1", At: t0, Conversation: withTimers("welcome", g1)})
	commit(t, s, bot.Turn{Business: globex, Customer: phone2, DedupID: "wamid.d3", At: t0, Conversation: withTimers("welcome", p1)})
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "wamid.d4", At: t0, Conversation: conversation("ask", t0)})

	p1.Due = Norm(p1.Due)
	all := []bot.DueTimer{
		due(acme, phone, a1), due(acme, userID, u1), due(globex, phone, g1), due(globex, phone2, p1),
		due(acme, phone, a2), due(acme, userID, u2), due(acme, phone, a3),
	}
	later := t0.Add(2 * time.Hour)
	got := dueTimers(t, s, later, 100)
	equal(t, "all due, oldest first", got, all)
	if len(got) > 0 && got[0].Timer.Due.Location() != time.UTC {
		t.Errorf("DueTimer Due location = %v, want UTC", got[0].Timer.Due.Location())
	}
	equal(t, "limit 7", dueTimers(t, s, later, 7), all)
	equal(t, "limit 3", dueTimers(t, s, later, 3), all[:3])
	equal(t, "limit 1", dueTimers(t, s, later, 1), all[:1])

	// Due strictly before `before`: a timer due exactly then is not due yet.
	equal(t, "before = a2's due", dueTimers(t, s, a2.Due, 100), all[:4])
	equal(t, "a microsecond later", dueTimers(t, s, a2.Due.Add(time.Microsecond), 100), all[:5])
	equal(t, "the same instant in another zone", dueTimers(t, s, a2.Due.Add(time.Microsecond).In(time.FixedZone("EST", -5*3600)), 100), all[:5])
	equal(t, "a limit below the due count", dueTimers(t, s, a2.Due.Add(time.Microsecond), 2), all[:2])
	equal(t, "nothing due yet", dueTimers(t, s, a1.Due, 100), []bot.DueTimer(nil))

	for _, limit := range []int{0, -1} {
		if _, err := s.DueTimers(t.Context(), later, limit); err == nil {
			t.Errorf("DueTimers(limit %d) did not fail; limit < 1 is an error", limit)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.DueTimers(ctx, later, 10); err == nil {
		t.Errorf("DueTimers with a canceled context succeeded")
	}

	// Reading timers neither consumes nor shares them.
	got[0].Timer.ID = "mutated"
	got[1].Timer.Due = time.Time{}
	equal(t, "due again after mutating the result", dueTimers(t, s, later, 100), all)
	equal(t, "the conversation keeps its timers", load(t, s, acme, phone, t0).Conversation.Timers, []bot.Timer{a3, a1, a2})
}

func testDueTimersFollowCommits(t *testing.T, s Store) {
	later := t0.Add(time.Hour)
	x := timer("x", t0.Add(1*time.Minute), "ask", 0)
	y := timer("y", t0.Add(2*time.Minute), "ask", 1)
	z := timer("z", t0.Add(90*time.Second), "wait", 0)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.f1", At: t0, Conversation: withTimers("ask", x, y)})
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.f2", At: t0, Conversation: withTimers("wait", z)})
	equal(t, "initially", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, phone, x), due(acme, userID, z), due(acme, phone, y)})

	// A later commit moves one timer (same id, new due, state and
	// transition), drops one and adds one.
	y2 := timer("y", t0.Add(3*time.Minute), "later", 4)
	w := timer("w", t0.Add(10*time.Second), "later", 0)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.f3", At: t0, Conversation: withTimers("later", y2, w)})
	equal(t, "after changing timers", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, phone, w), due(acme, userID, z), due(acme, phone, y2)})
	equal(t, "only the second timer is due before 2m", dueTimers(t, s, t0.Add(2*time.Minute), 10), []bot.DueTimer{due(acme, phone, w), due(acme, userID, z)})

	// A commit whose conversation has no timers (here one without DedupID)
	// removes the customer's timers, and only theirs.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, At: t0, Conversation: conversation("done", t0)})
	equal(t, "after clearing one customer's timers", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, userID, z)})
	equal(t, "cleared conversation", load(t, s, acme, phone, t0).Conversation, conversation("done", t0))

	// Committing the same timers again keeps them once.
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.f4", At: t0, Conversation: withTimers("wait", z)})
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "wamid.f5", At: t0, Conversation: withTimers("wait", z)})
	equal(t, "after committing the same timers twice", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, userID, z)})

	// A timer set again at another business does not touch this one.
	commit(t, s, bot.Turn{Business: globex, Customer: userID, DedupID: "wamid.f4", At: t0, Conversation: conversation("done", t0)})
	equal(t, "after another business's commit", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, userID, z)})
}

func testTimersDuplicate(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	later := t0.Add(time.Hour)
	x := timer("x", t0.Add(time.Minute), "ask", 0)
	first := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.td", At: t0,
		Conversation: withTimers("ask", x),
		Consent:      []bot.ConsentEvent{event("ev-td", acme, phone, "order_updates", bot.OptedIn, t0)}}
	commit(t, s, first)
	wantSession := load(t, s, acme, phone, since)
	wantDue := []bot.DueTimer{due(acme, phone, x)}
	check := func(what string) {
		t.Helper()
		equal(t, what+": session", load(t, s, acme, phone, since), wantSession)
		equal(t, what+": due timers", dueTimers(t, s, later, 10), wantDue)
		equal(t, what+": other customer", load(t, s, acme, userID, since), bot.Session{Business: acme, Customer: userID})
	}

	// A redelivery changes no timers: not the customer's, not another's.
	second := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.td", At: later,
		Conversation: withTimers("done", timer("x", t0.Add(2*time.Minute), "done", 1), timer("y", t0, "done", 0))}
	if err := s.Commit(t.Context(), second); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second Commit with the same DedupID: err = %v, want ErrDuplicate", err)
	}
	check("after a duplicate")
	second.Conversation = conversation("done", later) // would clear the timers
	if err := s.Commit(t.Context(), second); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("duplicate Commit clearing the timers: err = %v, want ErrDuplicate", err)
	}
	check("after a duplicate without timers")
	second.Customer = userID
	second.Conversation = withTimers("ask", timer("u", t0, "ask", 0))
	if err := s.Commit(t.Context(), second); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit with the same DedupID for another customer: err = %v, want ErrDuplicate", err)
	}
	check("after a duplicate for another customer")

	// A Commit failing for another reason changes no timers either.
	bad := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.td2", At: later,
		Conversation: conversation("done", later),
		Consent:      []bot.ConsentEvent{event("ev-td", acme, phone, "order_updates", bot.OptedOut, later)}} // id clashes
	if err := s.Commit(t.Context(), bad); err == nil {
		t.Fatalf("Commit with a consent event id already in the ledger succeeded")
	}
	check("after a clashing consent event id")

	// A timer id repeated within the conversation fails the commit.
	bad.Consent = nil
	bad.Conversation = withTimers("done", timer("y", t0, "done", 0), timer("y", t0.Add(time.Minute), "done", 1))
	if err := s.Commit(t.Context(), bad); err == nil || errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit with a timer id twice: err = %v, want a non-duplicate error", err)
	}
	check("after a repeated timer id")
	if processed(t, s, acme, bad.DedupID) {
		t.Errorf("a failed turn's DedupID was marked processed")
	}

	// Fixed, it commits.
	bad.Conversation.Timers = bad.Conversation.Timers[1:]
	commit(t, s, bad)
	equal(t, "due timers after the fixed turn", dueTimers(t, s, later, 10), []bot.DueTimer{due(acme, phone, bad.Conversation.Timers[0])})
}

func testDeliveries(t *testing.T, s Store) {
	delivery := func(id, status string, at time.Time) bot.DeliveryRecord {
		return bot.DeliveryRecord{MessageID: id, Status: status, At: at}
	}
	expect := func(what string, b bot.BusinessID, want map[string]string) {
		t.Helper()
		for id, st := range want {
			if got := messageStatus(t, s, b, id); got != st {
				t.Errorf("%s: MessageStatus(%s, %q) = %q, want %q", what, b, id, got, st)
			}
		}
	}
	expect("empty store", acme, map[string]string{"wamid.m1": "", "": ""})

	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:1", At: t0,
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m1", "sent", t0), delivery("wamid.m2", "delivered", t0)}})
	expect("first turn", acme, map[string]string{"wamid.m1": "sent", "wamid.m2": "delivered",
		"wamid.M1": "", "wamid.m3": ""})

	// A later commit replaces a message's record and leaves the others.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:2", At: t0.Add(time.Second),
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m1", "delivered", t0.Add(time.Second))}})
	expect("later record", acme, map[string]string{"wamid.m1": "delivered", "wamid.m2": "delivered"})

	// The latest commit wins, whatever its At (ordering statuses is the caller's job).
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:3", At: t0.Add(2 * time.Second),
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m2", "failed", t0.Add(-time.Hour))}})
	expect("later commit with older At", acme, map[string]string{"wamid.m1": "delivered", "wamid.m2": "failed"})

	// Within one turn the later record of a message wins.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:4", At: t0.Add(3 * time.Second),
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m3", "sent", t0), delivery("wamid.m1", "read", t0),
			delivery("wamid.m3", "read", t0.Add(time.Second)), delivery("wamid.m3", "delivered", t0)}})
	expect("repeated within a turn", acme, map[string]string{"wamid.m1": "read", "wamid.m3": "delivered"})

	// Keyed by business and message id, not customer; a turn without
	// DedupID records too.
	commit(t, s, bot.Turn{Business: acme, Customer: userID, At: t0.Add(4 * time.Second),
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m2", "read", t0)}})
	expect("another customer's turn, no DedupID", acme, map[string]string{"wamid.m2": "read"})

	// Per business: the same message id at globex is another message.
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "status:1", At: t0,
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m1", "failed", t0), delivery("wamid.g1", "sent", t0)}})
	expect("globex", globex, map[string]string{"wamid.m1": "failed", "wamid.g1": "sent", "wamid.m2": ""})
	expect("acme after globex", acme, map[string]string{"wamid.m1": "read", "wamid.m2": "read",
		"wamid.m3": "delivered", "wamid.g1": ""})
	expect("unknown business", "initech", map[string]string{"wamid.m1": ""})

	// Many records in one turn.
	var many []bot.DeliveryRecord
	for i := range 250 {
		many = append(many, delivery(fmt.Sprintf("bulk.%d", i%230), fmt.Sprintf("st%d", i), t0))
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:bulk", At: t0, Deliveries: many})
	expect("bulk", acme, map[string]string{"bulk.0": "st230", "bulk.19": "st249", "bulk.20": "st20",
		"bulk.229": "st229", "bulk.230": "", "wamid.m1": "read"})

	// A failing Commit records none of its Deliveries.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "status:5", At: t0,
		Consent: []bot.ConsentEvent{event("ev-d1", acme, phone, "order_updates", bot.OptedIn, t0)}})
	bad := bot.Turn{Business: acme, Customer: phone, DedupID: "status:6", At: t0,
		Consent:    []bot.ConsentEvent{event("ev-d1", acme, phone, "order_updates", bot.OptedOut, t0)}, // clashes
		Deliveries: []bot.DeliveryRecord{delivery("wamid.m1", "failed", t0), delivery("wamid.m9", "sent", t0)}}
	if err := s.Commit(t.Context(), bad); err == nil {
		t.Fatalf("Commit with a consent event id already in the ledger succeeded")
	}
	expect("after a failed Commit", acme, map[string]string{"wamid.m1": "read", "wamid.m9": ""})

	// A canceled Commit records none either.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	bad.Consent, bad.DedupID = nil, "status:7"
	if err := s.Commit(ctx, bad); err == nil {
		t.Fatalf("Commit with a canceled context succeeded")
	}
	expect("after a canceled Commit", acme, map[string]string{"wamid.m1": "read", "wamid.m9": ""})
	if _, err := s.MessageStatus(ctx, acme, "wamid.m1"); err == nil {
		t.Errorf("MessageStatus with a canceled context succeeded")
	}
}

func testDeliveriesDuplicate(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	first := bot.Turn{Business: acme, Customer: phone, DedupID: "status:dup", At: t0,
		Conversation: conversation("ask", t0),
		Deliveries:   []bot.DeliveryRecord{{MessageID: "wamid.d1", Status: "sent", At: t0}},
	}
	commit(t, s, first)
	wantSession := load(t, s, acme, phone, since)

	later := t0.Add(time.Minute)
	closed := conversation("ask", later)
	closed.WindowClosedAt, closed.HeldSince = later, later
	second := bot.Turn{Business: acme, Customer: phone, DedupID: "status:dup", At: later,
		Conversation: closed,
		Consent:      []bot.ConsentEvent{event("dup:0", acme, phone, "order_updates", bot.OptedOut, later)},
		Deliveries: []bot.DeliveryRecord{{MessageID: "wamid.d1", Status: "read", At: later},
			{MessageID: "wamid.d2", Status: "delivered", At: later}},
		Effects: []bot.Effect{messageEffect("dup:1", acme, phone)},
	}
	if err := s.Commit(t.Context(), second); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second Commit with the same DedupID: err = %v, want ErrDuplicate", err)
	}
	// Another customer's turn with the same input id is the same input.
	second.Customer = userID
	second.Consent, second.Effects = nil, nil
	if err := s.Commit(t.Context(), second); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit with the same DedupID for another customer: err = %v, want ErrDuplicate", err)
	}
	for id, want := range map[string]string{"wamid.d1": "sent", "wamid.d2": ""} {
		if got := messageStatus(t, s, acme, id); got != want {
			t.Errorf("after duplicate: MessageStatus(%q) = %q, want %q", id, got, want)
		}
	}
	equal(t, "session after duplicate", load(t, s, acme, phone, since), wantSession)
	equal(t, "other customer after duplicate", load(t, s, acme, userID, since), bot.Session{Business: acme, Customer: userID})
	equal(t, "outbox after duplicate", pending(t, s, 10), []bot.Effect(nil))
}

func testConsentFromLedger(t *testing.T, s Store) {
	at := t0
	step := func(dedup string, evs ...bot.ConsentEvent) {
		t.Helper()
		at = at.Add(time.Minute)
		commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: dedup, Conversation: conversation("", at), Consent: evs, At: at})
	}
	step("m1", event("e1", acme, phone, "order_updates", bot.OptedIn, t0.Add(1*time.Minute)))
	equal(t, "after opt-in", load(t, s, acme, phone, t0).Consent, map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedIn})
	step("m2", event("e2", acme, phone, "order_updates", bot.OptedOut, t0.Add(2*time.Minute)),
		event("e3", acme, phone, "promotions", bot.OptedIn, t0.Add(2*time.Minute)))
	equal(t, "after opt-out", load(t, s, acme, phone, t0).Consent,
		map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedOut, "promotions": bot.OptedIn})
	// Within one turn the later event of a topic wins.
	step("m3", event("e4", acme, phone, "order_updates", bot.OptedIn, t0.Add(3*time.Minute)),
		event("e5", acme, phone, "promotions", bot.OptedOut, t0.Add(3*time.Minute)),
		event("e6", acme, phone, "promotions", bot.OptedIn, t0.Add(3*time.Minute)))
	equal(t, "after opt-in again", load(t, s, acme, phone, t0).Consent,
		map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedIn, "promotions": bot.OptedIn})
	// Commit order decides, not At: a later commit with an older At still wins.
	step("m4", event("e7", acme, phone, "order_updates", bot.OptedOut, t0.Add(-time.Hour)))
	equal(t, "latest commit wins", load(t, s, acme, phone, t0).Consent,
		map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedOut, "promotions": bot.OptedIn})
	// A resume is evidence, not permission: the opt-out before it stands.
	step("m5", event("e8", acme, phone, "order_updates", bot.Resumed, t0.Add(5*time.Minute)))
	equal(t, "after a resume", load(t, s, acme, phone, t0).Consent,
		map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedOut, "promotions": bot.OptedIn})
	// A topic with nothing but a resume has no consent at all.
	step("m6", event("e9", acme, phone, "offers", bot.Resumed, t0.Add(6*time.Minute)))
	equal(t, "a resume alone", load(t, s, acme, phone, t0).Consent,
		map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedOut, "promotions": bot.OptedIn})
}

// testLatestConsent: the session's Latest is the latest event of each
// topic by commit order, with its source and time (UTC, microseconds).
func testLatestConsent(t *testing.T, s Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2026, 3, 4, 5, 6, 7, 987654321, kolkata)
	yes := event("l1", acme, phone, "order_updates", bot.OptedIn, at)
	stop := event("l2", acme, phone, "promotions", bot.OptedOut, at)
	stop.Source = bot.SourceProvider
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "l-1", Conversation: conversation("", at), At: at,
		Consent: []bot.ConsentEvent{yes, stop}})
	later := at.Add(time.Hour)
	// A later commit with an older At still wins, as for Consent.
	web := event("l3", acme, phone, "order_updates", bot.OptedOut, at.Add(-time.Hour))
	web.Source = bot.SourceWeb
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "l-2", Conversation: conversation("", later), At: later,
		Consent: []bot.ConsentEvent{web}})
	got := load(t, s, acme, phone, t0)
	equal(t, "latest", got.Latest, map[flows.Topic]bot.LatestConsent{
		"order_updates": {Status: bot.OptedOut, Source: bot.SourceWeb, At: Norm(at.Add(-time.Hour))},
		"promotions":    {Status: bot.OptedOut, Source: bot.SourceProvider, At: Norm(at)},
	})
	for topic, l := range got.Latest {
		if got.Consent[topic] != l.Status {
			t.Errorf("topic %s: Consent %s, Latest %s", topic, got.Consent[topic], l.Status)
		}
	}
	equal(t, "latest of a customer without consent", load(t, s, acme, userID, t0).Latest, map[flows.Topic]bot.LatestConsent(nil))
}

func testIsolation(t *testing.T, s Store) {
	type who struct {
		b bot.BusinessID
		c bot.CustomerID
	}
	all := []who{{acme, phone}, {acme, userID}, {globex, phone}, {globex, phone2}}
	for i, w := range all {
		st := bot.OptedIn
		if i%2 == 1 {
			st = bot.OptedOut
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		// The same dedup id at every business/customer: dedup is per business,
		// so it only collides within one (tested in DuplicateDedupIDStoresNothing).
		dedup := fmt.Sprintf("wamid.%d", i)
		if i >= 2 {
			dedup = fmt.Sprintf("wamid.%d", i-2) // same ids at globex as at acme
		}
		commit(t, s, bot.Turn{Business: w.b, Customer: w.c, DedupID: dedup, At: at,
			Conversation: conversation(flows.StateName(fmt.Sprintf("state%d", i)), at),
			Consent:      []bot.ConsentEvent{event(fmt.Sprintf("ev-%d", i), w.b, w.c, flows.Topic(fmt.Sprintf("topic%d", i)), st, at)},
			Templates:    []bot.SentTemplate{{At: at, Topic: flows.Topic(fmt.Sprintf("topic%d", i))}},
		})
	}
	for i, w := range all {
		st := bot.OptedIn
		if i%2 == 1 {
			st = bot.OptedOut
		}
		at := t0.Add(time.Duration(i) * time.Minute)
		topic := flows.Topic(fmt.Sprintf("topic%d", i))
		want := bot.Session{Business: w.b, Customer: w.c,
			Conversation:    conversation(flows.StateName(fmt.Sprintf("state%d", i)), at),
			Consent:         map[flows.Topic]bot.ConsentStatus{topic: st},
			Latest:          map[flows.Topic]bot.LatestConsent{topic: {Status: st, Source: bot.SourceInChannel, At: at}},
			RecentTemplates: []bot.SentTemplate{{At: at, Topic: topic}},
		}
		equal(t, fmt.Sprintf("session %s/%s", w.b, w.c), load(t, s, w.b, w.c, t0.Add(-time.Hour)), want)
		equal(t, fmt.Sprintf("ledger %s/%s", w.b, w.c), ledger(t, s, w.b, w.c),
			[]bot.ConsentEvent{event(fmt.Sprintf("ev-%d", i), w.b, w.c, topic, st, at)})
	}
	if !processed(t, s, globex, "wamid.0") || processed(t, s, globex, "wamid.3") || processed(t, s, "initech", "wamid.0") {
		t.Errorf("Processed is not per business")
	}
	equal(t, "unknown business session", load(t, s, "initech", phone, t0.Add(-time.Hour)),
		bot.Session{Business: "initech", Customer: phone})
}

func testConsentEventsExact(t *testing.T, s Store) {
	customers := []bot.CustomerID{phone, userID, "US.ENT.5678"}
	want := map[bot.CustomerID][]bot.ConsentEvent{}
	n := 0
	for ci, c := range customers {
		for si, src := range bot.Sources {
			n++
			st := bot.OptedIn
			if si%3 == 2 {
				st = bot.OptedOut
			}
			ev := bot.ConsentEvent{
				ID:          fmt.Sprintf("%s:%s:%d", src, c, si),
				Customer:    c,
				Business:    acme,
				Channel:     bot.Channel,
				Topic:       flows.Topic(fmt.Sprintf("topic_%d", si%3)),
				Category:    flows.Categories[si%len(flows.Categories)],
				Status:      st,
				Source:      src,
				Trigger:     fmt.Sprintf("trigger %s %d", src, ci),
				InboundID:   fmt.Sprintf("wamid.HBgL%d_%d", ci, si),
				InboundText: fmt.Sprintf("Oui, s'il vous plaît 👍 \"%d\" 'quote' \\ back\nline", si),
				Prompt:      fmt.Sprintf("Prompt %d — «guillemets» 中文 ☎️", si),
				FlowName:    "retail",
				FlowVersion: fmt.Sprintf("v%04x", n),
				At:          t0.Add(time.Duration(n)*time.Second + time.Duration(n)*time.Microsecond),
			}
			want[c] = append(want[c], ev)
		}
	}
	// Interleave customers across turns, two events per turn for some.
	dedup := 0
	for i := 0; i < len(bot.Sources); i += 2 {
		for _, c := range customers {
			evs := want[c][i:min(i+2, len(bot.Sources))]
			dedup++
			commit(t, s, bot.Turn{Business: acme, Customer: c, DedupID: fmt.Sprintf("in.%d", dedup), At: t0,
				Conversation: conversation("", t0), Consent: append([]bot.ConsentEvent(nil), evs...)})
		}
	}
	for _, c := range customers {
		equal(t, "ledger of "+string(c), ledger(t, s, acme, c), want[c])
	}
}

func testLedgerAppendOnly(t *testing.T, s Store) {
	first := event("e1", acme, phone, "order_updates", bot.OptedIn, t0)
	second := event("e2", acme, phone, "order_updates", bot.OptedIn, t0.Add(time.Second))
	second.Source = bot.SourceWeb
	second.Trigger = "web form"
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "a", Consent: []bot.ConsentEvent{first}, At: t0})
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "b", Consent: []bot.ConsentEvent{second}, At: t0})
	equal(t, "ledger keeps both events of a topic", ledger(t, s, acme, phone), []bot.ConsentEvent{first, second})

	// No method may rewrite the ledger.
	typ := reflect.TypeOf(s)
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		for _, verb := range []string{"Update", "Delete", "Remove", "Edit", "Rewrite", "Truncate"} {
			if strings.HasPrefix(name, verb) {
				t.Errorf("store has method %s: the consent ledger must be append-only", name)
			}
		}
	}
}

func testDuplicate(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	first := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.dup", At: t0,
		Conversation: conversation("ask", t0),
		Consent:      []bot.ConsentEvent{event("in:wamid.dup:0", acme, phone, "order_updates", bot.OptedIn, t0)},
		Templates:    []bot.SentTemplate{{At: t0, Topic: "order_updates"}},
		Effects:      []bot.Effect{messageEffect("in:wamid.dup:1", acme, phone)},
	}
	commit(t, s, first)
	wantSession := load(t, s, acme, phone, since)

	later := t0.Add(time.Minute)
	second := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.dup", At: later,
		Conversation: conversation("done", later),
		Consent:      []bot.ConsentEvent{event("other:0", acme, phone, "order_updates", bot.OptedOut, later)},
		Templates:    []bot.SentTemplate{{At: later, Topic: "promotions"}},
		Effects:      []bot.Effect{messageEffect("other:1", acme, phone)},
	}
	err := s.Commit(t.Context(), second)
	if !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second Commit with the same DedupID: err = %v, want ErrDuplicate", err)
	}
	// The store dedupes on (business, DedupID) alone: another customer's
	// turn with the same DedupID is the same input. The engine puts the
	// customer in the DedupID of inputs that are per customer (bot.DedupID;
	// see testDedupIDsExact).
	third := second
	third.Customer = userID
	third.Consent = []bot.ConsentEvent{event("third:0", acme, userID, "order_updates", bot.OptedIn, later)}
	third.Effects = []bot.Effect{messageEffect("third:1", acme, userID)}
	if err := s.Commit(t.Context(), third); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit with the same DedupID for another customer: err = %v, want ErrDuplicate", err)
	}

	equal(t, "session after duplicate", load(t, s, acme, phone, since), wantSession)
	equal(t, "ledger after duplicate", ledger(t, s, acme, phone), first.Consent)
	equal(t, "outbox after duplicate", pending(t, s, 100), first.Effects)
	equal(t, "other customer after duplicate", load(t, s, acme, userID, since), bot.Session{Business: acme, Customer: userID})
	equal(t, "other customer's ledger after duplicate", ledger(t, s, acme, userID), []bot.ConsentEvent(nil))
}

func testProcessed(t *testing.T, s Store) {
	if processed(t, s, acme, "wamid.p") {
		t.Errorf("Processed before Commit = true")
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.p", At: t0})
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "send:req-1", At: t0})
	for _, id := range []string{"wamid.p", "send:req-1"} {
		if !processed(t, s, acme, id) {
			t.Errorf("Processed(%q) after Commit = false", id)
		}
	}
	if processed(t, s, acme, "wamid.P") || processed(t, s, acme, "wamid.q") || processed(t, s, acme, "") {
		t.Errorf("Processed reports an id that was never committed")
	}
}

func testEmptyDedup(t *testing.T, s Store) {
	for i := range 3 {
		at := t0.Add(time.Duration(i) * time.Second)
		commit(t, s, bot.Turn{Business: acme, Customer: phone, At: at, Conversation: conversation("", at),
			Consent: []bot.ConsentEvent{event(fmt.Sprintf("e%d", i), acme, phone, "order_updates", bot.OptedIn, at)},
			Effects: []bot.Effect{messageEffect(fmt.Sprintf("x%d", i), acme, phone)}})
	}
	if n := len(ledger(t, s, acme, phone)); n != 3 {
		t.Errorf("ledger has %d events after three commits without DedupID, want 3", n)
	}
	if n := len(pending(t, s, 10)); n != 3 {
		t.Errorf("outbox has %d effects after three commits without DedupID, want 3", n)
	}
	if processed(t, s, acme, "") {
		t.Errorf(`Processed(acme, "") = true; an empty DedupID is never recorded`)
	}
}

func testRecentTemplates(t *testing.T, s Store) {
	since := t0.Add(-24 * time.Hour)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "a", At: t0,
		Templates: []bot.SentTemplate{{At: t0, Topic: "order_updates"}, {At: t0.Add(-25 * time.Hour), Topic: "old"}}})
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "b", At: t0,
		Templates: []bot.SentTemplate{{At: t0.Add(-time.Hour), Topic: "promotions"},
			{At: since, Topic: "edge"}, {At: since.Add(-time.Microsecond), Topic: "just_before"}}})
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "c", At: t0,
		Templates: []bot.SentTemplate{{At: t0, Topic: "someone_else"}}})
	got := load(t, s, acme, phone, since).RecentTemplates
	equal(t, "recent templates, oldest first", got, []bot.SentTemplate{
		{At: since, Topic: "edge"}, {At: t0.Add(-time.Hour), Topic: "promotions"}, {At: t0, Topic: "order_updates"}})
	equal(t, "no templates after the last", load(t, s, acme, phone, t0.Add(time.Microsecond)).RecentTemplates, []bot.SentTemplate(nil))
}

func testOutbox(t *testing.T, s Store) {
	ev := event("in:wamid.o1:0", acme, phone, "order_updates", bot.OptedIn, t0)
	turn1 := []bot.Effect{
		{ID: "in:wamid.o1:1", Kind: bot.EffectConsent, Business: acme, Customer: phone, InReplyTo: "wamid.o1", Consent: &ev},
		messageEffect("in:wamid.o1:2", acme, phone),
	}
	turn2 := []bot.Effect{
		{ID: "send:r1:0", Kind: bot.EffectRefused, Business: acme, Customer: userID, Sender: "+15550001111", RequestID: "r1",
			Refusal: &bot.Refusal{Kind: bot.KindTemplate, Reason: bot.ReasonFrequencyCap, Template: "promo_spring", Topic: "promotions"}},
		{ID: "send:r1:1", Kind: bot.EffectMessage, Business: acme, Customer: userID, Sender: "+15550001111", RequestID: "r1",
			Message: &bot.Message{Kind: bot.KindTemplate, Template: "order_shipped", Language: "en_US",
				Topic: "order_updates", Category: flows.CategoryUtility}},
	}
	// An effect may share its id with a consent event: they are different records.
	ev3 := event("in:wamid.o3:0", globex, phone, "order_updates", bot.OptedIn, t0)
	turn3 := []bot.Effect{messageEffect("in:wamid.o3:0", globex, phone)}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.o1", Consent: []bot.ConsentEvent{ev}, Effects: turn1, At: t0})
	commit(t, s, bot.Turn{Business: acme, Customer: userID, DedupID: "send:r1", Effects: turn2, At: t0})
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "wamid.o3", Consent: []bot.ConsentEvent{ev3}, Effects: turn3, At: t0})
	all := append(append(append([]bot.Effect(nil), turn1...), turn2...), turn3...)

	equal(t, "pending effects, oldest first", pending(t, s, 100), all)
	equal(t, "limit 3", pending(t, s, 3), all[:3])
	equal(t, "limit 1", pending(t, s, 1), all[:1])
	if _, err := s.PendingEffects(t.Context(), 0); err == nil {
		t.Errorf("PendingEffects(0) did not fail; limit < 1 is an error")
	}

	if err := s.MarkPublished(t.Context(), []string{all[0].ID, all[2].ID, "no-such-effect"}); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	equal(t, "pending after MarkPublished", pending(t, s, 100), []bot.Effect{all[1], all[3], all[4]})
	if err := s.MarkPublished(t.Context(), []string{all[0].ID}); err != nil {
		t.Errorf("MarkPublished of an already published id: %v", err)
	}
	if err := s.MarkPublished(t.Context(), nil); err != nil {
		t.Errorf("MarkPublished(nil): %v", err)
	}
	if err := s.MarkPublished(t.Context(), effectIDs(all)); err != nil {
		t.Fatalf("MarkPublished(all): %v", err)
	}
	equal(t, "pending after publishing all", pending(t, s, 100), []bot.Effect(nil))

	// Many ids at once (more than one SQL statement's worth of placeholders is fine).
	var many []bot.Effect
	for i := range 1200 {
		many = append(many, bot.Effect{ID: fmt.Sprintf("bulk:%d", i), Kind: bot.EffectMessage, Business: acme, Customer: phone,
			Message: &bot.Message{Kind: bot.KindText, Text: "x"}})
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "bulk", Effects: many, At: t0})
	got := pending(t, s, 2000)
	equal(t, "bulk pending ids", effectIDs(got), effectIDs(many))
	if err := s.MarkPublished(t.Context(), effectIDs(many[:1100])); err != nil {
		t.Fatalf("MarkPublished(1100 ids): %v", err)
	}
	equal(t, "bulk pending after marking 1100", effectIDs(pending(t, s, 2000)), effectIDs(many[1100:]))
}

func testPrune(t *testing.T, s Store) {
	now := t0
	ages := map[string]time.Duration{"old1": 10 * 24 * time.Hour, "old2": 8 * 24 * time.Hour,
		"edge": 7 * 24 * time.Hour, "new1": 24 * time.Hour, "new2": 0}
	for id, age := range ages {
		commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: id, At: now.Add(-age)})
	}
	n, err := s.PruneProcessed(t.Context(), now.Add(-7*24*time.Hour))
	if err != nil {
		t.Fatalf("PruneProcessed: %v", err)
	}
	if n != 2 {
		t.Errorf("PruneProcessed removed %d ids, want 2", n)
	}
	for id := range ages {
		want := !strings.HasPrefix(id, "old")
		if got := processed(t, s, acme, id); got != want {
			t.Errorf("after prune Processed(%q) = %v, want %v", id, got, want)
		}
	}
	// A pruned id is forgotten: the input would be processed again.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "old1", At: now})
	if n, err := s.PruneProcessed(t.Context(), now.Add(-7*24*time.Hour)); err != nil || n != 0 {
		t.Errorf("second PruneProcessed = %d, %v; want 0, nil", n, err)
	}
	// A turn without At is marked at the store's clock, so it is kept.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "no-at"})
	if _, err := s.PruneProcessed(t.Context(), time.Now().Add(-time.Hour)); err != nil {
		t.Fatalf("PruneProcessed: %v", err)
	}
	if !processed(t, s, acme, "no-at") {
		t.Errorf("turn without At was pruned as if it were old")
	}
}

func testPrunePublished(t *testing.T, s Store) {
	prune := func(what string, before time.Time, want int64) {
		t.Helper()
		n, err := s.PrunePublished(t.Context(), before)
		if err != nil {
			t.Fatalf("PrunePublished (%s): %v", what, err)
		}
		if n != want {
			t.Errorf("PrunePublished (%s) removed %d effects, want %d", what, n, want)
		}
	}
	// A pending effect committed a year ago is still pending.
	old := messageEffect("in:wamid.p0:0", acme, phone)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.p0", At: t0.Add(-365 * 24 * time.Hour),
		Effects: []bot.Effect{old}})
	fx := []bot.Effect{messageEffect("in:wamid.p1:0", acme, phone), messageEffect("in:wamid.p1:1", acme, phone),
		messageEffect("in:wamid.p1:2", acme, phone)}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.p1", At: t0, Effects: fx})
	prune("nothing published", time.Now().Add(time.Hour), 0)
	equal(t, "pending with nothing published", effectIDs(pending(t, s, 100)), effectIDs(append([]bot.Effect{old}, fx...)))

	if err := s.MarkPublished(t.Context(), effectIDs(fx[:2])); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	time.Sleep(2 * time.Millisecond)
	cut := time.Now()
	time.Sleep(2 * time.Millisecond)
	// Marking an effect again does not make it more recently published.
	if err := s.MarkPublished(t.Context(), effectIDs(fx)); err != nil {
		t.Fatalf("MarkPublished: %v", err)
	}
	prune("published before the cut", cut, 2)
	prune("again", cut, 0)
	equal(t, "pending after pruning", effectIDs(pending(t, s, 100)), []string{old.ID})
	prune("everything published", time.Now().Add(time.Hour), 1)
	equal(t, "pending after pruning everything", effectIDs(pending(t, s, 100)), []string{old.ID})

	// A pruned effect's id is forgotten, like a pruned input id.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.p2", At: t0, Effects: fx[:1]})
	equal(t, "pending after reusing a pruned id", effectIDs(pending(t, s, 100)), []string{old.ID, fx[0].ID})

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.PrunePublished(ctx, time.Now().Add(time.Hour)); err == nil {
		t.Errorf("PrunePublished with a canceled context succeeded")
	}
}

func testPruneDeliveries(t *testing.T, s Store) {
	now := t0
	day := 24 * time.Hour
	rec := func(id string, age time.Duration) bot.DeliveryRecord {
		return bot.DeliveryRecord{MessageID: id, Status: "delivered", At: now.Add(-age)}
	}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "st:1", At: now, Deliveries: []bot.DeliveryRecord{
		rec("old1", 10*day), rec("old2", 8*day), rec("edge", 7*day), rec("new1", day), rec("new2", 0),
		rec("renewed", 9*day), rec("regressed", day)}})
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "st:1", At: now, Deliveries: []bot.DeliveryRecord{
		rec("old1", 10*day), rec("new1", day)}})
	// Age is the latest record's At, whatever the commit order.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "st:2", At: now, Deliveries: []bot.DeliveryRecord{
		rec("renewed", 2*day), rec("regressed", 30*day)}})

	// `before` counts to the microsecond, like every stored time: a record
	// at exactly 7 days is not before 7 days and 500ns.
	n, err := s.PruneDeliveries(t.Context(), now.Add(-7*day+500*time.Nanosecond))
	if err != nil {
		t.Fatalf("PruneDeliveries: %v", err)
	}
	if n != 4 {
		t.Errorf("PruneDeliveries removed %d statuses, want 4", n)
	}
	for b, want := range map[bot.BusinessID]map[string]string{
		acme: {"old1": "", "old2": "", "edge": "delivered", "new1": "delivered", "new2": "delivered",
			"renewed": "delivered", "regressed": ""},
		globex: {"old1": "", "new1": "delivered"},
	} {
		for id, st := range want {
			if got := messageStatus(t, s, b, id); got != st {
				t.Errorf("after prune MessageStatus(%s, %q) = %q, want %q", b, id, got, st)
			}
		}
	}
	if n, err := s.PruneDeliveries(t.Context(), now.Add(-7*day)); err != nil || n != 0 {
		t.Errorf("second PruneDeliveries = %d, %v; want 0, nil", n, err)
	}
	// A pruned message's next status is recorded afresh.
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "st:3", At: now, Deliveries: []bot.DeliveryRecord{
		{MessageID: "old1", Status: "read", At: now}}})
	if got := messageStatus(t, s, acme, "old1"); got != "read" {
		t.Errorf("MessageStatus of a pruned message after a new record = %q, want \"read\"", got)
	}
	if n, err := s.PruneDeliveries(t.Context(), now.Add(time.Hour)); err != nil || n != 6 {
		t.Errorf("PruneDeliveries of everything = %d, %v; want 6, nil", n, err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.PruneDeliveries(ctx, now); err == nil {
		t.Errorf("PruneDeliveries with a canceled context succeeded")
	}
}

func testFlowSource(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.FlowSource(ctx, "retail", "v1"); !errors.Is(err, bot.ErrNotFound) {
		t.Fatalf("FlowSource of unknown version: err = %v, want ErrNotFound", err)
	}
	src := []byte("name: retail\nstates:\n  start: {say: \"Hi 👋\"}\n\x00binary-safe\xff")
	if err := s.SaveFlowSource(ctx, "retail", "v1", src); err != nil {
		t.Fatalf("SaveFlowSource: %v", err)
	}
	if err := s.SaveFlowSource(ctx, "retail", "v1", src); err != nil {
		t.Fatalf("SaveFlowSource again: %v", err)
	}
	if err := s.SaveFlowSource(ctx, "retail", "v2", []byte("v2")); err != nil {
		t.Fatalf("SaveFlowSource v2: %v", err)
	}
	want := append([]byte(nil), src...)
	src[0] = 'X' // the store must have copied it
	got, err := s.FlowSource(ctx, "retail", "v1")
	if err != nil {
		t.Fatalf("FlowSource: %v", err)
	}
	equal(t, "flow source v1", got, want)
	got[1] = 'Y'
	got, _ = s.FlowSource(ctx, "retail", "v1")
	equal(t, "flow source v1 after mutating a returned copy", got, want)
	got, _ = s.FlowSource(ctx, "retail", "v2")
	equal(t, "flow source v2", got, []byte("v2"))
	if _, err := s.FlowSource(ctx, "other", "v1"); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("FlowSource of another flow's version: err = %v, want ErrNotFound", err)
	}
}

func testAtomic(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	first := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.a1", At: t0,
		Conversation: conversation("ask", t0),
		Consent:      []bot.ConsentEvent{event("ev-1", acme, phone, "order_updates", bot.OptedIn, t0)},
		Templates:    []bot.SentTemplate{{At: t0, Topic: "order_updates"}},
		Effects:      []bot.Effect{messageEffect("fx-1", acme, phone)},
	}
	commit(t, s, first)
	wantSession := load(t, s, acme, phone, since)

	later := t0.Add(time.Minute)
	bad := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.a2", At: later,
		Conversation: conversation("done", later),
		Consent: []bot.ConsentEvent{
			event("ev-2", acme, phone, "promotions", bot.OptedIn, later),
			event("ev-1", acme, phone, "order_updates", bot.OptedOut, later), // id already in the ledger
		},
		Templates: []bot.SentTemplate{{At: later, Topic: "promotions"}},
		Effects:   []bot.Effect{messageEffect("fx-2", acme, phone)},
	}
	check := func(what string) {
		t.Helper()
		equal(t, what+": session", load(t, s, acme, phone, since), wantSession)
		equal(t, what+": ledger", ledger(t, s, acme, phone), first.Consent)
		equal(t, what+": outbox", pending(t, s, 100), first.Effects)
		if processed(t, s, acme, bad.DedupID) {
			t.Errorf("%s: the failed turn's DedupID was marked processed", what)
		}
	}
	err := s.Commit(t.Context(), bad)
	if err == nil {
		t.Fatalf("Commit with a consent event id already in the ledger succeeded")
	}
	if errors.Is(err, bot.ErrDuplicate) {
		t.Errorf("a clashing consent event id reported as ErrDuplicate (a redelivery): %v", err)
	}
	check("after a clashing consent event id")

	// A clashing effect id fails the turn the same way.
	bad.Consent = bad.Consent[:1]
	bad.Effects = []bot.Effect{messageEffect("fx-2", acme, phone), messageEffect("fx-1", acme, phone)}
	if err := s.Commit(t.Context(), bad); err == nil || errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("Commit with an effect id already in the outbox: err = %v, want a non-duplicate error", err)
	}
	check("after a clashing effect id")

	// Ids clashing within one turn fail too.
	bad.Effects = bad.Effects[:1]
	bad.Consent = []bot.ConsentEvent{bad.Consent[0], bad.Consent[0]}
	if err := s.Commit(t.Context(), bad); err == nil {
		t.Fatalf("Commit with the same consent event id twice succeeded")
	}
	check("after an id repeated within the turn")

	// The input was not consumed: fixed, it commits.
	bad.Consent = bad.Consent[:1]
	commit(t, s, bad)
	if got := ledger(t, s, acme, phone); len(got) != 2 {
		t.Errorf("ledger after the fixed turn has %d events, want 2", len(got))
	}
}

func testConcurrentCommits(t *testing.T, s Store) {
	const workers, customers, turns = 8, 5, 3
	var wg sync.WaitGroup
	errs := make(chan error, workers*customers*turns)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range customers {
				cust := bot.CustomerID(fmt.Sprintf("+1415555%02d%02d", w, c))
				for n := range turns {
					at := t0.Add(time.Duration(n) * time.Second)
					id := fmt.Sprintf("%s:%d", cust, n)
					turn := bot.Turn{Business: acme, Customer: cust, DedupID: "wamid." + id, At: at,
						Conversation: conversation(flows.StateName(fmt.Sprintf("s%d", n)), at),
						Consent:      []bot.ConsentEvent{event("ev:"+id, acme, cust, "order_updates", bot.OptedIn, at)},
						Templates:    []bot.SentTemplate{{At: at, Topic: "order_updates"}},
						Effects:      []bot.Effect{messageEffect("fx:"+id, acme, cust)},
					}
					if _, err := s.LoadSession(t.Context(), acme, cust, t0); err != nil {
						errs <- err
					}
					if err := s.Commit(t.Context(), turn); err != nil {
						errs <- err
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Commit: %v", err)
	}
	for w := range workers {
		for c := range customers {
			cust := bot.CustomerID(fmt.Sprintf("+1415555%02d%02d", w, c))
			sess := load(t, s, acme, cust, t0)
			if sess.Conversation.State != flows.StateName(fmt.Sprintf("s%d", turns-1)) || len(sess.RecentTemplates) != turns {
				t.Errorf("%s: state %q with %d templates, want s%d with %d", cust, sess.Conversation.State,
					len(sess.RecentTemplates), turns-1, turns)
			}
			if n := len(ledger(t, s, acme, cust)); n != turns {
				t.Errorf("%s: %d consent events, want %d", cust, n, turns)
			}
		}
	}
	if n := len(pending(t, s, 1000)); n != workers*customers*turns {
		t.Errorf("outbox has %d effects, want %d", n, workers*customers*turns)
	}
}

func testConcurrentDuplicates(t *testing.T, s Store) {
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cust := bot.CustomerID(fmt.Sprintf("+1415555010%d", i))
			results <- s.Commit(t.Context(), bot.Turn{Business: acme, Customer: cust, DedupID: "wamid.same", At: t0,
				Conversation: conversation("ask", t0),
				Consent:      []bot.ConsentEvent{event(fmt.Sprintf("ev-%d", i), acme, cust, "order_updates", bot.OptedIn, t0)},
				Effects:      []bot.Effect{messageEffect(fmt.Sprintf("fx-%d", i), acme, cust)}})
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, bot.ErrDuplicate):
			t.Errorf("concurrent duplicate Commit: %v, want nil or ErrDuplicate", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent Commits of one DedupID succeeded, want 1", ok, n)
	}
	if got := len(pending(t, s, 100)); got != 1 {
		t.Errorf("outbox has %d effects, want 1", got)
	}
}

func testNoAliasing(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	ev := event("ev-1", acme, phone, "order_updates", bot.OptedIn, t0)
	conv := conversation("stopped", t0)
	conv.Stop = &bot.StopRecord{At: t0, Restorable: []flows.Topic{"order_updates", "promotions"}, Prompt: "bye"}
	turn := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.1", At: t0, Conversation: conv,
		Consent:   []bot.ConsentEvent{ev},
		Templates: []bot.SentTemplate{{At: t0, Topic: "order_updates"}},
		Effects:   []bot.Effect{messageEffect("fx-1", acme, phone), {ID: "fx-2", Kind: bot.EffectConsent, Business: acme, Customer: phone, Consent: &ev}},
	}
	commit(t, s, turn)
	// Expectations built independently of anything the store handed out.
	wantConv := conversation("stopped", t0)
	wantConv.Stop = &bot.StopRecord{At: t0, Restorable: []flows.Topic{"order_updates", "promotions"}, Prompt: "bye"}
	want := bot.Session{Business: acme, Customer: phone, Conversation: wantConv,
		Consent:         map[flows.Topic]bot.ConsentStatus{"order_updates": bot.OptedIn},
		Latest:          map[flows.Topic]bot.LatestConsent{"order_updates": {Status: bot.OptedIn, Source: bot.SourceInChannel, At: t0}},
		RecentTemplates: []bot.SentTemplate{{At: t0, Topic: "order_updates"}}}
	wantEv := event("ev-1", acme, phone, "order_updates", bot.OptedIn, t0)
	wantLedger := []bot.ConsentEvent{wantEv}
	wantOutbox := []bot.Effect{messageEffect("fx-1", acme, phone),
		{ID: "fx-2", Kind: bot.EffectConsent, Business: acme, Customer: phone, Consent: &wantEv}}
	equal(t, "session", load(t, s, acme, phone, since), want)

	// Mutate everything the caller handed in…
	turn.Conversation.Stop.Restorable[0] = "mutated"
	turn.Conversation.Stop.Prompt = "mutated"
	turn.Consent[0].Status = bot.OptedOut
	turn.Templates[0].Topic = "mutated"
	turn.Effects[0].Message.Buttons[0].Title = "mutated"
	turn.Effects[0].Message.Text = "mutated"
	turn.Effects[1].Consent.Topic = "mutated"
	// …and everything handed out.
	got := load(t, s, acme, phone, since)
	got.Conversation.Stop.Restorable[1] = "mutated"
	got.Conversation.Stop.At = time.Time{}
	got.Consent["order_updates"] = bot.OptedOut
	got.Consent["new"] = bot.OptedIn
	got.RecentTemplates[0].Topic = "mutated"
	l := ledger(t, s, acme, phone)
	l[0].Prompt = "mutated"
	o := pending(t, s, 10)
	o[0].Message.Buttons[1].ID = "mutated"
	o[1].Consent.Status = bot.OptedOut

	equal(t, "session after mutating inputs and outputs", load(t, s, acme, phone, since), want)
	equal(t, "ledger after mutating inputs and outputs", ledger(t, s, acme, phone), wantLedger)
	equal(t, "outbox after mutating inputs and outputs", pending(t, s, 10), wantOutbox)
}

func testCanceledContext(t *testing.T, s Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	turn := bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.c", At: t0, Conversation: conversation("ask", t0),
		Consent: []bot.ConsentEvent{event("ev-c", acme, phone, "order_updates", bot.OptedIn, t0)}}
	if err := s.Commit(ctx, turn); err == nil {
		t.Errorf("Commit with a canceled context succeeded")
	}
	if _, err := s.LoadSession(ctx, acme, phone, t0); err == nil {
		t.Errorf("LoadSession with a canceled context succeeded")
	}
	equal(t, "session after canceled Commit", load(t, s, acme, phone, t0), bot.Session{Business: acme, Customer: phone})
	if processed(t, s, acme, "wamid.c") {
		t.Errorf("canceled Commit marked its input processed")
	}
}

// The conversation's variables and its human-agent handoff round-trip;
// none stays none, and the store shares no map with its callers.
func testVarsAndHandoff(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	conv := bot.Conversation{FlowName: "clinic", FlowVersion: "v1", State: "ask",
		Vars: map[string]string{"name": "Ana «ü» ☎️", "language": "es", "empty": ""}, Handoff: "front-desk"}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.vars1", Conversation: conv, At: t0})
	want := conv
	want.Vars = map[string]string{"name": "Ana «ü» ☎️", "language": "es", "empty": ""}
	conv.Vars["name"] = "mutated"
	got := load(t, s, acme, phone, since).Conversation
	equal(t, "conversation with vars and handoff", got, want)
	got.Vars["language"] = "mutated"
	equal(t, "vars after mutating the loaded map", load(t, s, acme, phone, since).Conversation, want)

	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.vars2",
		Conversation: bot.Conversation{FlowName: "clinic", FlowVersion: "v1", Vars: map[string]string{}}, At: t0})
	equal(t, "cleared vars and handoff", load(t, s, acme, phone, since).Conversation,
		bot.Conversation{FlowName: "clinic", FlowVersion: "v1"})
}
