package bot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CustomerErased is the ledger event of a privacy erase: the customer's
// personal data was removed from the store. It carries the customer's
// hash (see CustomerHash), never the number, and grants nothing.
const CustomerErased ConsentStatus = "erased"

// SourceCLI is an erase requested with the optinbot command line.
const SourceCLI Source = "cli"

// EraseSources are the sources an erase may come from.
var EraseSources = []Source{SourceAPI, SourceCLI}

// ErasedPrefix starts what an erase leaves in the ledger where personal
// data was: "erased:<customer hash>" for the customer and "erased:<seq>"
// for the event id (ids stay unique).
const ErasedPrefix = "erased:"

// MinSuppressionKey is the shortest suppression key accepted, in bytes.
const MinSuppressionKey = 32

// ErrNoSuppressionKey reports that erasing needs a suppression key and the
// Service has none.
var ErrNoSuppressionKey = errors.New("no suppression key configured")

// CustomerHash is the customer's pseudonym on the suppression list and in
// an erased ledger: HMAC-SHA256 of the customer id (the E.164 number) with
// the deployment's suppression key, lowercase hex. Without the key no one
// can test a number against it, not even by trying every phone number.
func CustomerHash(key []byte, customer CustomerID) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(customer))
	return hex.EncodeToString(m.Sum(nil))
}

// ErasedCustomer is what an erase leaves in the customer field of the
// customer's ledger events.
func ErasedCustomer(hash string) CustomerID { return CustomerID(ErasedPrefix + hash) }

// Erasure is one customer's erase, as the store carries it out in one
// transaction:
//
//   - the conversation (state, prompt, variables, handoff, stop question),
//     its timers, the counted templates, the message statuses of its
//     messages, its processed-input ids and every outbox row for the
//     customer (pending or published) are deleted;
//   - in each of the customer's ledger events the personal data (customer,
//     id, inbound id, words, prompt) and the salt are replaced: the
//     customer by ErasedCustomer(Hash), the id by "erased:<seq>", the rest
//     by "". The chain keeps each event's personal-data digest, so it
//     still verifies (see ConsentEvent.Erased);
//   - Event, the erase's own ledger event, is appended;
//   - with Suppress, Hash goes on the business's suppression list.
type Erasure struct {
	Business BusinessID
	Customer CustomerID
	Hash     string // CustomerHash of Customer
	Event    ConsentEvent
	Suppress bool
	At       time.Time
}

// CustomerEraser is the store's part in erasing customers and keeping
// them off the business's messages. Implementations are safe for
// concurrent use; the Service erases a customer under the same lock as
// their turns, so an erase never interleaves with a LoadSession and Commit
// of that customer, and EraseCustomer is atomic on its own.
type CustomerEraser interface {
	// EraseCustomer carries out the erasure in one transaction.
	EraseCustomer(ctx context.Context, e Erasure) error
	// Suppressed reports whether the customer hash is on the business's
	// suppression list (and not lifted).
	Suppressed(ctx context.Context, business BusinessID, hash string) (bool, error)
}

// EraseResult is the outcome of Service.EraseCustomer.
type EraseResult struct {
	// EventID is the id of the erase's own ledger event.
	EventID string `json:"event_id"`
	// Suppressed is true when the customer went on the suppression list.
	Suppressed   bool   `json:"suppressed"`
	CustomerHash string `json:"customer_hash"`
}

