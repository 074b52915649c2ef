package businessapi

import (
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/bot"
)

// RecordedConsent answers a consent record: the ledger events it added
// (one, or one per topic for an opt-out of every topic).
type RecordedConsent struct {
	ID       string               `json:"id"`
	Business bot.BusinessID       `json:"business"`
	Customer bot.CustomerID       `json:"customer"`
	Action   consentimport.Action `json:"action"`
	Events   []bot.ConsentEvent   `json:"events"`
}

func fieldErrorsOf(bad []consentimport.FieldError) []FieldError {
	out := make([]FieldError, len(bad))
	for i, fe := range bad {
		out[i] = FieldError{Field: fe.Field, Message: fe.Message, Code: fe.Code}
	}
	return out
}

// recordConsent records one opt-in or opt-out gathered outside the chat.
func (s *Server) recordConsent(w http.ResponseWriter, r *request) {
	var rec consentimport.Record
	if !decodeBody(w, r, &rec) {
		return
	}
	rec.Customer = r.PathValue("customer")
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if rec.ID != "" && rec.ID != key {
			writeProblem(w, http.StatusBadRequest, "invalid_request", "give the id once",
				FieldError{Field: "id", Message: "the body's id " + strconv.Quote(rec.ID) + " and the Idempotency-Key header " + strconv.Quote(key) + " differ"})
			return
		}
		rec.ID = key
	}
	entry, bad := rec.Validate(r.biz.Machine.Flow, s.cfg.Clock())
	if len(bad) > 0 {
		refusal := true
		for _, fe := range bad {
			refusal = refusal && fe.Refusal()
		}
		if refusal {
			writeProblem(w, http.StatusUnprocessableEntity, "consent_refused",
				"the evidence does not make a WhatsApp consent for this business: an SMS or email consent is not a WhatsApp consent",
				fieldErrorsOf(bad)...)
			return
		}
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the consent record is not valid", fieldErrorsOf(bad)...)
		return
	}
	res, err := consentimport.Apply(r.Context(), s.cfg.Engine, r.biz.ID, entry)
	if err != nil {
		r.log.Error().Err(err).Str("customer", entry.Customer.Redacted()).Str("id", entry.ID).Msg("record consent")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the consent could not be recorded: retry shortly with the same id")
		return
	}
	r.log.Info().Str("customer", entry.Customer.Redacted()).Str("id", entry.ID).Str("action", string(entry.Action)).
		Str("source", string(entry.Source)).Str("outcome", string(res.Outcome)).Str("reason", res.Reason).Msg("consent record")
	switch res.Outcome {
	case consentimport.Recorded:
		if sealed, err := s.sealed(r, entry.Customer, res.Events); err == nil {
			res.Events = sealed
		} else {
			r.log.Warn().Err(err).Str("id", entry.ID).Msg("read back recorded consent")
		}
		writeJSON(w, http.StatusCreated, RecordedConsent{ID: entry.ID, Business: r.biz.ID, Customer: entry.Customer,
			Action: entry.Action, Events: res.Events})
	case consentimport.Duplicate:
		writeProblem(w, http.StatusConflict, "duplicate_id",
			"consent record "+strconv.Quote(entry.ID)+" was already recorded; it stands: use a new id for new evidence")
	case consentimport.SkippedStale:
		writeProblem(w, http.StatusConflict, consentimport.ReasonStale, res.Message)
	case consentimport.Invalid:
		writeProblem(w, http.StatusBadRequest, "invalid_request", res.Message)
	default:
		status := http.StatusUnprocessableEntity
		if res.Reason == string(bot.GrantProviderBlocked) {
			status = http.StatusConflict
		}
		writeProblem(w, status, res.Reason, res.Message)
	}
}

// sealed reads the recorded events back from the ledger, as the store
// sealed them into the business's hash chain.
func (s *Server) sealed(r *request, c bot.CustomerID, events []bot.ConsentEvent) ([]bot.ConsentEvent, error) {
	history, err := s.cfg.Store.ConsentEvents(r.Context(), r.biz.ID, c)
	if err != nil {
		return nil, fmt.Errorf("read consent events of %s: %w", c.Redacted(), err)
	}
	byID := map[string]bot.ConsentEvent{}
	for _, ev := range history {
		byID[ev.ID] = ev
	}
	out := make([]bot.ConsentEvent, len(events))
	for i, ev := range events {
		stored, ok := byID[ev.ID]
		if !ok {
			return nil, fmt.Errorf("event %s of %s is not in the ledger: %w", ev.ID, c.Redacted(), bot.ErrNotFound)
		}
		out[i] = stored
	}
	return out, nil
}

// importDeadline bounds reading and answering one import.
const importDeadline = 5 * time.Minute

// importConsent records a CSV file of opt-ins and opt-outs, row by row.
func (s *Server) importConsent(w http.ResponseWriter, r *request) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "text/csv" {
		writeProblem(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the import as Content-Type: text/csv, got "+strconv.Quote(r.Header.Get("Content-Type")))
		return
	}
	// A full file takes longer than the server's write timeout allows an
	// ordinary request (10,000 rows ran at ~500 rows/s on PostgreSQL on
	// two shared cores): give this one minutes.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(importDeadline))
	_ = rc.SetWriteDeadline(time.Now().Add(importDeadline))
	records, err := consentimport.ParseCSV(r.Body, consentimport.MaxRows)
	var (
		maxErr    *http.MaxBytesError
		headerErr *consentimport.HeaderError
		parseErr  *csv.ParseError
	)
	switch {
	case errors.As(err, &maxErr):
		writeProblem(w, http.StatusRequestEntityTooLarge, "too_large", "the body is over "+strconv.FormatInt(maxErr.Limit, 10)+" bytes: split the file")
		return
	case errors.Is(err, consentimport.ErrTooManyRows):
		writeProblem(w, http.StatusRequestEntityTooLarge, "too_many_rows", err.Error()+": split the file")
		return
	case errors.As(err, &headerErr):
		writeProblem(w, http.StatusBadRequest, "invalid_csv", "the file is not an import file",
			FieldError{Field: "header", Message: headerErr.Error()})
		return
	case errors.As(err, &parseErr):
		writeProblem(w, http.StatusBadRequest, "invalid_csv", "the file is not valid CSV",
			FieldError{Field: "line " + strconv.Itoa(parseErr.Line), Message: parseErr.Err.Error()})
		return
	case err != nil:
		writeProblem(w, http.StatusBadRequest, "invalid_csv", "the file could not be read: "+err.Error())
		return
	}
	rep, err := consentimport.Import(r.Context(), s.cfg.Engine, r.biz.Machine.Flow, r.biz.ID, records, s.cfg.Clock())
	if err != nil {
		r.log.Error().Err(err).Int("rows", len(records)).Msg("consent import")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable",
			"the import stopped: the rows before the failure are recorded; send the same file again and they come back duplicate")
		return
	}
	r.log.Info().Int("rows", rep.Rows).Int("recorded", rep.Counts[consentimport.Recorded]).
		Int("skipped_stale", rep.Counts[consentimport.SkippedStale]).Int("invalid", rep.Counts[consentimport.Invalid]).
		Int("refused", rep.Counts[consentimport.Refused]).Int("duplicate", rep.Counts[consentimport.Duplicate]).Msg("consent import")
	writeJSON(w, http.StatusOK, rep)
}
