package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// EraseCustomer implements bot.CustomerEraser: one transaction deletes the
// customer's conversation, timers, counted templates, message statuses,
// processed-input ids and outbox rows, erases the personal data of their
// ledger events (the one update the ledger's trigger allows besides
// sealing), appends the erase's event and, with e.Suppress, puts the
// customer's hash on the suppression list.
func (s *Store) EraseCustomer(ctx context.Context, e bot.Erasure) (err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("erase customer %s of %s: %s: %w", e.Customer.Redacted(), e.Business, what, err)
	}
	if e.Hash == "" {
		return fail("check", errors.New("the erasure has no customer hash"))
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fail("begin", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	inbound, timer := bot.DedupIDsOf(e.Customer)
	outboxOf := `DELETE FROM outbox WHERE effect->>'business' = ? AND effect->>'customer' = ?`
	if s.sqlite {
		outboxOf = `DELETE FROM outbox WHERE json_extract(effect, '$.business') = ? AND json_extract(effect, '$.customer') = ?`
	}
	for _, d := range []struct {
		what, query string
		args        []any
	}{
		{"delete conversation", `DELETE FROM conversations WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
		{"delete timers", `DELETE FROM timers WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
		{"delete counted templates", `DELETE FROM sent_templates WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
		{"delete message statuses", `DELETE FROM message_status WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
		{"delete processed inputs", `DELETE FROM processed_inputs WHERE business = ? AND (dedup_id LIKE ? OR dedup_id LIKE ?)`,
			[]any{e.Business, inbound, timer}},
		{"delete outbox rows", outboxOf, []any{e.Business, e.Customer}},
		{"delete prompt asks", `DELETE FROM prompt_asks WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
		{"delete verifications", `DELETE FROM verifications WHERE business = ? AND customer = ?`, []any{e.Business, e.Customer}},
	} {
		if _, err := tx.ExecContext(ctx, s.rebind(d.query), d.args...); err != nil {
			return fail(d.what, err)
		}
	}
	// The business's head lock first, as every append takes it: erasing
	// and appending stay in one order with the business's other turns.
	if _, err := s.lockHead(ctx, tx, e.Business); err != nil {
		return fail("lock the ledger", err)
	}
	var rows []eventRow
	if err := tx.SelectContext(ctx, &rows, s.rebind(`SELECT seq, `+eventColumns+` FROM consent_events
		WHERE business = ? AND customer = ? ORDER BY seq`), e.Business, e.Customer); err != nil {
		return fail("read ledger events", err)
	}
	for _, r := range rows {
		ev := bot.EraseEvent(r.event(), r.Seq, e.Hash)
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE consent_events
			SET customer = ?, id = ?, inbound_id = ?, inbound_text = ?, prompt = ?, pii_salt = ? WHERE seq = ?`),
			ev.Customer, ev.ID, ev.InboundID, ev.InboundText, ev.Prompt, ev.PIISalt, r.Seq); err != nil {
			return fail(fmt.Sprintf("erase ledger event at seq %d", r.Seq), err)
		}
	}
	if err := s.appendEvents(ctx, tx, []bot.ConsentEvent{e.Event}); err != nil {
		return fail("record the erase", err)
	}
	if e.Suppress {
		if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO suppressions (business, customer_hash, suppressed_at, lifted_at)
			VALUES (?, ?, ?, NULL)
			ON CONFLICT (business, customer_hash) DO UPDATE SET suppressed_at = excluded.suppressed_at, lifted_at = NULL`),
			e.Business, e.Hash, s.timeArg(e.At)); err != nil {
			return fail("suppress", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return nil
}

// Suppressed implements bot.CustomerEraser.
func (s *Store) Suppressed(ctx context.Context, business bot.BusinessID, hash string) (bool, error) {
	var n int
	if err := s.reads.suppressed.GetContext(ctx, &n, business, hash); err != nil {
		return false, fmt.Errorf("check suppression of a customer of %s: %w", business, err)
	}
	return n > 0, nil
}

// liftSuppression ends a customer's suppression inside a turn's
// transaction; the row stays, with when it was lifted.
func (s *Store) liftSuppression(ctx context.Context, tx execer, business bot.BusinessID, hash string, at any) error {
	_, err := tx.ExecContext(ctx, s.rebind(`UPDATE suppressions SET lifted_at = ?
		WHERE business = ? AND customer_hash = ? AND lifted_at IS NULL`), at, business, hash)
	return err
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// SuppressionKey returns the deployment's generated suppression key,
// making it (32 random bytes) on the first call: for a deployment whose
// configuration sets none. Every instance on the database gets the same.
func (s *Store) SuppressionKey(ctx context.Context) ([]byte, error) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO deployment_secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), "suppression_key", hex.EncodeToString(b[:]), s.timeArg(time.Now())); err != nil {
		return nil, fmt.Errorf("make the suppression key: %w", err)
	}
	var value string
	if err := s.db.GetContext(ctx, &value, s.rebind(`SELECT value FROM deployment_secrets WHERE name = ?`), "suppression_key"); err != nil {
		return nil, fmt.Errorf("read the suppression key: %w", err)
	}
	key, err := hex.DecodeString(value)
	if err != nil {
		return nil, fmt.Errorf("read the suppression key: stored value is not hex: %w", err)
	}
	return key, nil
}
