package businessapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// StartVerification is the body of POST
// /v1/businesses/{business}/customers/{customer}/verifications.
type StartVerification struct {
	// Topic is a topic of category authentication whose template carries
	// the code.
	Topic string `json:"topic"`
	// Language, optional, is the template's language.
	Language string `json:"language,omitempty"`
	// OptIn, optional, is the WhatsApp opt-in the sign-up form showed:
	// recorded (source signup) once the number is confirmed.
	OptIn *SignupOptIn `json:"opt_in,omitempty"`
}

// SignupOptIn is a sign-up form's WhatsApp opt-in.
type SignupOptIn struct {
	Topic    string `json:"topic"`
	Wording  string `json:"wording"`
	Language string `json:"language,omitempty"`
	Where    string `json:"where,omitempty"`
}

// VerificationView is a verification as the API shows it: never its code.
type VerificationView struct {
	ID           string                 `json:"id"`
	Customer     bot.CustomerID         `json:"customer"`
	Topic        flows.Topic            `json:"topic"`
	Status       bot.VerificationStatus `json:"status"`
	CreatedAt    time.Time              `json:"created_at"`
	ExpiresAt    time.Time              `json:"expires_at"`
	AttemptsLeft int                    `json:"attempts_left"`
	ConfirmedAt  time.Time              `json:"confirmed_at,omitzero"`
	OptIn        *bot.VerificationOptIn `json:"opt_in,omitempty"`
}

func verificationView(v bot.Verification, now time.Time) VerificationView {
	return VerificationView{ID: v.ID, Customer: v.Customer, Topic: v.Topic, Status: v.Status(now), CreatedAt: v.CreatedAt,
		ExpiresAt: v.ExpiresAt, AttemptsLeft: max(0, v.MaxAttempts-v.Attempts), ConfirmedAt: v.ConfirmedAt, OptIn: v.OptIn}
}

// ConfirmVerification is the body of POST …/verifications/{id}/confirm.
type ConfirmVerification struct {
	Code string `json:"code"`
}

// Confirmed answers a confirmed verification.
type Confirmed struct {
	ID        string `json:"id"`
	Confirmed bool   `json:"confirmed"`
	// ConsentRecorded is true when the verification's opt-in was recorded;
	// Consent is then its ledger event.
	ConsentRecorded bool              `json:"consent_recorded"`
	Consent         *bot.ConsentEvent `json:"consent,omitempty"`
	// ConsentRefused says why the opt-in was not recorded.
	ConsentRefused *bot.GrantRefusal `json:"consent_refused,omitempty"`
	Detail         string            `json:"detail,omitempty"`
}

func (r *request) customer(w http.ResponseWriter) (bot.CustomerID, bool) {
	customer, err := bot.ParseCustomerID(r.PathValue("customer"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the customer in the path is not valid",
			FieldError{Field: "customer", Message: err.Error()})
		return "", false
	}
	return customer, true
}

func (s *Server) startVerification(w http.ResponseWriter, r *request) {
	customer, ok := r.customer(w)
	if !ok {
		return
	}
	var req StartVerification
	if !decodeBody(w, r, &req) {
		return
	}
	var bad fieldErrors
	if strings.TrimSpace(req.Topic) == "" {
		bad.add("topic", "required: a topic of category authentication")
	}
	var optIn *bot.VerificationOptIn
	if o := req.OptIn; o != nil {
		if strings.TrimSpace(o.Topic) == "" {
			bad.add("opt_in.topic", "required: the topic the sign-up form's opt-in grants")
		}
		if strings.TrimSpace(o.Wording) == "" {
			bad.add("opt_in.wording", "required: the exact opt-in text the form showed")
		}
		optIn = &bot.VerificationOptIn{Topic: flows.Topic(o.Topic), Wording: o.Wording, Language: o.Language, Where: o.Where}
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the verification request is not valid", bad...)
		return
	}
	v, err := s.cfg.Engine.StartVerification(r.Context(), bot.VerificationStart{Business: r.biz.ID, Customer: customer,
		Topic: flows.Topic(req.Topic), Language: req.Language, OptIn: optIn})
	if s.verificationError(w, r, customer, "", err) {
		return
	}
	writeJSON(w, http.StatusAccepted, verificationView(v, s.cfg.Clock()))
}

