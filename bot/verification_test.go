package bot

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseVerificationCode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{"271828", "271828", true},
		{" 271 828 ", "271828", true},
		{"271-828", "271828", true},
		{"2.7.1.8.2.8", "271828", true},
		{"２７１８２８", "271828", true},  // full-width
		{"２７１ ８２８", "271828", true}, // full-width with an ideographic space
		{"٢٧١٨٢٨", "271828", true},  // Arabic-Indic
		{"۲۷۱۸۲۸", "271828", true},  // Extended Arabic-Indic
		{"२७१८२८", "271828", true},  // Devanagari
		{"000000", "000000", true},
		{"27182", "", false},
		{"2718281", "", false},
		{"code 271828", "", false},
		{"271828!", "", false},
		{"", "", false},
		{"YES", "", false},
		{"𝟐𝟕𝟏𝟖𝟐𝟖", "", false}, // mathematical digits are no code
	} {
		got, ok := ParseVerificationCode(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseVerificationCode(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseVerificationCode(f *testing.F) {
	for _, s := range []string{"271828", "２７１ ８２８", "٢٧١٨٢٨", "12345", "1234567", "a1b2c3", "\x00", "1-2-3-4-5-6", "\uFF10\uFF11"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		code, ok := ParseVerificationCode(s)
		if !ok {
			if code != "" {
				t.Fatalf("rejected %q but returned %q", s, code)
			}
			return
		}
		if len(code) != VerificationCodeDigits || strings.Trim(code, "0123456789") != "" {
			t.Fatalf("ParseVerificationCode(%q) = %q: not %d ASCII digits", s, code, VerificationCodeDigits)
		}
		// A code parses to itself: normalising is idempotent.
		if again, ok := ParseVerificationCode(code); !ok || again != code {
			t.Fatalf("the code %q of %q parses to %q, %v", code, s, again, ok)
		}
	})
}

func TestNewVerificationCode(t *testing.T) {
	seen := map[string]bool{}
	var first [10]int
	const n = 20000
	for range n {
		c := NewVerificationCode()
		if len(c) != VerificationCodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("code %q is not %d digits", c, VerificationCodeDigits)
		}
		seen[c] = true
		first[c[0]-'0']++
	}
	// About n²/2e6 = 200 codes repeat by chance; far more is no chance.
	if len(seen) < n-400 {
		t.Errorf("%d distinct codes of %d: not random", len(seen), n)
	}
	// Every leading digit, 0 included, comes up about a tenth of the time.
	for d, k := range first {
		if k < n/10*8/10 || k > n/10*12/10 {
			t.Errorf("leading digit %d in %d of %d codes: not uniform", d, k, n)
		}
	}
}

func TestVerificationHashAndStatus(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := NewVerification("acme", "+14155550100", "codes", "271828", now)
	b := NewVerification("acme", "+14155550100", "codes", "271828", now)
	if a.ID == b.ID || a.Salt == b.Salt || a.CodeHash == b.CodeHash {
		t.Errorf("two verifications of one code share an id, salt or hash: %+v %+v", a, b)
	}
	if strings.Contains(a.CodeHash, "271828") || !a.Matches("271828") || a.Matches("271829") || a.Matches("") {
		t.Errorf("hash %q does not match only its code", a.CodeHash)
	}
	if !a.ExpiresAt.Equal(now.Add(10*time.Minute)) || a.MaxAttempts != 5 {
		t.Errorf("expires %s, max attempts %d", a.ExpiresAt, a.MaxAttempts)
	}
	for _, tc := range []struct {
		name string
		v    func(Verification) Verification
		at   time.Time
		want VerificationStatus
		err  error
	}{
		{"pending", func(v Verification) Verification { return v }, now, VerificationPending, nil},
		{"expired", func(v Verification) Verification { return v }, now.Add(10 * time.Minute), VerificationExpired, ErrVerificationExpired},
		{"locked", func(v Verification) Verification { v.Attempts = 5; return v }, now, VerificationLocked, ErrVerificationLocked},
		{"locked and expired is expired", func(v Verification) Verification { v.Attempts = 5; return v }, now.Add(time.Hour), VerificationExpired, ErrVerificationExpired},
		{"confirmed beats expired", func(v Verification) Verification { v.ConfirmedAt = now; return v }, now.Add(time.Hour), VerificationConfirmed, ErrVerificationConfirmed},
	} {
		v := tc.v(a)
		if got := v.Status(tc.at); got != tc.want {
			t.Errorf("%s: status %s, want %s", tc.name, got, tc.want)
		}
		if err := v.Usable(tc.at); !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("%s: Usable = %v, want %v", tc.name, err, tc.err)
		}
	}
}
