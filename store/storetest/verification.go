package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// verificationTests are the contract of the sign-up verifications: the
// store enforces expiry, the attempt limit and single use.
var verificationTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"VerificationRoundTrip", testVerificationRoundTrip},
	{"VerificationExpiry", testVerificationExpiry},
	{"VerificationAttemptLimit", testVerificationAttempts},
	{"VerificationReplay", testVerificationReplay},
	{"VerificationConcurrentAttempts", testVerificationConcurrentAttempts},
	{"VerificationLatestPerCustomer", testVerificationLatest},
}

func newVerification(t *testing.T, s Store, c bot.CustomerID, at time.Time, optIn *bot.VerificationOptIn) (bot.Verification, string) {
	t.Helper()
	code := bot.NewVerificationCode()
	v := bot.NewVerification(acme, c, "signin_codes", code, at)
	v.OptIn = optIn
	if err := s.CreateVerification(t.Context(), v); err != nil {
		t.Fatal(err)
	}
	return v, code
}

func testVerificationRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	at := time.Date(2026, 1, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	optIn := &bot.VerificationOptIn{Topic: "order_updates", Wording: "Send me order updates from Acme on WhatsApp", Language: "en", Where: "https://acme.example/signup"}
	v, code := newVerification(t, s, phone, at, optIn)
	optIn.Wording = "mutated"
	got, err := s.Verification(ctx, acme, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := v
	want.CreatedAt, want.ExpiresAt = Norm(at), Norm(at.Add(bot.VerificationTTL))
	want.OptIn = &bot.VerificationOptIn{Topic: "order_updates", Wording: "Send me order updates from Acme on WhatsApp", Language: "en", Where: "https://acme.example/signup"}
	equal(t, "verification", got, want)
	if !got.Matches(code) {
		t.Error("the stored verification does not match its code")
	}
	if got.CodeHash == code || got.CodeHash == "" {
		t.Errorf("code hash %q: the code must be stored hashed", got.CodeHash)
	}
	if _, err := s.Verification(ctx, globex, v.ID); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("another business's verification: %v, want ErrNotFound", err)
	}
	plain, _ := newVerification(t, s, phone2, t0, nil)
	if got, err := s.Verification(ctx, acme, plain.ID); err != nil || got.OptIn != nil {
		t.Errorf("verification without opt-in: %+v, %v", got, err)
	}
	if _, err := s.AttemptVerification(ctx, acme, "ver_unknown", t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("attempt of an unknown verification: %v, want ErrNotFound", err)
	}
	if err := s.ConfirmVerification(ctx, acme, "ver_unknown", t0); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("confirm of an unknown verification: %v, want ErrNotFound", err)
	}
}

func testVerificationExpiry(t *testing.T, s Store) {
	ctx := t.Context()
	v, _ := newVerification(t, s, phone, t0, nil)
	if got, err := s.AttemptVerification(ctx, acme, v.ID, v.ExpiresAt.Add(-time.Microsecond)); err != nil || got.Attempts != 1 {
		t.Fatalf("attempt just before expiry: %+v, %v", got, err)
	}
	if _, err := s.AttemptVerification(ctx, acme, v.ID, v.ExpiresAt); !errors.Is(err, bot.ErrVerificationExpired) {
		t.Errorf("attempt at expiry: %v, want ErrVerificationExpired", err)
	}
	if got, _ := s.Verification(ctx, acme, v.ID); got.Attempts != 1 {
		t.Errorf("an expired attempt counted: attempts %d, want 1", got.Attempts)
	}
}

func testVerificationAttempts(t *testing.T, s Store) {
	ctx := t.Context()
	v, _ := newVerification(t, s, phone, t0, nil)
	for i := 1; i <= bot.VerificationMaxAttempts; i++ {
		got, err := s.AttemptVerification(ctx, acme, v.ID, t0.Add(time.Duration(i)*time.Second))
		if err != nil || got.Attempts != i {
			t.Fatalf("attempt %d: %+v, %v", i, got, err)
		}
	}
	if _, err := s.AttemptVerification(ctx, acme, v.ID, t0.Add(time.Minute)); !errors.Is(err, bot.ErrVerificationLocked) {
		t.Errorf("attempt %d: %v, want ErrVerificationLocked", bot.VerificationMaxAttempts+1, err)
	}
	if got, _ := s.Verification(ctx, acme, v.ID); got.Attempts != bot.VerificationMaxAttempts || got.Status(t0.Add(time.Minute)) != bot.VerificationLocked {
		t.Errorf("after the limit: attempts %d status %s", got.Attempts, got.Status(t0.Add(time.Minute)))
	}
}

func testVerificationReplay(t *testing.T, s Store) {
	ctx := t.Context()
	v, _ := newVerification(t, s, phone, t0, nil)
	if _, err := s.AttemptVerification(ctx, acme, v.ID, t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	at := t0.Add(2 * time.Second)
	if err := s.ConfirmVerification(ctx, acme, v.ID, at); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmVerification(ctx, acme, v.ID, at.Add(time.Second)); !errors.Is(err, bot.ErrVerificationConfirmed) {
		t.Errorf("second confirm: %v, want ErrVerificationConfirmed", err)
	}
	if _, err := s.AttemptVerification(ctx, acme, v.ID, at.Add(time.Second)); !errors.Is(err, bot.ErrVerificationConfirmed) {
		t.Errorf("attempt after confirm: %v, want ErrVerificationConfirmed", err)
	}
	got, err := s.Verification(ctx, acme, v.ID)
	if err != nil || !got.ConfirmedAt.Equal(at) || got.Attempts != 1 {
		t.Errorf("confirmed verification: %+v, %v; want confirmed at %s after 1 attempt", got, err, at)
	}
}

// Concurrent attempts never count past the limit.
func testVerificationConcurrentAttempts(t *testing.T, s Store) {
	ctx := t.Context()
	v, _ := newVerification(t, s, phone, t0, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counted := 0
	for range 3 * bot.VerificationMaxAttempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.AttemptVerification(ctx, acme, v.ID, t0.Add(time.Second))
			switch {
			case err == nil:
				mu.Lock()
				counted++
				mu.Unlock()
			case !errors.Is(err, bot.ErrVerificationLocked):
				t.Errorf("concurrent attempt: %v", err)
			}
		}()
	}
	wg.Wait()
	if counted != bot.VerificationMaxAttempts {
		t.Errorf("%d attempts counted, want %d", counted, bot.VerificationMaxAttempts)
	}
}

func testVerificationLatest(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.LatestVerification(ctx, acme, phone); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("no verification yet: %v, want ErrNotFound", err)
	}
	newVerification(t, s, phone, t0, nil)
	second, _ := newVerification(t, s, phone, t0.Add(2*time.Minute), nil)
	newVerification(t, s, phone2, t0.Add(3*time.Minute), nil)
	got, err := s.LatestVerification(ctx, acme, phone)
	if err != nil || got.ID != second.ID {
		t.Errorf("latest verification: %s, %v; want %s", got.ID, err, second.ID)
	}
	if _, err := s.LatestVerification(ctx, globex, phone); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("another business: %v, want ErrNotFound", err)
	}
}
