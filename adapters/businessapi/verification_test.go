package businessapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/businessapi"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

const signupWording = "Send me updates about your orders from Wonka Outfitters on WhatsApp. Reply STOP to opt out."

func (e *env) startVerification(c bot.CustomerID, body string) response {
	e.t.Helper()
	return e.do("POST", "/v1/businesses/wonka/customers/"+string(c)+"/verifications", e.wonkaKey, strings.NewReader(body))
}

func (e *env) confirmVerification(c bot.CustomerID, id, code string) response {
	e.t.Helper()
	return e.do("POST", "/v1/businesses/wonka/customers/"+string(c)+"/verifications/"+id+"/confirm", e.wonkaKey,
		strings.NewReader(`{"code":"`+code+`"}`))
}

func (e *env) verification(c bot.CustomerID, id string) businessapi.VerificationView {
	e.t.Helper()
	res := e.do("GET", "/v1/businesses/wonka/customers/"+string(c)+"/verifications/"+id, e.wonkaKey, nil)
	var v businessapi.VerificationView
	if res.status != http.StatusOK || json.Unmarshal(res.body, &v) != nil {
		e.t.Fatalf("GET verification %s: status %d %s", id, res.status, res.body)
	}
	return v
}

// started starts a verification and returns its id.
func (e *env) started(c bot.CustomerID, body string) string {
	e.t.Helper()
	res := e.startVerification(c, body)
	var v businessapi.VerificationView
	if res.status != http.StatusAccepted || json.Unmarshal(res.body, &v) != nil || v.ID == "" {
		e.t.Fatalf("start verification: status %d %s, want 202 with an id", res.status, res.body)
	}
	return v.ID
}

func wantProblem(t *testing.T, what string, res response, status int, code string) businessapi.Problem {
	t.Helper()
	if res.status != status {
		t.Fatalf("%s: status %d %s, want %d %s", what, res.status, res.body, status, code)
	}
	p := res.problem(t)
	if p.Code != code {
		t.Errorf("%s: code %q, want %q (%s)", what, p.Code, code, res.body)
	}
	return p
}

// The code goes out in the authentication template, through the outbox,
// to a customer who never opted in; the confirmation records the sign-up
// form's opt-in with the verification as evidence.
func TestVerificationSendsCodeAndRecordsOptIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	id := e.started(alice, `{"topic":"signin_codes","opt_in":{"topic":"order_updates","wording":"`+signupWording+`","language":"en","where":"https://wonka.example/signup"}}`)
	effects, err := e.store.PendingEffects(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var sent *bot.Message
	for _, eff := range effects {
		if eff.Kind == bot.EffectMessage && eff.Message != nil && eff.Message.Template == "verification_code" && eff.Customer == alice {
			sent = eff.Message
		}
		if eff.Kind == bot.EffectRefused {
			t.Errorf("refused: %+v", eff.Refusal)
		}
	}
	if sent == nil || sent.Params["1"] != testCode || sent.Category != flows.CategoryAuthentication {
		t.Fatalf("outbox %+v: want template verification_code, category authentication, with the code", sent)
	}
	stored, err := e.store.Verification(t.Context(), "wonka", id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.CodeHash == testCode || !stored.Matches(testCode) || stored.Matches("000000") {
		t.Errorf("stored verification %+v: want the code hashed", stored)
	}
	if v := e.verification(alice, id); v.Status != bot.VerificationPending || v.AttemptsLeft != 5 || !v.ExpiresAt.Equal(e.now.Add(10*time.Minute)) {
		t.Errorf("verification %+v: want pending, 5 attempts, expiring in 10 minutes", v)
	}
	res := e.confirmVerification(alice, id, testCode)
	var c businessapi.Confirmed
	if res.status != http.StatusOK || json.Unmarshal(res.body, &c) != nil {
		t.Fatalf("confirm: status %d %s", res.status, res.body)
	}
	if !c.Confirmed || !c.ConsentRecorded || c.Consent == nil {
		t.Fatalf("confirm: %s, want confirmed with the consent recorded", res.body)
	}
	ev := c.Consent
	if ev.Source != bot.SourceSignup || ev.Topic != "order_updates" || ev.Status != bot.OptedIn || ev.InboundID != id ||
		ev.Prompt != signupWording || ev.Language != "en" || !strings.Contains(ev.Trigger, id) ||
		!strings.Contains(ev.Trigger, "https://wonka.example/signup") {
		t.Errorf("consent event %+v: want the sign-up's evidence", ev)
	}
	history, err := e.store.ConsentEvents(t.Context(), "wonka", alice)
	if err != nil || len(history) != 1 || history[0].Source != bot.SourceSignup || history[0].Hash == "" {
		t.Errorf("ledger %+v, %v: want the sign-up opt-in, chained", history, err)
	}
	if v := e.verification(alice, id); v.Status != bot.VerificationConfirmed || v.ConfirmedAt.IsZero() {
		t.Errorf("after confirming: %+v", v)
	}
	// Replay.
	wantProblem(t, "second confirm", e.confirmVerification(alice, id, testCode), http.StatusConflict, "already_confirmed")
}

func TestVerificationWithoutOptInRecordsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	id := e.started(alice, `{"topic":"signin_codes"}`)
	res := e.confirmVerification(alice, id, "2-7-1-8-2-8")
	if res.status != http.StatusOK || !strings.Contains(string(res.body), `"consent_recorded":false`) {
		t.Fatalf("confirm: %d %s", res.status, res.body)
	}
	if history, _ := e.store.ConsentEvents(t.Context(), "wonka", alice); len(history) != 0 {
		t.Errorf("ledger %+v: want nothing recorded", history)
	}
}

func TestVerificationExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	id := e.started(alice, `{"topic":"signin_codes"}`)
	e.now = e.now.Add(10 * time.Minute)
	wantProblem(t, "confirm after 10 minutes", e.confirmVerification(alice, id, testCode), http.StatusGone, "expired")
	if v := e.verification(alice, id); v.Status != bot.VerificationExpired {
		t.Errorf("status %s, want expired", v.Status)
	}
	// An expired verification does not hold back a new one.
	e.started(alice, `{"topic":"signin_codes"}`)
}

func TestVerificationAttemptLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	id := e.started(alice, `{"topic":"signin_codes"}`)
	for left := 4; left >= 0; left-- {
		res := e.confirmVerification(alice, id, "123456")
		wantProblem(t, "wrong code", res, http.StatusUnprocessableEntity, "wrong_code")
		var body struct {
			AttemptsLeft int `json:"attempts_left"`
		}
		if json.Unmarshal(res.body, &body) != nil || body.AttemptsLeft != left {
			t.Errorf("wrong code: %s, want %d attempts left", res.body, left)
		}
	}
	wantProblem(t, "the right code after 5 wrong ones", e.confirmVerification(alice, id, testCode), http.StatusLocked, "locked")
	if v := e.verification(alice, id); v.Status != bot.VerificationLocked || v.AttemptsLeft != 0 {
		t.Errorf("verification %+v, want locked", v)
	}
}

func TestVerificationErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	base := "/v1/businesses/wonka/customers/"
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		code         string
		field        string
	}{
		{"no topic", "POST", base + "+14155550101/verifications", `{}`, 400, "invalid_request", "topic"},
		{"unknown topic", "POST", base + "+14155550101/verifications", `{"topic":"nope"}`, 400, "invalid_request", "topic"},
		{"not authentication", "POST", base + "+14155550101/verifications", `{"topic":"order_updates"}`, 400, "invalid_request", "topic"},
		{"opt-in without wording", "POST", base + "+14155550101/verifications", `{"topic":"signin_codes","opt_in":{"topic":"order_updates"}}`, 400, "invalid_request", "opt_in.wording"},
		{"opt-in wording without WhatsApp", "POST", base + "+14155550101/verifications",
			`{"topic":"signin_codes","opt_in":{"topic":"order_updates","wording":"Send me updates about your orders from Wonka Outfitters by SMS"}}`, 400, "invalid_request", "opt_in.wording"},
		{"opt-in topic not granted by signup", "POST", base + "+14155550101/verifications",
			`{"topic":"signin_codes","opt_in":{"topic":"signin_codes","wording":"` + signupWording + `"}}`, 400, "invalid_request", "opt_in.topic"},
		{"bad customer", "POST", base + "nobody/verifications", `{"topic":"signin_codes"}`, 400, "invalid_request", "customer"},
		{"unknown field", "POST", base + "+14155550101/verifications", `{"topic":"signin_codes","x":1}`, 400, "invalid_json", ""},
		{"unknown verification", "GET", base + "+14155550101/verifications/ver_nope", "", 404, "no_verification", ""},
		{"confirm unknown verification", "POST", base + "+14155550101/verifications/ver_nope/confirm", `{"code":"271828"}`, 404, "no_verification", ""},
		{"code not digits", "POST", base + "+14155550101/verifications/ver_nope/confirm", `{"code":"abc"}`, 400, "invalid_request", "code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.body == "" {
				res = e.do(tc.method, tc.path, e.wonkaKey, nil)
			} else {
				res = e.do(tc.method, tc.path, e.wonkaKey, strings.NewReader(tc.body))
			}
			p := wantProblem(t, tc.name, res, tc.status, tc.code)
			if tc.field != "" && (len(p.Fields) != 1 || p.Fields[0].Field != tc.field) {
				t.Errorf("fields %+v, want %s", p.Fields, tc.field)
			}
		})
	}
	// A business whose flow has no authentication topic.
	res := e.do("POST", "/v1/businesses/acme/customers/+14155550101/verifications", e.acmeKey, strings.NewReader(`{"topic":"order_updates"}`))
	wantProblem(t, "acme", res, http.StatusBadRequest, "invalid_request")
	// Another customer's verification is not found.
	id := e.started(carol, `{"topic":"signin_codes"}`)
	wantProblem(t, "another customer's", e.confirmVerification(bob, id, testCode), http.StatusNotFound, "no_verification")
	res = e.do("GET", base+string(bob)+"/verifications/"+id, e.wonkaKey, nil)
	wantProblem(t, "another customer's GET", res, http.StatusNotFound, "no_verification")
}

func TestVerificationRateLimitAndSupersede(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	first := e.started(alice, `{"topic":"signin_codes"}`)
	e.now = e.now.Add(30 * time.Second)
	res := e.startVerification(alice, `{"topic":"signin_codes"}`)
	wantProblem(t, "second start within a minute", res, http.StatusTooManyRequests, "too_soon")
	if got := res.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	e.now = e.now.Add(30 * time.Second)
	second := e.started(alice, `{"topic":"signin_codes"}`)
	wantProblem(t, "the older verification", e.confirmVerification(alice, first, testCode), http.StatusConflict, "superseded")
	if res := e.confirmVerification(alice, second, testCode); res.status != http.StatusOK {
		t.Errorf("the newer verification: %d %s", res.status, res.body)
	}
	// Confirmed: a new start need not wait.
	e.started(alice, `{"topic":"signin_codes"}`)
}

// A customer's STOP holds back the code: no template after a STOP.
func TestVerificationRefusedAfterStop(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("wonka", bob, "STOP")
	wantProblem(t, "after STOP", e.startVerification(bob, `{"topic":"signin_codes"}`), http.StatusConflict, "refused")
}

// The customer may answer with the code in the chat, typed their way.
func TestVerificationConfirmedInChat(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	id := e.started(carol, `{"topic":"signin_codes","opt_in":{"topic":"order_updates","wording":"`+signupWording+`","where":"signup form"}}`)
	e.say("wonka", carol, "111 111") // wrong: counts a try, goes to the flow
	if v := e.verification(carol, id); v.Status != bot.VerificationPending || v.AttemptsLeft != 4 {
		t.Fatalf("after a wrong code in the chat: %+v", v)
	}
	e.say("wonka", carol, "２７１ ８２８")
	if v := e.verification(carol, id); v.Status != bot.VerificationConfirmed {
		t.Fatalf("after the code in the chat: %+v", v)
	}
	history, err := e.store.ConsentEvents(t.Context(), "wonka", carol)
	if err != nil || len(history) != 1 || history[0].Source != bot.SourceSignup || history[0].InboundID != id {
		t.Errorf("ledger %+v, %v: want the sign-up opt-in", history, err)
	}
	// The code again in the chat is just a message now.
	e.say("wonka", carol, "271828")
	if history, _ := e.store.ConsentEvents(t.Context(), "wonka", carol); len(history) != 1 {
		t.Errorf("ledger after the code again: %d events", len(history))
	}
}
