package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
)

type apiKeyRow struct {
	ID         string `db:"id"`
	Business   string `db:"business"`
	SecretHash string `db:"secret_hash"`
	Label      string `db:"label"`
	CreatedAt  dbTime `db:"created_at"`
	RevokedAt  dbTime `db:"revoked_at"`
}

func (r apiKeyRow) key() bot.APIKey {
	return bot.APIKey{ID: r.ID, Business: bot.BusinessID(r.Business), SecretHash: r.SecretHash, Label: r.Label,
		CreatedAt: r.CreatedAt.t, RevokedAt: r.RevokedAt.t}
}

// CreateAPIKey stores a new business API key.
func (s *Store) CreateAPIKey(ctx context.Context, k bot.APIKey) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO api_keys (id, business, secret_hash, label, created_at)
		VALUES (?, ?, ?, ?, ?)`), k.ID, k.Business, k.SecretHash, k.Label, s.timeArg(k.CreatedAt)); err != nil {
		return fmt.Errorf("create API key %s for %s: %w", k.ID, k.Business, err)
	}
	return nil
}

// APIKey returns the key with the id, or bot.ErrNotFound.
func (s *Store) APIKey(ctx context.Context, id string) (bot.APIKey, error) {
	var r apiKeyRow
	err := s.db.GetContext(ctx, &r, s.rebind(`SELECT id, business, secret_hash, label, created_at, revoked_at
		FROM api_keys WHERE id = ?`), id)
	if errors.Is(err, sql.ErrNoRows) {
		return bot.APIKey{}, fmt.Errorf("API key %s: %w", id, bot.ErrNotFound)
	}
	if err != nil {
		return bot.APIKey{}, fmt.Errorf("API key %s: %w", id, err)
	}
	return r.key(), nil
}

// APIKeys lists a business's keys, oldest first.
func (s *Store) APIKeys(ctx context.Context, business bot.BusinessID) ([]bot.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT id, business, secret_hash, label, created_at, revoked_at
		FROM api_keys WHERE business = ? ORDER BY created_at, id`), business); err != nil {
		return nil, fmt.Errorf("API keys of %s: %w", business, err)
	}
	keys := make([]bot.APIKey, len(rows))
	for i, r := range rows {
		keys[i] = r.key()
	}
	return keys, nil
}

// RevokeAPIKey revokes a key of the business from now on; bot.ErrNotFound
// when the business has no such key. Revoking twice keeps the first time.
func (s *Store) RevokeAPIKey(ctx context.Context, business bot.BusinessID, id string, now time.Time) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)
		WHERE id = ? AND business = ?`), s.timeArg(now), id, business)
	if err != nil {
		return fmt.Errorf("revoke API key %s of %s: %w", id, business, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke API key %s of %s: %w", id, business, err)
	} else if n == 0 {
		return fmt.Errorf("revoke API key %s of %s: %w", id, business, bot.ErrNotFound)
	}
	return nil
}
