package memstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// EraseCustomer implements bot.CustomerEraser, as the SQL store does: the
// conversation, timers, counted templates, message statuses, processed-input
// ids and outbox rows of the customer go, their ledger events keep only
// what the chain needs, the erase's event is appended and, with
// e.Suppress, the hash goes on the suppression list.
func (s *Store) EraseCustomer(ctx context.Context, e bot.Erasure) error {
	fail := func(err error) error {
		return fmt.Errorf("erase customer %s of %s: %w", e.Customer.Redacted(), e.Business, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if e.Hash == "" {
		return fail(errors.New("the erasure has no customer hash"))
	}
	ev := e.Event
	ev.At = norm(ev.At)
	if !ev.ProviderAt.IsZero() {
		ev.ProviderAt = norm(ev.ProviderAt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, clash := s.eventIDs[ev.ID]; clash {
		return fail(fmt.Errorf("consent event id %q is already in the ledger", ev.ID))
	}
	key := customerKey{e.Business, e.Customer}
	delete(s.conversations, key)
	delete(s.templates, key)
	s.asks = slices.DeleteFunc(s.asks, func(a bot.PromptAsk) bool { return a.Business == e.Business && a.Customer == e.Customer })
	for k, c := range s.deliveredTo {
		if k.business == e.Business && c == e.Customer {
			delete(s.deliveries, k)
			delete(s.deliveredTo, k)
		}
	}
	maps.DeleteFunc(s.processed, func(k processedKey, _ time.Time) bool {
		return k.business == e.Business && bot.DedupIDNames(k.dedupID, e.Customer)
	})
	s.eraseVerifications(e.Business, e.Customer)
	var gone []string
	s.outbox = slices.DeleteFunc(s.outbox, func(o outboxEntry) bool {
		var eff struct {
			Business bot.BusinessID `json:"business"`
			Customer bot.CustomerID `json:"customer"`
		}
		if json.Unmarshal(o.effect, &eff) == nil && eff.Business == e.Business && eff.Customer == e.Customer {
			gone = append(gone, o.id)
			return true
		}
		return false
	})
	for _, id := range gone {
		delete(s.effectIDs, id)
	}
	// Published effects are remembered by id alone: "<business>/<dedup
	// id>/<n>", whose dedup id names the customer for their inputs.
	maps.DeleteFunc(s.effectIDs, func(id string, _ time.Time) bool {
		rest, ok := strings.CutPrefix(id, string(e.Business)+"/")
		if i := strings.LastIndexByte(rest, '/'); ok && i >= 0 {
			return bot.DedupIDNames(rest[:i], e.Customer)
		}
		return false
	})

	erased := customerKey{e.Business, bot.ErasedCustomer(e.Hash)}
	for i := range s.entries {
		entry := &s.entries[i]
		if entry.Event.Business != e.Business || entry.Event.Customer != e.Customer {
			continue
		}
		delete(s.eventIDs, entry.Event.ID)
		entry.Event = bot.EraseEvent(entry.Event, entry.Seq, e.Hash)
		s.eventIDs[entry.Event.ID] = struct{}{}
		s.ledger[erased] = append(s.ledger[erased], entry.Event)
	}
	delete(s.ledger, key)

	ev.Seal(s.heads[ev.Business], bot.NewPIISalt())
	s.heads[ev.Business] = ev.Hash
	s.ledger[erased] = append(s.ledger[erased], ev)
	s.entries = append(s.entries, bot.LedgerEntry{Seq: int64(len(s.entries) + 1), Event: ev})
	s.eventIDs[ev.ID] = struct{}{}

	if e.Suppress {
		s.suppressions[suppressionKey{e.Business, e.Hash}] = suppression{at: norm(e.At)}
	}
	return nil
}

// Suppressed implements bot.CustomerEraser.
func (s *Store) Suppressed(ctx context.Context, business bot.BusinessID, hash string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("check suppression of a customer of %s: %w", business, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	sup, ok := s.suppressions[suppressionKey{business, hash}]
	return ok && sup.lifted.IsZero(), nil
}

// SuppressionKey returns the store's generated suppression key, making it
// on the first call.
func (s *Store) SuppressionKey(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read the suppression key: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secretKey == nil {
		s.secretKey = make([]byte, 32)
		_, _ = rand.Read(s.secretKey) // crypto/rand.Read never fails
	}
	return slices.Clone(s.secretKey), nil
}
