package memstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// verifications are kept apart from the rest of the store, under their
// own lock.
type verifications struct {
	mu   sync.Mutex
	byID map[verificationKey]*bot.Verification
}

type verificationKey struct {
	business bot.BusinessID
	id       string
}

func copyVerification(v bot.Verification) bot.Verification {
	v.CreatedAt, v.ExpiresAt, v.ConfirmedAt = norm(v.CreatedAt), norm(v.ExpiresAt), norm(v.ConfirmedAt)
	if v.OptIn != nil {
		o := *v.OptIn
		v.OptIn = &o
	}
	return v
}

// CreateVerification implements bot.VerificationStore.
func (s *Store) CreateVerification(_ context.Context, v bot.Verification) error {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	if s.ver.byID == nil {
		s.ver.byID = map[verificationKey]*bot.Verification{}
	}
	k := verificationKey{v.Business, v.ID}
	if _, dup := s.ver.byID[k]; dup {
		return fmt.Errorf("create verification %s of %s: already exists", v.ID, v.Business)
	}
	c := copyVerification(v)
	s.ver.byID[k] = &c
	return nil
}

// Verification implements bot.VerificationStore.
func (s *Store) Verification(_ context.Context, business bot.BusinessID, id string) (bot.Verification, error) {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	v, ok := s.ver.byID[verificationKey{business, id}]
	if !ok {
		return bot.Verification{}, fmt.Errorf("verification %s of %s: %w", id, business, bot.ErrNotFound)
	}
	return copyVerification(*v), nil
}

// LatestVerification implements bot.VerificationStore.
func (s *Store) LatestVerification(_ context.Context, business bot.BusinessID, customer bot.CustomerID) (bot.Verification, error) {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	var latest *bot.Verification
	for k, v := range s.ver.byID {
		if k.business != business || v.Customer != customer {
			continue
		}
		if latest == nil || v.CreatedAt.After(latest.CreatedAt) || (v.CreatedAt.Equal(latest.CreatedAt) && v.ID > latest.ID) {
			latest = v
		}
	}
	if latest == nil {
		return bot.Verification{}, fmt.Errorf("latest verification of %s with %s: %w", customer.Redacted(), business, bot.ErrNotFound)
	}
	return copyVerification(*latest), nil
}

// AttemptVerification implements bot.VerificationStore.
func (s *Store) AttemptVerification(_ context.Context, business bot.BusinessID, id string, now time.Time) (bot.Verification, error) {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	v, ok := s.ver.byID[verificationKey{business, id}]
	if !ok {
		return bot.Verification{}, fmt.Errorf("attempt verification %s of %s: %w", id, business, bot.ErrNotFound)
	}
	if err := v.Usable(norm(now)); err != nil {
		return bot.Verification{}, fmt.Errorf("attempt: %w", err)
	}
	v.Attempts++
	return copyVerification(*v), nil
}

// ConfirmVerification implements bot.VerificationStore.
func (s *Store) ConfirmVerification(_ context.Context, business bot.BusinessID, id string, now time.Time) error {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	v, ok := s.ver.byID[verificationKey{business, id}]
	if !ok {
		return fmt.Errorf("confirm verification %s of %s: %w", id, business, bot.ErrNotFound)
	}
	if !v.ConfirmedAt.IsZero() {
		return fmt.Errorf("confirm verification %s of %s: %w", id, business, bot.ErrVerificationConfirmed)
	}
	v.ConfirmedAt = norm(now)
	return nil
}

var _ bot.VerificationStore = (*Store)(nil)

// eraseVerifications forgets a customer's verifications.
func (s *Store) eraseVerifications(business bot.BusinessID, customer bot.CustomerID) {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	for k, v := range s.ver.byID {
		if k.business == business && v.Customer == customer {
			delete(s.ver.byID, k)
		}
	}
}

// dumpVerifications is every verification as text, for Dump.
func (s *Store) dumpVerifications() string {
	s.ver.mu.Lock()
	defer s.ver.mu.Unlock()
	var b strings.Builder
	for _, v := range s.ver.byID {
		fmt.Fprintf(&b, "%+v", *v)
		if v.OptIn != nil {
			fmt.Fprintf(&b, " %+v", *v.OptIn)
		}
		b.WriteString("\n")
	}
	return b.String()
}
