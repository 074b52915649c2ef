package businessapi

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// ReleaseHandoff is the body of POST
// /v1/businesses/{business}/customers/{customer}/handoff/release; every
// field is optional, and so is the body.
type ReleaseHandoff struct {
	// ID is your id for this hand back (or the Idempotency-Key header): a
	// repeat changes nothing. Without one, one is made up.
	ID string `json:"id,omitempty"`
	// State is a state of the flow to resume in instead of the handoff's.
	State string `json:"state,omitempty"`
	// Agent is who hands back, for the record.
	Agent string `json:"agent,omitempty"`
}

// Released answers a hand back.
type Released struct {
	ID       string `json:"id"`
	Released bool   `json:"released"`
	// Repeated is true when this id was applied before: nothing changed.
	Repeated bool   `json:"repeated,omitempty"`
	Queue    string `json:"queue,omitempty"`
	Resume   string `json:"resume,omitempty"`
}

func (s *Server) releaseHandoff(w http.ResponseWriter, r *request) {
	customer, err := bot.ParseCustomerID(r.PathValue("customer"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the customer in the path is not valid",
			FieldError{Field: "customer", Message: err.Error()})
		return
	}
	var req ReleaseHandoff
	if !decodeOptionalBody(w, r, &req) {
		return
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if req.ID != "" && req.ID != key {
			writeProblem(w, http.StatusBadRequest, "invalid_request", "give the id once",
				FieldError{Field: "id", Message: "the body's id " + strconv.Quote(req.ID) + " and the Idempotency-Key header " + strconv.Quote(key) + " differ"})
			return
		}
		req.ID = key
	}
	if req.ID == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		req.ID = "api-" + hex.EncodeToString(b[:])
	}
	effects, err := s.cfg.Engine.HandleHandoffRelease(r.Context(), bot.HandoffRelease{ID: req.ID, Business: r.biz.ID,
		Customer: customer, State: flows.StateName(req.State), Agent: req.Agent})
	switch {
	case errors.Is(err, bot.ErrNoHandoff):
		writeProblem(w, http.StatusConflict, "no_handoff", err.Error())
		return
	case errors.Is(err, bot.ErrBadInput):
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	case err != nil:
		r.log.Error().Err(err).Str("customer", customer.Redacted()).Str("id", req.ID).Msg("handoff release")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the hand back could not be recorded: retry with the same id")
		return
	}
	answer := Released{ID: req.ID, Released: true, Repeated: len(effects) == 0}
	for _, e := range effects {
		if e.Kind == bot.EffectHandoffEnded && e.HandoffEnded != nil {
			answer.Queue, answer.Resume = e.HandoffEnded.Queue, string(e.HandoffEnded.Resume)
		}
	}
	r.log.Info().Str("customer", customer.Redacted()).Str("id", req.ID).Bool("repeated", answer.Repeated).Msg("handoff released")
	writeJSON(w, http.StatusOK, answer)
}
