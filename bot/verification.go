package bot

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"

	"github.com/optinbot/optinbot/flows"
)

// Sign-up verification: an API call starts a verification of a customer's
// number, the engine sends them an authentication template with a one-time
// code, and the customer's app (or the customer, replying with the code in
// the chat) confirms it. A sign-up form's WhatsApp opt-in wording, carried
// by the verification, is recorded as an opt-in (source signup) once the
// number is confirmed to be theirs.

const (
	// VerificationTTL is how long a code can be confirmed.
	VerificationTTL = 10 * time.Minute
	// VerificationMaxAttempts is how many codes may be tried, the right
	// one included, before the verification locks.
	VerificationMaxAttempts = 5
	// VerificationCooldown is how long after starting a verification the
	// customer must wait before another one starts while it is pending.
	VerificationCooldown = time.Minute
	// VerificationCodeDigits is the length of a code.
	VerificationCodeDigits = 6
)

var (
	// ErrVerificationConfirmed: the verification was already confirmed;
	// a code is good once.
	ErrVerificationConfirmed = errors.New("verification already confirmed")
	// ErrVerificationSuperseded: a newer verification of the customer
	// was started; only the newest one counts.
	ErrVerificationSuperseded = errors.New("verification superseded by a newer one")
	// ErrVerificationExpired: the code's time is up.
	ErrVerificationExpired = errors.New("verification expired")
	// ErrVerificationLocked: too many wrong codes were tried.
	ErrVerificationLocked = errors.New("verification locked after too many attempts")
	// ErrVerificationTooSoon: the customer's previous verification
	// started less than VerificationCooldown ago and is still pending.
	ErrVerificationTooSoon = errors.New("a verification of this customer started too recently")
)

// WrongCodeError reports a code that does not match, and how many more
// may be tried.
type WrongCodeError struct {
	ID           string
	AttemptsLeft int
}

func (e *WrongCodeError) Error() string {
	return fmt.Sprintf("verification %s: wrong code, %d attempts left", e.ID, e.AttemptsLeft)
}

// TooSoonError is ErrVerificationTooSoon with when a new start is allowed.
type TooSoonError struct {
	RetryAt time.Time
}

func (e *TooSoonError) Error() string {
	return fmt.Sprintf("%v: retry at %s", ErrVerificationTooSoon, e.RetryAt.UTC().Format(time.RFC3339))
}
func (e *TooSoonError) Unwrap() error { return ErrVerificationTooSoon }

// VerificationFieldError is an invalid field of a verification request; it
// wraps ErrBadInput.
type VerificationFieldError struct {
	Field, Message string
}

func (e *VerificationFieldError) Error() string { return e.Field + ": " + e.Message }
func (e *VerificationFieldError) Unwrap() error { return ErrBadInput }

// SendRefusedError reports that the guard refused the code's template.
type SendRefusedError struct {
	Reason Reason
}

func (e *SendRefusedError) Error() string {
	return "the guard refused the verification template: " + string(e.Reason)
}

// VerificationOptIn is the WhatsApp opt-in a sign-up form showed with the
// number to verify: recorded (source signup) when the number is confirmed.
type VerificationOptIn struct {
	Topic    flows.Topic `json:"topic"`
	Wording  string      `json:"wording"`
	Language string      `json:"language,omitempty"`
	Where    string      `json:"where,omitempty"` // the form's URL or name
}

// Verification is one sign-up verification of a customer's number. The
// code itself is never kept: only its HMAC-SHA-256 keyed with a salt of its
// own.
type Verification struct {
	ID          string             `json:"id"`
	Business    BusinessID         `json:"business"`
	Customer    CustomerID         `json:"customer"`
	Topic       flows.Topic        `json:"topic"` // the authentication topic whose template carried the code
	CodeHash    string             `json:"-"`     // hex
	Salt        string             `json:"-"`     // hex
	CreatedAt   time.Time          `json:"created_at"`
	ExpiresAt   time.Time          `json:"expires_at"`
	Attempts    int                `json:"attempts"`
	MaxAttempts int                `json:"max_attempts"`
	ConfirmedAt time.Time          `json:"confirmed_at,omitzero"`
	OptIn       *VerificationOptIn `json:"opt_in,omitempty"`
}

// VerificationStatus is what state a verification is in.
type VerificationStatus string

const (
	VerificationPending   VerificationStatus = "pending"
	VerificationConfirmed VerificationStatus = "confirmed"
	VerificationExpired   VerificationStatus = "expired"
	VerificationLocked    VerificationStatus = "locked"
)

