package bot

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// APIKeyPrefix starts every business API key, so a leaked key is easy to
// recognise (and to search for in code and logs).
const APIKeyPrefix = "obk_"

// APIKey is a business API key as the store keeps it: the secret only as
// its SHA-256. The secret is 32 random bytes, so a plain hash is as strong
// as a password hash would be, and checking it costs microseconds.
type APIKey struct {
	ID         string     `db:"id" json:"id"`
	Business   BusinessID `db:"business" json:"business"`
	SecretHash string     `db:"secret_hash" json:"-"`
	Label      string     `db:"label" json:"label,omitempty"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	RevokedAt  time.Time  `db:"revoked_at" json:"revoked_at,omitzero"`
}

// NewAPIKey makes a key for the business and returns it with the token to
// show its owner once: "obk_<id>_<secret>".
func NewAPIKey(business BusinessID, label string, now time.Time) (APIKey, string, error) {
	var id [8]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return APIKey{}, "", fmt.Errorf("new API key for %s: %w", business, err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return APIKey{}, "", fmt.Errorf("new API key for %s: %w", business, err)
	}
	k := APIKey{ID: hex.EncodeToString(id[:]), Business: business, Label: label, CreatedAt: now}
	s := base64.RawURLEncoding.EncodeToString(secret[:])
	k.SecretHash = hashSecret(s)
	return k, APIKeyPrefix + k.ID + "_" + s, nil
}

func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// ParseAPIToken splits a token into the key id and the secret; ok is false
// when it is not shaped like one of ours.
func ParseAPIToken(token string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(token, APIKeyPrefix)
	if !found {
		return "", "", false
	}
	id, secret, found = strings.Cut(rest, "_")
	if !found || len(id) != 16 || secret == "" {
		return "", "", false
	}
	return id, secret, true
}

// Matches reports whether secret is the key's, in constant time, and the
// key is not revoked.
func (k APIKey) Matches(secret string) bool {
	ok := subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.SecretHash)) == 1
	return ok && k.RevokedAt.IsZero()
}
