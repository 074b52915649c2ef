package bot_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

// signupFlow sends verification codes (an authentication topic) and lets a
// verified sign-up grant order updates.
const signupFlow = `name: signup
business: Acme Outfitters
topics:
  orders:
    category: utility
    description: updates about your orders
    granted_by: [signup]
  codes:
    category: authentication
    description: codes to verify your phone number
templates:
  - {name: shipped, topic: orders}
  - {name: verification_code, topic: codes}
states:
  ask:
    prompt: "Would you like updates about your orders from Acme Outfitters on WhatsApp? Reply YES, or STOP at any time to opt out."
    on:
      - keywords: ["yes"]
        opt_in: orders
        goto: done
      - else: true
        goto: ask
  done:
    prompt: All set.
`

func signupHarness(t *testing.T) *harness {
	t.Helper()
	f, err := flows.Load("signup.yaml", []byte(signupFlow))
	if err != nil {
		t.Fatal(err)
	}
	return newHarness(t, f, []byte(signupFlow), bot.Caps{TemplatesPerDay: 100})
}

var signupOptIn = &bot.VerificationOptIn{Topic: "orders", Language: "en", Where: "https://acme.example/signup",
	Wording: "Send me updates about your orders from Acme Outfitters on WhatsApp."}

// sentCode is the code of the latest verification template in the outbox.
func (h *harness) sentCode(c bot.CustomerID) string {
	h.t.Helper()
	effects, err := h.store.PendingEffects(context.Background(), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	code := ""
	for _, e := range effects {
		if e.Kind == bot.EffectMessage && e.Customer == c && e.Message.Template == "verification_code" {
			code = e.Message.Params["1"]
		}
	}
	if code == "" {
		h.t.Fatalf("no verification code was sent to %s", c)
	}
	return code
}

func (h *harness) attempts(id string) int {
	h.t.Helper()
	v, err := h.store.Verification(context.Background(), "acme", id)
	if err != nil {
		h.t.Fatal(err)
	}
	return v.Attempts
}

func TestVerificationInChat(t *testing.T) {
	h := signupHarness(t)
	ctx := context.Background()
	v, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes", OptIn: signupOptIn})
	if err != nil {
		t.Fatal(err)
	}
	code := h.sentCode(alice)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// A wrong code counts one attempt, however often it is redelivered,
	// and goes on to the flow.
	in := bot.Inbound{ID: h.nextID(), Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: wrong}
	if effects := h.inbound(in); len(effects) == 0 {
		t.Error("a wrong code got no answer from the flow")
	}
	h.inbound(in)
	if n := h.attempts(v.ID); n != 1 {
		t.Errorf("attempts after a redelivered wrong code: %d, want 1", n)
	}
	// The code, full-width with a space, confirms.
	spaced := []rune(code[:3] + " " + code[3:])
	for i, r := range spaced {
		if r >= '0' && r <= '9' {
			spaced[i] = r - '0' + '０'
		}
	}
	in = bot.Inbound{ID: h.nextID(), Sender: "15550001111", Customer: alice, Timestamp: h.now, Text: string(spaced)}
	effects := h.inbound(in)
	var consent *bot.ConsentEvent
	replied := false
	for _, e := range effects {
		if e.Kind == bot.EffectConsent {
			consent = e.Consent
		}
		if e.Kind == bot.EffectMessage && e.Message.Text == bot.VerifiedInChatText && e.InReplyTo == in.ID {
			replied = true
		}
	}
	if consent == nil || consent.Source != bot.SourceSignup || consent.Topic != "orders" || consent.InboundID != v.ID ||
		consent.Prompt != signupOptIn.Wording || consent.Language != "en" || !strings.Contains(consent.Trigger, signupOptIn.Where) {
		t.Errorf("consent %+v: want the sign-up opt-in with the verification as evidence", consent)
	}
	if !replied {
		t.Errorf("effects %+v: want the thanks", effects)
	}
	if h.consent(alice)["orders"] != bot.OptedIn {
		t.Errorf("consent %v", h.consent(alice))
	}
	// Redelivered: nothing more.
	if effects := h.inbound(in); len(effects) != 0 {
		t.Errorf("redelivered code: %+v", effects)
	}
	if _, err := h.svc.ConfirmVerification(ctx, "acme", alice, v.ID, code); !errors.Is(err, bot.ErrVerificationConfirmed) {
		t.Errorf("confirm after the chat did: %v, want ErrVerificationConfirmed", err)
	}
	if n := len(h.ledger(alice)); n != 1 {
		t.Errorf("ledger holds %d events, want the one opt-in", n)
	}
}

// A code in the chat with no verification pending is an ordinary message.
func TestVerificationCodeWithoutPending(t *testing.T) {
	h := signupHarness(t)
	effects := h.say(alice, "123456")
	if len(effects) == 0 || effects[0].Kind != bot.EffectMessage || effects[0].Message.Text == bot.VerifiedInChatText {
		t.Errorf("effects %+v: want the flow's question", effects)
	}
}

// The opt-in is checked again when the code is confirmed: a stop the
// provider reported in between holds, and the verification still counts.
func TestVerificationOptInRefusedAtConfirm(t *testing.T) {
	h := signupHarness(t)
	ctx := context.Background()
	v, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes", OptIn: signupOptIn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.HandleProviderOptOut(ctx, bot.ProviderOptOut{ID: "p1", Business: "acme", Customer: alice, At: h.now,
		Topics: []flows.Topic{"orders"}, Reason: "131050"}); err != nil {
		t.Fatal(err)
	}
	res, err := h.svc.ConfirmVerification(ctx, "acme", alice, v.ID, h.sentCode(alice))
	if err != nil {
		t.Fatal(err)
	}
	if res.Consent != nil || res.Refused == nil || res.Refused.Reason != bot.GrantProviderBlocked || res.RefusedDetail == "" {
		t.Errorf("result %+v: want the opt-in refused as provider_blocked", res)
	}
	if res.Verification.ConfirmedAt.IsZero() {
		t.Error("the verification is not confirmed")
	}
}