// Status is the verification's state at now.
func (v Verification) Status(now time.Time) VerificationStatus {
	switch {
	case !v.ConfirmedAt.IsZero():
		return VerificationConfirmed
	case !now.Before(v.ExpiresAt):
		return VerificationExpired
	case v.Attempts >= v.MaxAttempts:
		return VerificationLocked
	}
	return VerificationPending
}

// Usable returns nil when a code may still be tried at now, else why not:
// ErrVerificationConfirmed, ErrVerificationExpired or
// ErrVerificationLocked, checked in that order. Stores use it.
func (v Verification) Usable(now time.Time) error {
	switch v.Status(now) {
	case VerificationConfirmed:
		return fmt.Errorf("verification %s: %w", v.ID, ErrVerificationConfirmed)
	case VerificationExpired:
		return fmt.Errorf("verification %s: %w", v.ID, ErrVerificationExpired)
	case VerificationLocked:
		return fmt.Errorf("verification %s: %w", v.ID, ErrVerificationLocked)
	}
	return nil
}

// NewVerificationCode returns a uniformly random code of
// VerificationCodeDigits digits (crypto/rand, no modulo bias).
func NewVerificationCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // crypto/rand never fails
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// NewVerification returns a pending verification of the code, salted and
// hashed, created at now.
func NewVerification(business BusinessID, customer CustomerID, topic flows.Topic, code string, now time.Time) Verification {
	id := make([]byte, 12)
	salt := make([]byte, 16)
	_, _ = rand.Read(id)
	_, _ = rand.Read(salt)
	v := Verification{ID: "ver_" + hex.EncodeToString(id), Business: business, Customer: customer, Topic: topic,
		Salt: hex.EncodeToString(salt), CreatedAt: now, ExpiresAt: now.Add(VerificationTTL), MaxAttempts: VerificationMaxAttempts}
	v.CodeHash = v.hash(code)
	return v
}

