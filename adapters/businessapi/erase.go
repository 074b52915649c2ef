package businessapi

import (
	"errors"
	"net/http"

	"github.com/optinbot/optinbot/bot"
)

// Erased answers POST /v1/businesses/{business}/customers/{customer}/erase.
type Erased struct {
	Erased bool `json:"erased"`
	// Suppressed is true when the customer went on the suppression list:
	// no consent of theirs stood, so no message goes to them until they
	// opt in again in the chat.
	Suppressed bool `json:"suppressed"`
	// EventID is the ledger event that records the erase.
	EventID string `json:"event_id"`
}

func (s *Server) eraseCustomer(w http.ResponseWriter, r *request) {
	customer, err := bot.ParseCustomerID(r.PathValue("customer"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the customer in the path is not valid",
			FieldError{Field: "customer", Message: err.Error()})
		return
	}
	res, err := s.cfg.Engine.EraseCustomer(r.Context(), r.biz.ID, customer, bot.SourceAPI)
	switch {
	case errors.Is(err, bot.ErrBadInput):
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	case errors.Is(err, bot.ErrNoSuppressionKey):
		r.log.Error().Err(err).Msg("erase customer")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "this deployment cannot erase customers: it has no suppression key (privacy.suppression_key)")
		return
	case err != nil:
		r.log.Error().Err(err).Str("customer", customer.Redacted()).Msg("erase customer")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the customer could not be erased: retry; an erase may be repeated")
		return
	}
	r.log.Info().Str("event", res.EventID).Bool("suppressed", res.Suppressed).Msg("customer erased")
	writeJSON(w, http.StatusOK, Erased{Erased: true, Suppressed: res.Suppressed, EventID: res.EventID})
}
