package bot

import (
	"fmt"
	"regexp"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/nyaruka/phonenumbers"
)

// CustomerID is a customer's WhatsApp id: an E.164 phone number such as
// "+14155550100", or the business-scoped user id WhatsApp gives customers who
// use a username, such as "US.1234" (they may have no phone number at all).
type CustomerID string

// IsUserID reports whether the id is a business-scoped user id rather than a
// phone number.
func (c CustomerID) IsUserID() bool { return c != "" && c[0] != '+' }

// Redacted returns a form safe for logs at info level: the country part and
// the last two characters, e.g. "+1…00" or "US.…34".
func (c CustomerID) Redacted() string {
	s := string(c)
	if len(s) <= 4 {
		return "…"
	}
	if c.IsUserID() {
		return s[:3] + "…" + s[len(s)-2:]
	}
	return s[:2] + "…" + s[len(s)-2:]
}

var (
	e164Pattern   = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	userIDPattern = regexp.MustCompile(`^[A-Z]{2}(\.[A-Za-z0-9]{1,64}){1,3}$`)
)

// possibleNumbers remembers the numbers libphonenumber recently accepted.
// Its Parse spends ~30 µs, most of it in an extension-matching regular
// expression that can never match "+" and digits, and a customer writes
// many times: the cache makes every message after the first cost a map
// lookup. The answer for a string never changes, so a cache cannot be
// stale; it is bounded (~4 MiB) so memory stays flat in the number of
// customers.
var possibleNumbers = func() *lru.Cache[string, struct{}] {
	c, err := lru.New[string, struct{}](1 << 16)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return c
}()

// ParseCustomerID accepts "+" and 7–15 digits that libphonenumber considers a
// possible number, or a WhatsApp business-scoped user id ("US.1234",
// "US.ENT.5678").
func ParseCustomerID(s string) (CustomerID, error) {
	switch {
	case s == "":
		return "", fmt.Errorf("customer id is empty: want an E.164 number like +14155550100 or a WhatsApp user id like US.1234")
	case strings.HasPrefix(s, "+"):
		if !e164Pattern.MatchString(s) {
			return "", fmt.Errorf("customer id %q is not an E.164 number: want + and 7 to 15 digits", s)
		}
		if possibleNumbers.Contains(s) {
			return CustomerID(s), nil
		}
		num, err := phonenumbers.Parse(s, "")
		if err != nil {
			return "", fmt.Errorf("customer id %q is not a phone number: %w", s, err)
		}
		if !phonenumbers.IsPossibleNumber(num) {
			return "", fmt.Errorf("customer id %q is not a possible phone number for its country code", s)
		}
		possibleNumbers.Add(s, struct{}{})
		return CustomerID(s), nil
	case userIDPattern.MatchString(s):
		return CustomerID(s), nil
	default:
		return "", fmt.Errorf("customer id %q is neither an E.164 number (+ and 7 to 15 digits) nor a WhatsApp user id (like US.1234)", s)
	}
}

// wellFormed is ParseCustomerID's syntax check without libphonenumber: the
// engine's own guard against ids that skipped the edge's full validation,
// cheap enough for every message (the full check costs ~10 µs).
func (c CustomerID) wellFormed() bool {
	s := string(c)
	if strings.HasPrefix(s, "+") {
		if len(s) < 8 || len(s) > 16 {
			return false
		}
		for i := 1; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	return userIDPattern.MatchString(s)
}
