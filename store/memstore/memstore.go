package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Store is an in-memory bot.Store. The zero value is not usable; call New.
type Store struct {
	mu sync.RWMutex

	conversations map[customerKey]bot.Conversation
	ledger        map[customerKey][]bot.ConsentEvent // commit order
	entries       []bot.LedgerEntry                  // the whole ledger, commit order
	heads         map[bot.BusinessID]string          // last hash of each business's chain
	eventIDs      map[string]struct{}
	templates     map[customerKey][]bot.SentTemplate // commit order
	processed     map[processedKey]time.Time
	outbox        []outboxEntry        // pending effects, commit order
	effectIDs     map[string]time.Time // every effect in the outbox: when it was published, zero while pending
	flowSources   map[flowKey][]byte
	deliveries    map[messageKey]bot.DeliveryRecord // latest committed record
	noOutbox      bool                              // WithoutOutbox
	deliveredTo   map[messageKey]bot.CustomerID     // whose message each record is about
	suppressions  map[suppressionKey]suppression
	asks          []bot.PromptAsk // commit order
	secretKey     []byte          // the generated suppression key, once asked for

	ver verifications
}

type suppressionKey struct {
	business bot.BusinessID
	hash     string
}

type suppression struct {
	at, lifted time.Time // lifted zero: in force
}

type customerKey struct {
	business bot.BusinessID
	customer bot.CustomerID
}

type processedKey struct {
	business bot.BusinessID
	dedupID  string
}

type flowKey struct{ name, version string }

type messageKey struct {
	business  bot.BusinessID
	messageID string
}

type outboxEntry struct {
	id     string
	effect []byte // JSON of bot.Effect
}

// Option changes how a Store behaves.
type Option func(*Store)

// WithoutOutbox makes Commit drop a turn's effects instead of queueing them
// in the outbox. It is for callers that deliver the effects the service
// returns themselves (simulate, chat, flowtests): there, an outbox nobody
// relays only grows with every line, and encoding it is a third of a
// simulated step.
func WithoutOutbox() Option { return func(s *Store) { s.noOutbox = true } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		conversations: map[customerKey]bot.Conversation{},
		ledger:        map[customerKey][]bot.ConsentEvent{},
		heads:         map[bot.BusinessID]string{},
		eventIDs:      map[string]struct{}{},
		templates:     map[customerKey][]bot.SentTemplate{},
		processed:     map[processedKey]time.Time{},
		effectIDs:     map[string]time.Time{},
		flowSources:   map[flowKey][]byte{},
		deliveries:    map[messageKey]bot.DeliveryRecord{},
		deliveredTo:   map[messageKey]bot.CustomerID{},
		suppressions:  map[suppressionKey]suppression{},
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// norm is how every stored time is kept: UTC, to the microsecond.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func copyConversation(c bot.Conversation) bot.Conversation {
	c.LastInboundAt = norm(c.LastInboundAt)
	c.WindowClosedAt = norm(c.WindowClosedAt)
	c.HeldSince = norm(c.HeldSince)
	c.PromptExpires = norm(c.PromptExpires)
	if c.Stop != nil {
		stop := *c.Stop
		stop.At = norm(stop.At)
		stop.Restorable = slices.Clone(stop.Restorable)
		c.Stop = &stop
	}
	if c.StopAsked != nil {
		q := *c.StopAsked
		q.At = norm(q.At)
		c.StopAsked = &q
	}
	if len(c.Vars) == 0 {
		c.Vars = nil
	} else {
		c.Vars = maps.Clone(c.Vars)
	}
	if len(c.Timers) == 0 {
		c.Timers = nil // none is none, however it was handed in
	} else {
		c.Timers = slices.Clone(c.Timers)
		for i := range c.Timers {
			c.Timers[i].Due = norm(c.Timers[i].Due)
			if h := c.Timers[i].Handoff; h != nil {
				hold := *h // a handoff's timeout is shared with no caller
				c.Timers[i].Handoff = &hold
			}
		}
	}
	return c
}