func TestVerificationStartErrors(t *testing.T) {
	h := signupHarness(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		r     bot.VerificationStart
		field string
	}{
		{"unknown topic", bot.VerificationStart{Topic: "nope"}, "topic"},
		{"not authentication", bot.VerificationStart{Topic: "orders"}, "topic"},
		{"bad customer", bot.VerificationStart{Customer: "nobody", Topic: "codes"}, "customer"},
		{"opt-in topic unknown", bot.VerificationStart{Topic: "codes", OptIn: &bot.VerificationOptIn{Topic: "nope", Wording: signupOptIn.Wording}}, "opt_in.topic"},
		{"opt-in topic not granted by signup", bot.VerificationStart{Topic: "codes", OptIn: &bot.VerificationOptIn{Topic: "codes", Wording: signupOptIn.Wording}}, "opt_in.topic"},
		{"opt-in wording without the business", bot.VerificationStart{Topic: "codes", OptIn: &bot.VerificationOptIn{Topic: "orders", Wording: "Order updates on WhatsApp"}}, "opt_in.wording"},
		{"opt-in wording empty", bot.VerificationStart{Topic: "codes", OptIn: &bot.VerificationOptIn{Topic: "orders"}}, "opt_in.wording"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.Business = "acme"
			if tc.r.Customer == "" {
				tc.r.Customer = bob
			}
			_, err := h.svc.StartVerification(ctx, tc.r)
			var fe *bot.VerificationFieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !errors.Is(err, bot.ErrBadInput) {
				t.Errorf("err %v, want a field error for %s", err, tc.field)
			}
		})
	}
	if _, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "nope", Customer: bob, Topic: "codes"}); !errors.Is(err, bot.ErrBadInput) {
		t.Errorf("unknown business: %v", err)
	}
}

// Logs carry neither the code nor the customer's number.
func TestVerificationLogsNoSecrets(t *testing.T) {
	f, err := flows.Load("signup.yaml", []byte(signupFlow))
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st := memstore.New()
	now := t0
	svc, err := bot.NewService(context.Background(), bot.ServiceConfig{Store: st, Clock: func() time.Time { return now },
		Logger: zerolog.New(&logs).Level(zerolog.InfoLevel), VerificationCode: func() string { return "493817" }},
		[]bot.BusinessConfig{{ID: "acme", Flow: f, Senders: []string{"15550001111"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes", OptIn: signupOptIn})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ConfirmVerification(ctx, "acme", alice, v.ID, "493810"); err == nil {
		t.Fatal("a wrong code confirmed")
	}
	if _, err := svc.ConfirmVerification(ctx, "acme", alice, v.ID, "493817"); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "verification confirmed") {
		t.Fatalf("no log of the confirmation:\n%s", out)
	}
	for _, secret := range []string{"493817", "493810", strings.TrimPrefix(string(alice), "+"), signupOptIn.Wording} {
		if strings.Contains(out, secret) {
			t.Errorf("the logs carry %q:\n%s", secret, out)
		}
	}
}

// A code the guard holds back stores no verification, so it holds back no
// later start either.
func TestVerificationRefusedStoresNothing(t *testing.T) {
	h := signupHarness(t)
	ctx := context.Background()
	h.say(alice, "STOP")
	_, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes"})
	var refused *bot.SendRefusedError
	if !errors.As(err, &refused) || refused.Reason != bot.ReasonOptedOut {
		t.Fatalf("start after STOP: %v, want refused opted_out", err)
	}
	if _, err := h.store.LatestVerification(ctx, "acme", alice); !errors.Is(err, bot.ErrNotFound) {
		t.Errorf("a refused start stored a verification: %v", err)
	}
	h.say(alice, "hi")
	h.say(alice, "yes") // an opt-in in the chat lifts the STOP
	if _, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes"}); err != nil {
		t.Errorf("start right after opting in again: %v", err)
	}
	if _, err := h.svc.StartVerification(ctx, bot.VerificationStart{Business: "acme", Customer: alice, Topic: "codes"}); !errors.Is(err, bot.ErrVerificationTooSoon) {
		t.Errorf("a second start at once: %v, want ErrVerificationTooSoon", err)
	}
}