func (s *Server) getVerification(w http.ResponseWriter, r *request) {
	customer, ok := r.customer(w)
	if !ok {
		return
	}
	id := r.PathValue("id")
	v, err := s.cfg.Engine.Verification(r.Context(), r.biz.ID, customer, id)
	if s.verificationError(w, r, customer, id, err) {
		return
	}
	writeJSON(w, http.StatusOK, verificationView(v, s.cfg.Clock()))
}

func (s *Server) confirmVerification(w http.ResponseWriter, r *request) {
	customer, ok := r.customer(w)
	if !ok {
		return
	}
	var req ConfirmVerification
	if !decodeBody(w, r, &req) {
		return
	}
	id := r.PathValue("id")
	res, err := s.cfg.Engine.ConfirmVerification(r.Context(), r.biz.ID, customer, id, req.Code)
	if s.verificationError(w, r, customer, id, err) {
		return
	}
	writeJSON(w, http.StatusOK, Confirmed{ID: id, Confirmed: true, ConsentRecorded: res.Consent != nil, Consent: res.Consent,
		ConsentRefused: res.Refused, Detail: res.RefusedDetail})
}

// verificationError writes the problem an engine error is, and reports
// whether there was one.
func (s *Server) verificationError(w http.ResponseWriter, r *request, customer bot.CustomerID, id string, err error) bool {
	if err == nil {
		return false
	}
	var field *bot.VerificationFieldError
	var wrong *bot.WrongCodeError
	var tooSoon *bot.TooSoonError
	var refused *bot.SendRefusedError
	switch {
	case errors.As(err, &field):
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the verification request is not valid",
			FieldError{Field: field.Field, Message: field.Message})
	case errors.Is(err, bot.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "no_verification", "business "+string(r.biz.ID)+" has no verification "+strconv.Quote(id)+" of this customer")
	case errors.Is(err, bot.ErrVerificationConfirmed):
		writeProblem(w, http.StatusConflict, "already_confirmed", "the verification was already confirmed: a code is good once")
	case errors.Is(err, bot.ErrVerificationSuperseded):
		writeProblem(w, http.StatusConflict, "superseded", "a newer verification of this customer was started: confirm that one")
	case errors.Is(err, bot.ErrVerificationExpired):
		writeProblem(w, http.StatusGone, "expired", "the code expired: start a new verification")
	case errors.Is(err, bot.ErrVerificationLocked):
		writeProblem(w, http.StatusLocked, "locked", "too many wrong codes: start a new verification")
	case errors.As(err, &wrong):
		writeJSON(w, http.StatusUnprocessableEntity, struct {
			Error        Problem `json:"error"`
			AttemptsLeft int     `json:"attempts_left"`
		}{Problem{Code: "wrong_code", Message: "the code is not the one sent"}, wrong.AttemptsLeft})
	case errors.As(err, &tooSoon):
		retry := max(1, int(tooSoon.RetryAt.Sub(s.cfg.Clock()).Seconds()+0.999))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		writeProblem(w, http.StatusTooManyRequests, "too_soon",
			"a verification of this customer started less than a minute ago and is pending: confirm it, or retry after "+strconv.Itoa(retry)+" s")
	case errors.As(err, &refused):
		writeProblem(w, http.StatusConflict, "refused", "the guard refused to send the code: "+string(refused.Reason))
	case errors.Is(err, bot.ErrBadInput):
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		r.log.Error().Err(err).Str("customer", customer.Redacted()).Str("verification", id).Msg("verification")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the verification could not be handled: retry shortly")
	}
	return true
}