// LoadSession implements bot.Store.
func (s *Store) LoadSession(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, since time.Time) (bot.Session, error) {
	if err := ctx.Err(); err != nil {
		return bot.Session{}, fmt.Errorf("load session of %s/%s: %w", business, customer.Redacted(), err)
	}
	key := customerKey{business, customer}
	sess := bot.Session{Business: business, Customer: customer}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if c, ok := s.conversations[key]; ok {
		sess.Conversation = copyConversation(c)
	}
	for _, ev := range s.ledger[key] {
		if !ev.Status.Grants() {
			continue
		}
		if sess.Consent == nil {
			sess.Consent = map[flows.Topic]bot.ConsentStatus{}
			sess.Latest = map[flows.Topic]bot.LatestConsent{}
		}
		sess.Consent[ev.Topic] = ev.Status
		sess.Latest[ev.Topic] = bot.LatestConsent{Status: ev.Status, Source: ev.Source, At: ev.At}
	}
	for _, tpl := range s.templates[key] {
		if !tpl.At.Before(since) {
			sess.RecentTemplates = append(sess.RecentTemplates, tpl)
		}
	}
	slices.SortStableFunc(sess.RecentTemplates, func(a, b bot.SentTemplate) int { return a.At.Compare(b.At) })
	return sess, nil
}

// Processed implements bot.Store.
func (s *Store) Processed(ctx context.Context, business bot.BusinessID, dedupID string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("check processed %s for %s: %w", dedupID, business, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.processed[processedKey{business, dedupID}]
	return ok, nil
}

// Commit implements bot.Store. It checks everything that can fail before it
// changes anything, so a failed Commit stores nothing.
func (s *Store) Commit(ctx context.Context, turn bot.Turn) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("commit turn %q of %s/%s: %w", turn.DedupID, turn.Business, turn.Customer.Redacted(),
			fmt.Errorf(format, args...))
	}
	if err := ctx.Err(); err != nil {
		return fail("%w", err)
	}
	// Encode and copy outside the lock.
	var effects []outboxEntry
	if !s.noOutbox {
		effects = make([]outboxEntry, len(turn.Effects))
	}
	for i, e := range turn.Effects[:len(effects)] {
		data, err := json.Marshal(e)
		if err != nil {
			return fail("encode effect %s: %w", e.ID, err)
		}
		effects[i] = outboxEntry{id: e.ID, effect: data}
	}
	events := slices.Clone(turn.Consent)
	for i := range events {
		events[i].At = norm(events[i].At)
		if !events[i].ProviderAt.IsZero() {
			events[i].ProviderAt = norm(events[i].ProviderAt)
		}
	}
	templates := slices.Clone(turn.Templates)
	for i := range templates {
		templates[i].At = norm(templates[i].At)
	}
	deliveries := slices.Clone(turn.Deliveries)
	for i := range deliveries {
		deliveries[i].At = norm(deliveries[i].At)
	}
	asks := slices.Clone(turn.Asks)
	for i := range asks {
		asks[i].Business, asks[i].Customer, asks[i].At = turn.Business, turn.Customer, norm(asks[i].At)
	}
	conv := copyConversation(turn.Conversation)
	at := turn.At
	if at.IsZero() {
		at = time.Now()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	pkey := processedKey{turn.Business, turn.DedupID}
	if turn.DedupID != "" {
		if _, dup := s.processed[pkey]; dup {
			return fmt.Errorf("commit turn for %s: %w", turn.DedupID, bot.ErrDuplicate)
		}
	}
	seen := map[string]struct{}{}
	for _, tm := range conv.Timers {
		if _, clash := seen[tm.ID]; clash {
			return fail("timer id %q appears twice in the conversation", tm.ID)
		}
		seen[tm.ID] = struct{}{}
	}
	clear(seen)
	for _, ev := range events {
		if _, clash := s.eventIDs[ev.ID]; clash {
			return fail("consent event id %q is already in the ledger", ev.ID)
		}
		if _, clash := seen[ev.ID]; clash {
			return fail("consent event id %q appears twice in the turn", ev.ID)
		}
		seen[ev.ID] = struct{}{}
	}
	clear(seen)
	for _, e := range effects {
		if _, clash := s.effectIDs[e.id]; clash {
			return fail("effect id %q is already in the outbox", e.id)
		}
		if _, clash := seen[e.id]; clash {
			return fail("effect id %q appears twice in the turn", e.id)
		}
		seen[e.id] = struct{}{}
	}

	if turn.DedupID != "" {
		s.processed[pkey] = norm(at)
	}
	key := customerKey{turn.Business, turn.Customer}
	s.conversations[key] = conv
	for _, ev := range events {
		// The ledger row is the event's own business and customer, as in SQL.
		evKey := customerKey{ev.Business, ev.Customer}
		ev.Seal(s.heads[ev.Business], bot.NewPIISalt())
		s.heads[ev.Business] = ev.Hash
		s.ledger[evKey] = append(s.ledger[evKey], ev)
		s.entries = append(s.entries, bot.LedgerEntry{Seq: int64(len(s.entries) + 1), Event: ev})
		s.eventIDs[ev.ID] = struct{}{}
	}
	if len(templates) > 0 {
		s.templates[key] = append(s.templates[key], templates...)
	}
	s.asks = append(s.asks, asks...)
	for _, d := range deliveries { // a later record of the same message wins
		s.deliveries[messageKey{turn.Business, d.MessageID}] = d
		s.deliveredTo[messageKey{turn.Business, d.MessageID}] = turn.Customer
	}
	if turn.Unsuppress != "" {
		k := suppressionKey{turn.Business, turn.Unsuppress}
		if sup, ok := s.suppressions[k]; ok && sup.lifted.IsZero() {
			sup.lifted = norm(at)
			s.suppressions[k] = sup
		}
	}
	for _, e := range effects {
		s.outbox = append(s.outbox, e)
		s.effectIDs[e.id] = time.Time{}
	}
	return nil
}

