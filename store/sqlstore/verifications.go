package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

type verificationRow struct {
	ID            string         `db:"id"`
	Business      string         `db:"business"`
	Customer      string         `db:"customer"`
	Topic         string         `db:"topic"`
	CodeHash      string         `db:"code_hash"`
	Salt          string         `db:"salt"`
	CreatedAt     dbTime         `db:"created_at"`
	ExpiresAt     dbTime         `db:"expires_at"`
	Attempts      int            `db:"attempts"`
	MaxAttempts   int            `db:"max_attempts"`
	ConfirmedAt   dbTime         `db:"confirmed_at"`
	OptInTopic    sql.NullString `db:"opt_in_topic"`
	OptInWording  sql.NullString `db:"opt_in_wording"`
	OptInLanguage sql.NullString `db:"opt_in_language"`
	OptInWhere    sql.NullString `db:"opt_in_where"`
}

const verificationColumns = `id, business, customer, topic, code_hash, salt, created_at, expires_at, attempts,
	max_attempts, confirmed_at, opt_in_topic, opt_in_wording, opt_in_language, opt_in_where`

func (r verificationRow) verification() bot.Verification {
	v := bot.Verification{ID: r.ID, Business: bot.BusinessID(r.Business), Customer: bot.CustomerID(r.Customer),
		Topic: flows.Topic(r.Topic), CodeHash: r.CodeHash, Salt: r.Salt, CreatedAt: r.CreatedAt.t, ExpiresAt: r.ExpiresAt.t,
		Attempts: r.Attempts, MaxAttempts: r.MaxAttempts, ConfirmedAt: r.ConfirmedAt.t}
	if r.OptInTopic.Valid {
		v.OptIn = &bot.VerificationOptIn{Topic: flows.Topic(r.OptInTopic.String), Wording: r.OptInWording.String,
			Language: r.OptInLanguage.String, Where: r.OptInWhere.String}
	}
	return v
}

func nullString(set bool, s string) any {
	if !set {
		return nil
	}
	return s
}

// CreateVerification implements bot.VerificationStore.
func (s *Store) CreateVerification(ctx context.Context, v bot.Verification) error {
	o := v.OptIn
	set := o != nil
	if o == nil {
		o = &bot.VerificationOptIn{}
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO verifications (`+verificationColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		v.ID, v.Business, v.Customer, v.Topic, v.CodeHash, v.Salt, s.timeArg(v.CreatedAt), s.timeArg(v.ExpiresAt),
		v.Attempts, v.MaxAttempts, s.nullTimeArg(v.ConfirmedAt),
		nullString(set, string(o.Topic)), nullString(set, o.Wording), nullString(set, o.Language), nullString(set, o.Where)); err != nil {
		return fmt.Errorf("create verification %s of %s: %w", v.ID, v.Business, err)
	}
	return nil
}

// Verification implements bot.VerificationStore.
func (s *Store) Verification(ctx context.Context, business bot.BusinessID, id string) (bot.Verification, error) {
	var r verificationRow
	err := s.db.GetContext(ctx, &r, s.rebind(`SELECT `+verificationColumns+` FROM verifications WHERE business = ? AND id = ?`), business, id)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Verification{}, fmt.Errorf("verification %s of %s: %w", id, business, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Verification{}, fmt.Errorf("verification %s of %s: %w", id, business, err)
	}
	return r.verification(), nil
}

// LatestVerification implements bot.VerificationStore.
func (s *Store) LatestVerification(ctx context.Context, business bot.BusinessID, customer bot.CustomerID) (bot.Verification, error) {
	var r verificationRow
	err := s.db.GetContext(ctx, &r, s.rebind(`SELECT `+verificationColumns+` FROM verifications
		WHERE business = ? AND customer = ? ORDER BY created_at DESC, id DESC LIMIT 1`), business, customer)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.Verification{}, fmt.Errorf("latest verification of %s with %s: %w", customer.Redacted(), business, bot.ErrNotFound)
	}
	if err != nil {
		return bot.Verification{}, fmt.Errorf("latest verification of %s with %s: %w", customer.Redacted(), business, err)
	}
	return r.verification(), nil
}

// AttemptVerification implements bot.VerificationStore: one UPDATE counts
// the attempt only while the verification is usable, so concurrent
// attempts never exceed the limit.
func (s *Store) AttemptVerification(ctx context.Context, business bot.BusinessID, id string, now time.Time) (bot.Verification, error) {
	var r verificationRow
	err := s.db.GetContext(ctx, &r, s.rebind(`UPDATE verifications SET attempts = attempts + 1
		WHERE business = ? AND id = ? AND confirmed_at IS NULL AND expires_at > ? AND attempts < max_attempts
		RETURNING `+verificationColumns), business, id, s.timeArg(now))
	if errors.Is(err, sql.ErrNoRows) {
		v, err := s.Verification(ctx, business, id)
		if err != nil {
			return bot.Verification{}, fmt.Errorf("attempt: %w", err)
		}
		if err := v.Usable(now); err != nil {
			return bot.Verification{}, fmt.Errorf("attempt: %w", err)
		}
		return bot.Verification{}, fmt.Errorf("attempt verification %s of %s: changed while counting", id, business)
	}
	if err != nil {
		return bot.Verification{}, fmt.Errorf("attempt verification %s of %s: %w", id, business, err)
	}
	return r.verification(), nil
}

// ConfirmVerification implements bot.VerificationStore.
func (s *Store) ConfirmVerification(ctx context.Context, business bot.BusinessID, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE verifications SET confirmed_at = ?
		WHERE business = ? AND id = ? AND confirmed_at IS NULL`), s.timeArg(now), business, id)
	if err != nil {
		return fmt.Errorf("confirm verification %s of %s: %w", id, business, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("confirm verification %s of %s: %w", id, business, err)
	}
	if n == 0 {
		if _, err := s.Verification(ctx, business, id); err != nil {
			return fmt.Errorf("confirm: %w", err)
		}
		return fmt.Errorf("confirm verification %s of %s: %w", id, business, bot.ErrVerificationConfirmed)
	}
	return nil
}

var _ bot.VerificationStore = (*Store)(nil)
