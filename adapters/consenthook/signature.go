package consenthook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a consent webhook:
//
//	Optinbot-Signature: t=1767260000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd
//
// t is the unix time of signing; v1 is the hex HMAC-SHA256, keyed with the
// business's secret, of t, a dot and the request body exactly as received.
// A header may hold several v1 values (while a secret is being rotated):
// any one that matches will do.
const SignatureHeader = "Optinbot-Signature"

// IdempotencyHeader carries the consent change's id: a retry of the same
// change has the same one, so a receiver can drop repeats.
const IdempotencyHeader = "Idempotency-Key"

// DefaultTolerance is the age of a signature VerifySignature accepts in
// the examples: five minutes each way.
const DefaultTolerance = 5 * time.Minute

// The errors of VerifySignature.
var (
	ErrNoSignature  = errors.New("no signature")
	ErrBadSignature = errors.New("signature does not match")
	ErrStale        = errors.New("signature timestamp outside the tolerance")
)

// Sign returns the SignatureHeader value of body signed with secret at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// VerifySignature checks a SignatureHeader value against the raw request
// body: that one of its v1 signatures is the HMAC-SHA256 of "t.body" with
// secret, and that t is within tolerance of now (either way; a tolerance of
// 0 or less skips the time check, which lets a replayed request through).
// The error matches ErrNoSignature, ErrBadSignature or ErrStale.
//
// Use the body bytes as they arrived, before any JSON decoding, and
// compare in constant time (this does).
func VerifySignature(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	if strings.TrimSpace(header) == "" {
		return fmt.Errorf("%s header is missing: %w", SignatureHeader, ErrNoSignature)
	}
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%s header has two timestamps: %w", SignatureHeader, ErrBadSignature)
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return fmt.Errorf("%s header lacks t= or v1=: %w", SignatureHeader, ErrNoSignature)
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || strconv.FormatInt(unix, 10) != ts {
		return fmt.Errorf("%s header: t=%q is not unix seconds: %w", SignatureHeader, clip(ts, 20), ErrBadSignature)
	}
	want := []byte(mac(secret, ts, body))
	matched := false
	for _, s := range sigs {
		if hmac.Equal([]byte(strings.ToLower(s)), want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("%s header: %w", SignatureHeader, ErrBadSignature)
	}
	if tolerance > 0 {
		age := now.Sub(time.Unix(unix, 0))
		if age > tolerance || age < -tolerance {
			return fmt.Errorf("%s header: signed at %s, %s from now, tolerance %s: %w", SignatureHeader,
				time.Unix(unix, 0).UTC().Format(time.RFC3339), age.Round(time.Second), tolerance, ErrStale)
		}
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