// SaveFlowSource implements bot.Store.
func (s *Store) SaveFlowSource(ctx context.Context, name, version string, source []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save flow source %s@%s: %w", name, version, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := flowKey{name, version}
	if _, ok := s.flowSources[key]; !ok {
		s.flowSources[key] = append([]byte{}, source...)
	}
	return nil
}

// FlowSource implements bot.Store.
func (s *Store) FlowSource(ctx context.Context, name, version string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load flow source %s@%s: %w", name, version, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	src, ok := s.flowSources[flowKey{name, version}]
	if !ok {
		return nil, fmt.Errorf("load flow source %s@%s: %w", name, version, bot.ErrNotFound)
	}
	return append([]byte{}, src...), nil
}

// MessageStatus implements bot.Store.
func (s *Store) MessageStatus(ctx context.Context, business bot.BusinessID, messageID string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("message status of %s for %s: %w", messageID, business, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.deliveries[messageKey{business, messageID}].Status, nil
}

// DueTimers implements bot.Store: the timers of every conversation due
// before `before`, by due time (then business, customer and timer id), at
// most limit. limit < 1 is an error.
func (s *Store) DueTimers(ctx context.Context, before time.Time, limit int) ([]bot.DueTimer, error) {
	if limit < 1 {
		return nil, fmt.Errorf("timers due before %s: limit %d, want at least 1", before.UTC().Format(time.RFC3339Nano), limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("timers due before %s: %w", before.UTC().Format(time.RFC3339Nano), err)
	}
	before = norm(before)
	var due []bot.DueTimer
	s.mu.RLock()
	for key, c := range s.conversations {
		for _, tm := range c.Timers {
			if tm.Due.Before(before) {
				if tm.Handoff != nil {
					hold := *tm.Handoff
					tm.Handoff = &hold
				}
				due = append(due, bot.DueTimer{Business: key.business, Customer: key.customer, Timer: tm})
			}
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(due, func(a, b bot.DueTimer) int {
		if c := a.Timer.Due.Compare(b.Timer.Due); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Business), string(b.Business)); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Customer), string(b.Customer)); c != 0 {
			return c
		}
		return strings.Compare(a.Timer.ID, b.Timer.ID)
	})
	if len(due) > limit {
		due = slices.Clip(due[:limit])
	}
	return due, nil
}

