package envelope

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultPrefix is the first token of every subject unless configured.
const DefaultPrefix = "optinbot"

// SubjectKind is the token after "<prefix>.v1." naming what a subject
// carries.
type SubjectKind string

const (
	SubjectInbound  SubjectKind = "inbound"  // InboundMessage, keyed by sender
	SubjectSend     SubjectKind = "send"     // SendRequest, keyed by business
	SubjectStatus   SubjectKind = "status"   // DeliveryStatus, keyed by sender
	SubjectOutbound SubjectKind = "outbound" // OutboundMessage, keyed by sender
	SubjectConsent  SubjectKind = "consent"  // ConsentChange, keyed by business
	SubjectDecision SubjectKind = "decision" // SendDecision, keyed by business
	SubjectDelivery SubjectKind = "delivery" // DeliveryStatus from the engine, keyed by business
	SubjectNotice   SubjectKind = "notice"   // CustomerNotice, keyed by business
	SubjectHandoff  SubjectKind = "handoff"  // HandoffRequest, HandoffMessage, HandoffEnded, keyed by business
	SubjectRelease  SubjectKind = "release"  // HandoffRelease, keyed by business
	SubjectGrant    SubjectKind = "grant"    // ConsentGrantEnvelope, keyed by business
	SubjectSignal   SubjectKind = "signal"   // ConsentSignal, keyed by sender
	SubjectEvent    SubjectKind = "event"    // ProviderEvent, keyed by sender
	SubjectAlert    SubjectKind = "alert"    // QualityAlert, keyed by business
	// SubjectDeadLetter carries DeadLetter, keyed by provider.
	SubjectDeadLetter SubjectKind = "deadletter"
)

// InKinds are the subjects the engine consumes; OutKinds those it publishes.
var (
	InKinds  = []SubjectKind{SubjectInbound, SubjectSend, SubjectStatus, SubjectSignal, SubjectGrant, SubjectRelease}
	OutKinds = []SubjectKind{SubjectOutbound, SubjectConsent, SubjectDecision, SubjectEvent, SubjectDeadLetter,
		SubjectDelivery, SubjectNotice, SubjectHandoff, SubjectAlert}
)

// Subjects builds the subjects under one prefix. The zero value uses
// DefaultPrefix; tests use their own prefix to stay isolated.
type Subjects struct {
	prefix string
}

// NewSubjects checks a prefix: one or more subject tokens separated by dots
// ("optinbot", "staging.optinbot"), without wildcards or whitespace. An
// empty prefix means DefaultPrefix.
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		return Subjects{prefix: DefaultPrefix}, nil
	}
	for _, tok := range strings.Split(prefix, ".") {
		if tok == "" {
			return Subjects{}, fmt.Errorf("subject prefix %q: empty token (leading, trailing or double dot)", prefix)
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return escape(r, 1) || r == utf8.RuneError }) {
			return Subjects{}, fmt.Errorf("subject prefix %q: token %q holds a character not allowed in a subject (*, >, %%, whitespace or a control character)", prefix, tok)
		}
	}
	return Subjects{prefix: prefix}, nil
}

// Prefix returns the prefix, DefaultPrefix for the zero value.
func (s Subjects) Prefix() string {
	if s.prefix == "" {
		return DefaultPrefix
	}
	return s.prefix
}

// For returns "<prefix>.v1.<kind>.<Token(key)>".
func (s Subjects) For(kind SubjectKind, key string) string {
	return fmt.Sprintf("%s.v%d.%s.%s", s.Prefix(), Version, kind, Token(key))
}

// All returns the wildcard "<prefix>.v1.<kind>.>" matching every key.
func (s Subjects) All(kind SubjectKind) string {
	return fmt.Sprintf("%s.v%d.%s.>", s.Prefix(), Version, kind)
}

// Inbound returns the subject of inbound messages to a sender.
func (s Subjects) Inbound(sender string) string { return s.For(SubjectInbound, sender) }

// Send returns the subject of a business's send requests.
func (s Subjects) Send(business string) string { return s.For(SubjectSend, business) }

// Status returns the subject of delivery statuses of a sender's messages.
func (s Subjects) Status(sender string) string { return s.For(SubjectStatus, sender) }

// Outbound returns the subject of messages to send from a sender.
func (s Subjects) Outbound(sender string) string { return s.For(SubjectOutbound, sender) }

// Consent returns the subject of a business's consent changes.
func (s Subjects) Consent(business string) string { return s.For(SubjectConsent, business) }

// Decision returns the subject of a business's send decisions.
func (s Subjects) Decision(business string) string { return s.For(SubjectDecision, business) }

// Signal returns the subject of consent signals for a sender.
func (s Subjects) Signal(sender string) string { return s.For(SubjectSignal, sender) }

// Event returns the subject of provider events for a sender.
func (s Subjects) Event(sender string) string { return s.For(SubjectEvent, sender) }

// Alert returns the subject of a business's alerts.
func (s Subjects) Alert(business string) string { return s.For(SubjectAlert, business) }

// DeadLetter returns the subject of a provider's dead letters.
func (s Subjects) DeadLetter(provider string) string { return s.For(SubjectDeadLetter, provider) }

// Delivery returns the subject of a business's delivery updates.
func (s Subjects) Delivery(business string) string { return s.For(SubjectDelivery, business) }

// Notice returns the subject of a business's customer notices.
func (s Subjects) Notice(business string) string { return s.For(SubjectNotice, business) }

// Handoff returns the subject of a business's handoffs: requests, the
// customers' messages for the agents, and their ends.
func (s Subjects) Handoff(business string) string { return s.For(SubjectHandoff, business) }

// Release returns the subject of a business's hand backs.
func (s Subjects) Release(business string) string { return s.For(SubjectRelease, business) }

// Grant returns the subject of a business's consent grants.
func (s Subjects) Grant(business string) string { return s.For(SubjectGrant, business) }

// Parse splits a subject of this prefix into its kind and key (the decoded
// last token). ok is false for any other subject.
func (s Subjects) Parse(subject string) (kind SubjectKind, key string, ok bool) {
	rest, found := strings.CutPrefix(subject, fmt.Sprintf("%s.v%d.", s.Prefix(), Version))
	if !found {
		return "", "", false
	}
	k, tok, found := strings.Cut(rest, ".")
	if !found || strings.Contains(tok, ".") {
		return "", "", false
	}
	key, err := ParseToken(tok)
	if err != nil {
		return "", "", false
	}
	return SubjectKind(k), key, true
}

// Token makes any string a safe subject token: '.', '*', '>', '%',
// whitespace, control characters and invalid UTF-8 are percent-encoded
// ("US.1234" becomes "US%2E1234"); everything else is kept. The empty string
// becomes "_" (and "_" itself "%5F"). ParseToken reverses it.
func Token(s string) string {
	switch s {
	case "":
		return "_"
	case "_":
		return "%5F"
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if escape(r, size) {
			for j := i; j < i+size; j++ {
				fmt.Fprintf(&b, "%%%02X", s[j])
			}
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func escape(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return true
	case r == '.', r == '*', r == '>', r == '%':
		return true
	case unicode.IsSpace(r), unicode.IsControl(r):
		return true
	}
	return false
}

// ParseToken reverses Token.
func ParseToken(tok string) (string, error) {
	if tok == "_" {
		return "", nil
	}
	if !strings.Contains(tok, "%") {
		return tok, nil
	}
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '%' {
			b.WriteByte(tok[i])
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("subject token %q: truncated escape at byte %d", tok, i)
		}
		v, err := strconv.ParseUint(tok[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("subject token %q: bad escape at byte %d", tok, i)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}
