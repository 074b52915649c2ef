package meta

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// SignatureHeader carries the webhook body's HMAC.
const SignatureHeader = "X-Hub-Signature-256"

const signaturePrefix = "sha256="

// Verify authenticates a webhook POST: SignatureHeader must be "sha256="
// and the hex HMAC-SHA256 of the raw body keyed with the app secret. The
// error wraps envelope.ErrUnauthorized and never quotes the body.
func (a *Adapter) Verify(r *http.Request, body []byte) error {
	return CheckSignature(a.cfg.AppSecret, r.Header.Get(SignatureHeader), body)
}

// CheckSignature checks an X-Hub-Signature-256 header value against the
// body, in constant time. An empty secret fails every check.
func CheckSignature(secret, header string, body []byte) error {
	if secret == "" {
		return fmt.Errorf("meta: %w: no app secret configured, so no webhook can be verified", envelope.ErrUnauthorized)
	}
	if header == "" {
		return fmt.Errorf("meta: %w: %s header is missing", envelope.ErrUnauthorized, SignatureHeader)
	}
	hexSum, ok := strings.CutPrefix(header, signaturePrefix)
	if !ok || len(hexSum) != 2*sha256.Size {
		return fmt.Errorf("meta: %w: %s header is malformed: want %s and 64 hex digits", envelope.ErrUnauthorized, SignatureHeader, signaturePrefix)
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return fmt.Errorf("meta: %w: %s header is malformed: not hex", envelope.ErrUnauthorized, SignatureHeader)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("meta: %w: %s does not match the body (wrong app secret, or a body changed in transit)", envelope.ErrUnauthorized, SignatureHeader)
	}
	return nil
}

// Sign returns the SignatureHeader value Meta would send for body: for
// tests and tools that replay webhooks.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return signaturePrefix + hex.EncodeToString(mac.Sum(nil))
}

// Handshake answers Meta's webhook verification: a GET with
// hub.mode=subscribe and hub.verify_token equal to the configured token is
// answered 200 with hub.challenge as plain text; anything else 403.
func (a *Adapter) Handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	if r.Method != http.MethodGet || q.Get("hub.mode") != "subscribe" || challenge == "" ||
		!EqualSecret(a.cfg.VerifyToken, q.Get("hub.verify_token")) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(challenge))
}

// EqualSecret compares a configured secret with a presented one in constant
// time (lengths included: both are hashed first). An empty configured
// secret equals nothing.
func EqualSecret(configured, presented string) bool {
	if configured == "" {
		return false
	}
	a := sha256.Sum256([]byte(configured))
	b := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