// EraseCustomer erases a customer's personal data from the store (see
// Erasure) and records the erase in the ledger. When the customer's
// consent does not stand at the time (no topic's latest event is an
// opt-in, or a STOP stands), their hash goes on the suppression list: the
// guard refuses every business-initiated message to them
// (ReasonSuppressed) until they opt in again in the chat. A customer who
// still had an opt-in loses it with the erase too (their events no longer
// name them), but is not suppressed. source is SourceAPI or SourceCLI.
func (s *Service) EraseCustomer(ctx context.Context, business BusinessID, customer CustomerID, source Source) (EraseResult, error) {
	fail := func(err error) (EraseResult, error) {
		return EraseResult{}, fmt.Errorf("erase customer %s of %s: %w", customer.Redacted(), business, err)
	}
	biz, ok := s.businesses[business]
	if !ok {
		return fail(fmt.Errorf("business %q is not configured: %w", business, ErrBadInput))
	}
	if !customer.wellFormed() {
		return fail(fmt.Errorf("the customer id is neither an E.164 number nor a WhatsApp user id: %w", ErrBadInput))
	}
	if source != SourceAPI && source != SourceCLI {
		return fail(fmt.Errorf("source %q, want api or cli: %w", source, ErrBadInput))
	}
	if s.eraser == nil {
		return fail(errors.New("the store cannot erase customers"))
	}
	if len(s.suppressionKey) == 0 {
		return fail(ErrNoSuppressionKey)
	}
	unlock := s.lock(biz.ID, customer)
	defer unlock()
	now := s.clock()
	sess, err := s.store.LoadSession(ctx, biz.ID, customer, now.Add(-ServiceWindow))
	if err != nil {
		return fail(fmt.Errorf("load session: %w", err))
	}
	hash := CustomerHash(s.suppressionKey, customer)
	suppress := !consentStands(&sess)
	ev := ConsentEvent{
		ID:       string(biz.ID) + "/erase:" + hex.EncodeToString(NewPIISalt()) + "/0",
		Customer: ErasedCustomer(hash), Business: biz.ID, Channel: Channel,
		Status: CustomerErased, Source: source, Trigger: "erase",
		FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version, At: now,
	}
	if suppress {
		ev.Trigger = "erase, suppressed"
	}
	if err := s.eraser.EraseCustomer(ctx, Erasure{Business: biz.ID, Customer: customer, Hash: hash, Event: ev,
		Suppress: suppress, At: now}); err != nil {
		return fail(err)
	}
	s.log.Info().Str("business", string(biz.ID)).Str("event", ev.ID).Str("source", string(source)).
		Bool("suppressed", suppress).Msg("customer erased")
	return EraseResult{EventID: ev.ID, Suppressed: suppress, CustomerHash: hash}, nil
}

// consentStands reports whether the customer may be messaged at all on
// their own consent: no STOP stands and some topic's latest event is an
// opt-in.
func consentStands(sess *Session) bool {
	if sess.Conversation.Stop != nil {
		return false
	}
	for _, st := range sess.Consent {
		if st == OptedIn {
			return true
		}
	}
	return false
}

// suppressed reports whether the customer is on the business's suppression
// list; false when the Service keeps none (no key, or a store without one).
func (s *Service) suppressed(ctx context.Context, business BusinessID, customer CustomerID) (bool, string, error) {
	if s.eraser == nil || len(s.suppressionKey) == 0 {
		return false, "", nil
	}
	hash := CustomerHash(s.suppressionKey, customer)
	on, err := s.eraser.Suppressed(ctx, business, hash)
	if err != nil {
		return false, "", fmt.Errorf("check the suppression list: %w", err)
	}
	return on, hash, nil
}

// liftsSuppression reports whether the turn holds the customer's own
// opt-in in the chat: an opt-in their message caused (not a timer's).
func liftsSuppression(turn Turn) bool {
	for _, ev := range turn.Consent {
		if ev.Status == OptedIn && ev.Source == SourceInChannel && ev.InboundID != "" {
			return true
		}
	}
	return false
}

// erasedID is the id an erase leaves on the ledger event at seq.
func erasedID(seq int64) string { return fmt.Sprintf("%s%d", ErasedPrefix, seq) }

// EraseEvent returns the event as an erase leaves it at seq: personal data
// and salt gone, the digest kept. Stores use it so that every store erases
// alike.
func EraseEvent(ev ConsentEvent, seq int64, hash string) ConsentEvent {
	ev.Customer = ErasedCustomer(hash)
	ev.ID = erasedID(seq)
	ev.InboundID, ev.InboundText, ev.Prompt, ev.PIISalt = "", "", "", ""
	return ev
}

func isErasedID(id string) bool { return strings.HasPrefix(id, ErasedPrefix) }