// PendingEffects returns up to limit effects not yet marked published,
// oldest commit first. limit < 1 is an error.
func (s *Store) PendingEffects(ctx context.Context, limit int) ([]bot.Effect, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending effects: limit %d, want at least 1", limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("pending effects: %w", err)
	}
	s.mu.RLock()
	entries := slices.Clone(s.outbox[:min(limit, len(s.outbox))])
	s.mu.RUnlock()
	var effects []bot.Effect
	for _, e := range entries {
		var eff bot.Effect
		if err := json.Unmarshal(e.effect, &eff); err != nil {
			return nil, fmt.Errorf("pending effects: decode effect %s: %w", e.id, err)
		}
		effects = append(effects, eff)
	}
	return effects, nil
}

// MarkPublished removes effects from the pending ones. Unknown or already
// published ids are ignored.
func (s *Store) MarkPublished(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mark %d effects published: %w", len(ids), err)
	}
	if len(ids) == 0 {
		return nil
	}
	done := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		done[id] = struct{}{}
	}
	now := norm(time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outbox = slices.DeleteFunc(s.outbox, func(e outboxEntry) bool {
		_, ok := done[e.id]
		if ok {
			s.effectIDs[e.id] = now
		}
		return ok
	})
	return nil
}

// ConsentEvents returns a customer's whole consent ledger in commit order.
func (s *Store) ConsentEvents(ctx context.Context, business bot.BusinessID, customer bot.CustomerID) ([]bot.ConsentEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("consent events of %s/%s: %w", business, customer.Redacted(), err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.ledger[customerKey{business, customer}]), nil
}

// Ledger returns up to limit entries of the whole ledger, every business,
// in commit order, starting after seq `after` (0 for the start).
func (s *Store) Ledger(ctx context.Context, after int64, limit int) ([]bot.LedgerEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read ledger after %d: %w", after, err)
	}
	if limit < 1 {
		return nil, fmt.Errorf("read ledger after %d: limit %d, want at least 1", after, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := min(max(after, 0), int64(len(s.entries))) // seq n is entries[n-1]
	end := min(start+int64(limit), int64(len(s.entries)))
	return slices.Clone(s.entries[start:end]), nil
}

// LedgerHeads returns the last hash of every business's chain.
func (s *Store) LedgerHeads(ctx context.Context) (map[bot.BusinessID]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read ledger heads: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return maps.Clone(s.heads), nil
}

// PruneProcessed forgets processed input ids whose turn's At is before
// `before`, and reports how many it removed.
func (s *Store) PruneProcessed(ctx context.Context, before time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("prune processed inputs: %w", err)
	}
	before = norm(before)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.processed)
	maps.DeleteFunc(s.processed, func(_ processedKey, at time.Time) bool { return at.Before(before) })
	return int64(n - len(s.processed)), nil
}

// PrunePublished forgets the effects published before `before`, so that
// their ids are free again, and reports how many it removed. Pending effects
// are kept, however old.
func (s *Store) PrunePublished(ctx context.Context, before time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("prune published effects: %w", err)
	}
	before = norm(before)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.effectIDs)
	maps.DeleteFunc(s.effectIDs, func(_ string, published time.Time) bool {
		return !published.IsZero() && published.Before(before)
	})
	return int64(n - len(s.effectIDs)), nil
}

// PruneDeliveries forgets the message statuses whose record's At is before
// `before`, and reports how many it removed.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("prune message statuses: %w", err)
	}
	before = norm(before)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.deliveries)
	maps.DeleteFunc(s.deliveries, func(k messageKey, d bot.DeliveryRecord) bool {
		if d.At.Before(before) {
			delete(s.deliveredTo, k)
			return true
		}
		return false
	})
	return int64(n - len(s.deliveries)), nil
}
