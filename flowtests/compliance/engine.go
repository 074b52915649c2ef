package compliance

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flowtests"
)

// Customer is the customer every explored conversation is with.
const Customer bot.CustomerID = "+14155550100"

// engine is one flow's business on a real bot.Service over a store it owns,
// with a clock it moves itself: flowtests.Simulator's harness, which that
// package keeps unexported. Every input goes through Service exactly as in
// production (redelivery check, session load, commit).
type engine struct {
	svc      *bot.Service
	biz      *bot.Business
	store    bot.Store
	business bot.BusinessID
	now      time.Time
}

func newEngine(ctx context.Context, f *flows.Flow, src []byte, store bot.Store) (*engine, error) {
	e := &engine{store: store, business: flowtests.BusinessSlug(f), now: flowtests.SimulationStart}
	svc, err := bot.NewService(ctx, bot.ServiceConfig{
		Store:  store,
		Clock:  func() time.Time { return e.now },
		Logger: zerolog.Nop(),
	}, []bot.BusinessConfig{{ID: e.business, Flow: f, Source: src}})
	if err != nil {
		return nil, err
	}
	e.svc = svc
	e.biz, _ = svc.Business(e.business)
	return e, nil
}

// inbound delivers a customer's message, stamped with the current time
// unless it carries its own (a redelivery keeps the original's).
func (e *engine) inbound(ctx context.Context, in bot.Inbound) ([]bot.Effect, error) {
	in.Business, in.Customer = e.business, Customer
	if in.Timestamp.IsZero() {
		in.Timestamp = e.now
	}
	return e.svc.HandleInbound(ctx, in)
}

// advanceTo moves the clock to target, firing every flow timer due on the
// way at its own due time, like flowtests.Simulator.Advance: firing a timer
// (or dropping a stale one) removes it, so a timer that sends nothing does
// not stop the advance.
func (e *engine) advanceTo(ctx context.Context, target time.Time) ([]bot.Effect, error) {
	var effects []bot.Effect
	previous := ""
	for {
		due, err := e.store.DueTimers(ctx, target.Add(time.Microsecond), 1)
		if err != nil {
			return effects, err
		}
		if len(due) == 0 || due[0].Timer.ID == previous {
			break // none left, or one the engine did not remove: never loop on it
		}
		previous = due[0].Timer.ID
		if due[0].Timer.Due.After(e.now) {
			e.now = due[0].Timer.Due
		}
		fired, err := e.svc.HandleTimer(ctx, due[0])
		if err != nil {
			return effects, err
		}
		effects = append(effects, fired...)
	}
	if target.After(e.now) {
		e.now = target
	}
	return effects, nil
}

// sendTemplate asks to send a declared template to the customer.
func (e *engine) sendTemplate(ctx context.Context, id, template string) ([]bot.Effect, error) {
	return e.svc.HandleSendRequest(ctx, bot.SendRequest{ID: id, Business: e.business, Customer: Customer,
		Kind: bot.KindTemplate, Template: template})
}

func (e *engine) session(ctx context.Context) (bot.Session, error) {
	return e.store.LoadSession(ctx, e.business, Customer, e.now.Add(-bot.ServiceWindow))
}

// world is everything the store holds about the one customer of an
// explored conversation, in a form that is cheap to copy, so that the
// explorer branches a conversation instead of replaying it: consent is the
// latest status per topic (all the engine reads of the ledger), replaced
// rather than changed, and the processed ids a list that branches share.
type world struct {
	conv      bot.Conversation
	consent   map[flows.Topic]bot.ConsentStatus // never changed once set: Commit replaces it
	latest    map[flows.Topic]bot.LatestConsent // likewise
	templates []bot.SentTemplate
	processed *idList
	now       time.Time
}

// idList is an immutable list of processed input ids, newest first.
type idList struct {
	id   string
	next *idList
}

func (l *idList) contains(id string) bool {
	for ; l != nil; l = l.next {
		if l.id == id {
			return true
		}
	}
	return false
}

func (w *world) clone() *world {
	c := *w
	c.conv = copyConversation(w.conv)
	// Clipped, so an append by one branch never writes into another's.
	c.templates = slices.Clip(w.templates)
	return &c
}