func (v Verification) hash(code string) string {
	salt, _ := hex.DecodeString(v.Salt)
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("optinbot-verification-v1\x00" + v.ID + "\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// Matches reports, in constant time, whether code is the verification's.
func (v Verification) Matches(code string) bool {
	return subtle.ConstantTimeCompare([]byte(v.hash(code)), []byte(v.CodeHash)) == 1
}

// ParseVerificationCode reads a code as a customer may type it: six digits,
// possibly separated by spaces, dashes or dots, in full-width or
// Arabic-Indic or Devanagari digits. It reports false for anything else.
func ParseVerificationCode(s string) (string, bool) {
	s = width.Narrow.String(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '\u0660' && r <= '\u0669': // Arabic-Indic
			b.WriteRune('0' + r - '\u0660')
		case r >= '\u06F0' && r <= '\u06F9': // Extended Arabic-Indic
			b.WriteRune('0' + r - '\u06F0')
		case r >= '\u0966' && r <= '\u096F': // Devanagari
			b.WriteRune('0' + r - '\u0966')
		case r == '-' || r == '.' || unicode.IsSpace(r):
		default:
			return "", false
		}
		if b.Len() > VerificationCodeDigits {
			return "", false
		}
	}
	if b.Len() != VerificationCodeDigits {
		return "", false
	}
	return b.String(), true
}

// VerificationStore keeps verifications. Expiry, the attempt limit and
// single use are enforced by the store, atomically.
type VerificationStore interface {
	// CreateVerification stores a new verification.
	CreateVerification(ctx context.Context, v Verification) error
	// Verification returns a business's verification, or ErrNotFound.
	Verification(ctx context.Context, business BusinessID, id string) (Verification, error)
	// LatestVerification returns the customer's newest verification, or
	// ErrNotFound.
	LatestVerification(ctx context.Context, business BusinessID, customer CustomerID) (Verification, error)
	// AttemptVerification counts one attempt at now and returns the
	// verification as counted, or, counting nothing, ErrNotFound or the
	// error of Usable (confirmed, expired, locked).
	AttemptVerification(ctx context.Context, business BusinessID, id string, now time.Time) (Verification, error)
	// ConfirmVerification marks the verification confirmed at now, once:
	// a second time fails with ErrVerificationConfirmed.
	ConfirmVerification(ctx context.Context, business BusinessID, id string, now time.Time) error
}

// VerificationStart asks to verify a customer's number.
type VerificationStart struct {
	Business BusinessID
	Customer CustomerID
	// Topic is a topic of category authentication with a template.
	Topic flows.Topic
	// Language, optional, is the template's language.
	Language string
	OptIn    *VerificationOptIn
}

// VerificationResult is a confirmed verification and what became of its
// opt-in.
type VerificationResult struct {
	Verification Verification
	// Consent is the opt-in recorded; nil when the verification carried
	// none or it was refused (Refused says why).
	Consent *ConsentEvent
	Refused *GrantRefusal
	// RefusedDetail explains Refused in words.
	RefusedDetail string
}

// InputVerification is a confirmation of a verification.
const InputVerification InputKind = "verification"

func (s *Service) verificationStore() (VerificationStore, error) {
	if s.verifications == nil {
		return nil, errors.New("the store keeps no verifications")
	}
	return s.verifications, nil
}

// verificationTemplate finds the authentication topic's template.
func verificationTemplate(f *flows.Flow, topic flows.Topic) (flows.Template, error) {
	def, ok := f.Topic(topic)
	if !ok {
		return flows.Template{}, &VerificationFieldError{"topic", fmt.Sprintf("flow %s declares no topic %q", f.Name, topic)}
	}
	if def.Category != flows.CategoryAuthentication {
		return flows.Template{}, &VerificationFieldError{"topic", fmt.Sprintf("topic %q is of category %s, not authentication", topic, def.Category)}
	}
	for _, t := range f.Templates {
		if t.Topic == topic {
			return t, nil
		}
	}
	return flows.Template{}, &VerificationFieldError{"topic", fmt.Sprintf("flow %s declares no template for topic %q", f.Name, topic)}
}

// checkVerificationOptIn checks that a verification's opt-in may grant its
// topic: declared, granted_by signup, and a wording that says WhatsApp,
// names the business and describes the topic.
func checkVerificationOptIn(f *flows.Flow, o *VerificationOptIn) error {
	def, ok := f.Topic(o.Topic)
	if !ok {
		return &VerificationFieldError{"opt_in.topic", fmt.Sprintf("flow %s declares no topic %q", f.Name, o.Topic)}
	}
	if !containsString(def.GrantedBy, string(SourceSignup)) {
		return &VerificationFieldError{"opt_in.topic", fmt.Sprintf("topic %q may not be granted by a sign-up (its granted_by lacks signup)", o.Topic)}
	}
	if gaps := grantWordingGaps(f, ConsentGrant{Topic: o.Topic, Wording: o.Wording}); len(gaps) > 0 {
		return &VerificationFieldError{"opt_in.wording", "the wording " + strings.Join(gaps, ", ")}
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// StartVerification starts verifying a customer's number: it stores a new
// verification and sends its code in the topic's authentication template,
// through the guard and the outbox. Only one start per customer per
// VerificationCooldown while the last one is pending (*TooSoonError); the
// newest verification supersedes the older ones.
func (s *Service) StartVerification(ctx context.Context, r VerificationStart) (Verification, error) {
	vs, err := s.verificationStore()
	if err != nil {
		return Verification{}, fmt.Errorf("start verification: %w", err)
	}
	biz, err := s.resolve(r.Business, "")
	if err != nil {
		return Verification{}, fmt.Errorf("start verification: %w", err)
	}
	if !r.Customer.wellFormed() {
		return Verification{}, &VerificationFieldError{"customer", "neither an E.164 number nor a WhatsApp user id"}
	}
	f := biz.Machine.Flow
	tpl, err := verificationTemplate(f, r.Topic)
	if err != nil {
		return Verification{}, err
	}
	if r.OptIn != nil {
		if err := checkVerificationOptIn(f, r.OptIn); err != nil {
			return Verification{}, err
		}
	}
	unlock := s.lock(biz.ID, r.Customer)
	defer unlock()
	now := s.clock()
	last, err := vs.LatestVerification(ctx, biz.ID, r.Customer)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return Verification{}, fmt.Errorf("start verification of %s: %w", r.Customer.Redacted(), err)
	case last.Status(now) == VerificationPending && now.Before(last.CreatedAt.Add(VerificationCooldown)):
		return Verification{}, &TooSoonError{RetryAt: last.CreatedAt.Add(VerificationCooldown)}
	}
	code := s.newCode()
	v := NewVerification(biz.ID, r.Customer, r.Topic, code, now)
	v.OptIn = r.OptIn
	send := SendRequest{ID: "verification-" + v.ID, Business: biz.ID, Sender: biz.DefaultSender, Customer: r.Customer,
		Kind: KindTemplate, Template: tpl.Name, Language: r.Language, Params: map[string]string{"1": code}}
	var refused *SendRefusedError
	// The code's send and the verification in one turn, under the
	// customer's lock: a verification is stored only when the guard lets
	// its code go, and only then does it hold back another start.
	_, err = s.runLocked(ctx, biz, r.Customer, InputSendRequest, DedupID(InputSendRequest, "", r.Customer, send.ID),
		func(sess *Session, at time.Time) (Turn, error) {
			turn, err := biz.HandleSendRequest(sess, send, at)
			if err != nil {
				return Turn{}, err
			}
			for _, e := range turn.Effects {
				if e.Kind == EffectRefused && e.Refusal != nil {
					refused = &SendRefusedError{Reason: e.Refusal.Reason}
					return turn, nil // the refusal is recorded like any other
				}
			}
			if err := vs.CreateVerification(ctx, v); err != nil {
				return Turn{}, fmt.Errorf("start verification of %s: %w", r.Customer.Redacted(), err)
			}
			return turn, nil
		})
	if err != nil {
		return Verification{}, fmt.Errorf("start verification %s: send the code: %w", v.ID, err)
	}
	if refused != nil {
		return Verification{}, refused
	}
	s.log.Info().Str("business", string(biz.ID)).Str("customer", r.Customer.Redacted()).Str("verification", v.ID).
		Bool("opt_in", v.OptIn != nil).Msg("verification started")
	return v, nil
}

// Verification returns a customer's verification, or ErrNotFound.
func (s *Service) Verification(ctx context.Context, business BusinessID, customer CustomerID, id string) (Verification, error) {
	vs, err := s.verificationStore()
	if err != nil {
		return Verification{}, err
	}
	v, err := vs.Verification(ctx, business, id)
	if err != nil {
		return Verification{}, fmt.Errorf("verification %s: %w", id, err)
	}
	if v.Customer != customer {
		return Verification{}, fmt.Errorf("verification %s of customer %s: %w", id, customer.Redacted(), ErrNotFound)
	}
	return v, nil
}

// ConfirmVerification tries a code. It fails with ErrNotFound,
// ErrVerificationConfirmed (a replay), ErrVerificationSuperseded,
// ErrVerificationExpired, ErrVerificationLocked, a *WrongCodeError or a
// *VerificationFieldError (not a code at all, which counts no attempt).
// Confirmed, it records the verification's opt-in, if any.
func (s *Service) ConfirmVerification(ctx context.Context, business BusinessID, customer CustomerID, id, code string) (VerificationResult, error) {
	vs, err := s.verificationStore()
	if err != nil {
		return VerificationResult{}, fmt.Errorf("confirm verification %s: %w", id, err)
	}
	biz, err := s.resolve(business, "")
	if err != nil {
		return VerificationResult{}, fmt.Errorf("confirm verification %s: %w", id, err)
	}
	code, ok := ParseVerificationCode(code)
	if !ok {
		return VerificationResult{}, &VerificationFieldError{"code", fmt.Sprintf("want %d digits", VerificationCodeDigits)}
	}
	if _, err := s.Verification(ctx, biz.ID, customer, id); err != nil {
		return VerificationResult{}, fmt.Errorf("confirm: %w", err)
	}
	var res VerificationResult
	_, err = s.run(ctx, biz, customer, InputVerification, "", func(sess *Session, now time.Time) (Turn, error) {
		key := "verification-" + id
		b := newTurn(biz, sess, "", key, "", now)
		var err error
		res, err = s.confirm(ctx, vs, b, id, code)
		if err != nil {
			return Turn{}, err
		}
		return b.done(), nil
	})
	if err != nil {
		return VerificationResult{}, err
	}
	return res, nil
}

// confirm counts an attempt with the code and, when it is right, confirms
// the verification and records its opt-in in the turn b builds.
func (s *Service) confirm(ctx context.Context, vs VerificationStore, b *turnBuilder, id, code string) (VerificationResult, error) {
	biz, now := b.biz, b.now
	latest, err := vs.LatestVerification(ctx, biz.ID, b.sess.Customer)
	if err != nil {
		return VerificationResult{}, fmt.Errorf("confirm verification %s: %w", id, err)
	}
	if latest.ID != id {
		return VerificationResult{}, fmt.Errorf("confirm verification %s: %w", id, ErrVerificationSuperseded)
	}
	v, err := vs.AttemptVerification(ctx, biz.ID, id, now)
	if err != nil {
		return VerificationResult{}, fmt.Errorf("confirm: %w", err)
	}
	if !v.Matches(code) {
		return VerificationResult{}, &WrongCodeError{ID: id, AttemptsLeft: v.MaxAttempts - v.Attempts}
	}
	if err := vs.ConfirmVerification(ctx, biz.ID, id, now); err != nil {
		return VerificationResult{}, fmt.Errorf("confirm: %w", err)
	}
	v.ConfirmedAt = now
	res := VerificationResult{Verification: v}
	if o := v.OptIn; o != nil {
		g := ConsentGrant{ID: "verification-" + id, Business: biz.ID, Customer: v.Customer, Topic: o.Topic,
			Source: SourceSignup, Wording: o.Wording, At: v.CreatedAt}
		if reason, why := biz.refuseGrant(b.sess, g); reason != "" {
			res.Refused = &GrantRefusal{ID: g.ID, Topic: g.Topic, Source: g.Source, Reason: reason}
			res.RefusedDetail = why
			e := b.effect(EffectNotice)
			e.Notice = &Notice{Kind: NoticeGrantRefused, At: now, Detail: why, Grant: res.Refused}
			b.replies = append(b.replies, e)
		} else {
			trigger := "verified sign-up " + v.ID
			if o.Where != "" {
				trigger += " at " + o.Where
			}
			def, _ := biz.Machine.Flow.Topic(o.Topic)
			b.recordConsent(ConsentEvent{Topic: o.Topic, Category: def.Category, Status: OptedIn, Source: SourceSignup,
				Trigger: trigger, InboundID: v.ID, Prompt: o.Wording, Language: o.Language,
				FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version})
			b.turn.Conversation.Stop = nil // a newer, explicit opt-in supersedes the customer's STOP
			ev := b.turn.Consent[len(b.turn.Consent)-1]
			res.Consent = &ev
		}
	}
	s.log.Info().Str("business", string(biz.ID)).Str("customer", b.sess.Customer.Redacted()).Str("verification", id).
		Bool("consent", res.Consent != nil).Msg("verification confirmed")
	return res, nil
}

// confirmInChat confirms the customer's pending verification with the code
// they wrote in the chat, in the inbound message's turn. It reports false,
// changing nothing, when the message is no code or no verification is
// pending; a wrong code counts an attempt and the message goes on to the
// flow.
func (s *Service) confirmInChat(ctx context.Context, biz *Business, sess *Session, in Inbound, now time.Time) (Turn, bool, error) {
	if s.verifications == nil || in.ButtonID != "" || in.Reaction || in.Unsupported {
		return Turn{}, false, nil
	}
	code, ok := ParseVerificationCode(in.Text)
	if !ok {
		return Turn{}, false, nil
	}
	v, err := s.verifications.LatestVerification(ctx, biz.ID, sess.Customer)
	if errors.Is(err, ErrNotFound) {
		return Turn{}, false, nil
	}
	if err != nil {
		return Turn{}, false, fmt.Errorf("inbound message %q: find pending verification: %w", in.ID, err)
	}
	if v.Status(now) != VerificationPending {
		return Turn{}, false, nil
	}
	// The message's own turn, as for a reaction: it opens the window and
	// answers no question of the flow.
	in.Reaction = true
	cp := *sess // a wrong code leaves the session as loaded for the flow's turn
	turn := biz.HandleInbound(nil, &cp, in, now)
	b := newTurn(biz, &cp, turn.DedupID, turn.DedupID, in.Sender, now)
	b.turn = turn
	b.providerAt = in.Timestamp
	cp.Conversation = turn.Conversation
	_, err = s.confirm(ctx, s.verifications, b, v.ID, code)
	var wrong *WrongCodeError
	switch {
	case errors.As(err, &wrong), errors.Is(err, ErrVerificationExpired), errors.Is(err, ErrVerificationLocked),
		errors.Is(err, ErrVerificationConfirmed):
		return Turn{}, false, nil
	case err != nil:
		return Turn{}, false, fmt.Errorf("inbound message %q: %w", in.ID, err)
	}
	b.reply(in.ID, flows.Prompt{Text: VerifiedInChatText})
	return b.done(), true, nil
}

// VerifiedInChatText answers a code the customer confirmed in the chat.
const VerifiedInChatText = "Thanks, your number is verified."
