package bot

import (
	"context"
	"errors"
	"time"
)

// ErrDuplicate reports that a Turn's DedupID was already committed: the
// input is a redelivery and changes nothing.
var ErrDuplicate = errors.New("input already processed")

// ErrNotFound reports that the store holds no such record.
var ErrNotFound = errors.New("not found")

// Store persists conversations, the consent ledger, processed-input ids and
// the outbox.
//
// Concurrency: implementations are safe for concurrent use. The engine runs
// at most one turn per (business, customer) at a time, so LoadSession and the
// Commit that follows it are never interleaved with another turn of the same
// customer; Commit is nonetheless atomic on its own: either everything in
// the Turn is stored or nothing is.
type Store interface {
	// LoadSession returns the customer's conversation, current consent per
	// topic and the templates allowed since `since`. A customer never seen
	// yields a zero Session (with Business and Customer set), not an error.
	LoadSession(ctx context.Context, business BusinessID, customer CustomerID, since time.Time) (Session, error)
	// Processed reports whether an input id was already committed.
	Processed(ctx context.Context, business BusinessID, dedupID string) (bool, error)
	// Commit stores the whole Turn in one transaction, or returns
	// ErrDuplicate (wrapped) and stores nothing.
	Commit(ctx context.Context, turn Turn) error
	// SaveFlowSource keeps a flow version's YAML so a conversation can stay
	// on the version it started with after the file changes. Saving an
	// existing (name, version) again is not an error.
	SaveFlowSource(ctx context.Context, name, version string, source []byte) error
	// FlowSource returns a saved flow version's YAML, or ErrNotFound.
	FlowSource(ctx context.Context, name, version string) ([]byte, error)
	// MessageStatus returns the latest status recorded for a provider
	// message id by a committed Turn's Deliveries, or "" when none is.
	MessageStatus(ctx context.Context, business BusinessID, messageID string) (string, error)
	// DueTimers returns the timers of every conversation due before
	// `before`, oldest first, at most limit: what the timer scheduler
	// fires. Timers are committed as part of the Conversation.
	DueTimers(ctx context.Context, before time.Time, limit int) ([]DueTimer, error)
}

// ErrBadInput marks an input that can never succeed (unknown sender,
// unknown template, malformed id): the caller drops it with a log line
// instead of retrying. Other errors from Service are worth retrying.
var ErrBadInput = errors.New("bad input")