func copyConversation(c bot.Conversation) bot.Conversation {
	if c.Stop != nil {
		stop := *c.Stop
		stop.Restorable = slices.Clone(stop.Restorable)
		c.Stop = &stop
	}
	if c.StopAsked != nil {
		q := *c.StopAsked
		c.StopAsked = &q
	}
	if len(c.Vars) == 0 {
		c.Vars = nil
	} else {
		c.Vars = maps.Clone(c.Vars)
	}
	if len(c.Timers) == 0 {
		c.Timers = nil
	} else {
		c.Timers = slices.Clone(c.Timers)
	}
	return c
}

// snapStore is a bot.Store for one business and one customer whose data is
// the world it currently points at. It keeps memstore's semantics for what
// the engine reads: consent is the latest event per topic, templates are
// those allowed since `since`, timers are the conversation's.
type snapStore struct {
	business bot.BusinessID
	cur      *world
	sources  map[string][]byte
}

func newSnapStore(business bot.BusinessID) *snapStore {
	return &snapStore{business: business, sources: map[string][]byte{}}
}

func (s *snapStore) LoadSession(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, since time.Time) (bot.Session, error) {
	sess := bot.Session{Business: business, Customer: customer}
	if customer != Customer {
		return sess, nil
	}
	w := s.cur
	sess.Conversation = copyConversation(w.conv)
	if len(w.consent) > 0 {
		sess.Consent = maps.Clone(w.consent)
		sess.Latest = maps.Clone(w.latest)
	}
	for _, t := range w.templates {
		if !t.At.Before(since) {
			sess.RecentTemplates = append(sess.RecentTemplates, t)
		}
	}
	return sess, nil
}

func (s *snapStore) Processed(ctx context.Context, business bot.BusinessID, dedupID string) (bool, error) {
	return s.cur.processed.contains(dedupID), nil
}

func (s *snapStore) Commit(ctx context.Context, turn bot.Turn) error {
	if turn.Customer != Customer {
		return fmt.Errorf("commit turn %q: customer %s is not the explored one", turn.DedupID, turn.Customer.Redacted())
	}
	w := s.cur
	if turn.DedupID != "" {
		if w.processed.contains(turn.DedupID) {
			return fmt.Errorf("commit turn for %s: %w", turn.DedupID, bot.ErrDuplicate)
		}
		w.processed = &idList{id: turn.DedupID, next: w.processed}
	}
	w.conv = copyConversation(turn.Conversation)
	if len(turn.Consent) > 0 {
		consent := make(map[flows.Topic]bot.ConsentStatus, len(w.consent)+len(turn.Consent))
		latest := make(map[flows.Topic]bot.LatestConsent, len(w.consent)+len(turn.Consent))
		maps.Copy(consent, w.consent)
		maps.Copy(latest, w.latest)
		for _, ev := range turn.Consent {
			consent[ev.Topic] = ev.Status
			latest[ev.Topic] = bot.LatestConsent{Status: ev.Status, Source: ev.Source, At: ev.At}
		}
		w.consent, w.latest = consent, latest
	}
	w.templates = append(w.templates, turn.Templates...)
	return nil
}

func (s *snapStore) SaveFlowSource(ctx context.Context, name, version string, source []byte) error {
	key := name + "@" + version
	if _, ok := s.sources[key]; !ok {
		s.sources[key] = slices.Clone(source)
	}
	return nil
}

func (s *snapStore) FlowSource(ctx context.Context, name, version string) ([]byte, error) {
	src, ok := s.sources[name+"@"+version]
	if !ok {
		return nil, fmt.Errorf("load flow source %s@%s: %w", name, version, bot.ErrNotFound)
	}
	return slices.Clone(src), nil
}

func (s *snapStore) MessageStatus(ctx context.Context, business bot.BusinessID, messageID string) (string, error) {
	return "", nil
}

func (s *snapStore) DueTimers(ctx context.Context, before time.Time, limit int) ([]bot.DueTimer, error) {
	if limit < 1 {
		return nil, fmt.Errorf("timers due before %s: limit %d, want at least 1", before.UTC().Format(time.RFC3339Nano), limit)
	}
	var due []bot.DueTimer
	for _, tm := range s.cur.conv.Timers {
		if tm.Due.Before(before) {
			due = append(due, bot.DueTimer{Business: s.business, Customer: Customer, Timer: tm})
		}
	}
	slices.SortFunc(due, func(a, b bot.DueTimer) int {
		if c := a.Timer.Due.Compare(b.Timer.Due); c != 0 {
			return c
		}
		return strings.Compare(a.Timer.ID, b.Timer.ID)
	})
	if len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}
