package businessapi

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// TopicConsent is a topic's current consent: its latest event.
type TopicConsent struct {
	Topic    flows.Topic       `json:"topic"`
	Category flows.Category    `json:"category"`
	Status   bot.ConsentStatus `json:"status"`
	Source   bot.Source        `json:"source"`
	Since    time.Time         `json:"since"`
	EventID  string            `json:"event_id"`
}

// ConsentView is a customer's current consent and full history.
type ConsentView struct {
	Business bot.BusinessID     `json:"business"`
	Customer bot.CustomerID     `json:"customer"`
	Current  []TopicConsent     `json:"current"`
	History  []bot.ConsentEvent `json:"history"`
}

// currentConsent folds the history, oldest first, into each topic's latest
// event, in the order topics first appeared.
func currentConsent(history []bot.ConsentEvent) []TopicConsent {
	index := map[flows.Topic]int{}
	var current []TopicConsent
	for _, ev := range history {
		if !ev.Status.Grants() {
			continue // a record that changes no topic's consent
		}
		tc := TopicConsent{Topic: ev.Topic, Category: ev.Category, Status: ev.Status, Source: ev.Source, Since: ev.At, EventID: ev.ID}
		if i, ok := index[ev.Topic]; ok {
			current[i] = tc
			continue
		}
		index[ev.Topic] = len(current)
		current = append(current, tc)
	}
	return current
}

func (s *Server) getConsent(w http.ResponseWriter, r *request) {
	customer, err := bot.ParseCustomerID(r.PathValue("customer"))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the customer in the path is not valid",
			FieldError{Field: "customer", Message: err.Error()})
		return
	}
	history, err := s.cfg.Store.ConsentEvents(r.Context(), r.biz.ID, customer)
	if err != nil {
		r.log.Error().Err(err).Msg("read consent events")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the ledger cannot be read right now: retry shortly")
		return
	}
	if len(history) == 0 {
		writeProblem(w, http.StatusNotFound, "no_consent_history",
			"the ledger has no consent event for this customer with business "+string(r.biz.ID))
		return
	}
	writeJSON(w, http.StatusOK, ConsentView{Business: r.biz.ID, Customer: customer, Current: currentConsent(history), History: history})
}

// ledgerColumns are the CSV export's columns, in order.
var ledgerColumns = []string{"seq", "id", "business", "sender", "customer", "channel", "topic", "category", "status",
	"source", "trigger", "inbound_id", "inbound_text", "prompt", "language", "flow", "flow_version", "provider_at", "at",
	"prev_hash", "hash"}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func ledgerRecord(e bot.LedgerEntry) []string {
	ev := e.Event
	return []string{strconv.FormatInt(e.Seq, 10), ev.ID, string(ev.Business), ev.Sender, string(ev.Customer), ev.Channel,
		string(ev.Topic), string(ev.Category), string(ev.Status), string(ev.Source), ev.Trigger, ev.InboundID,
		ev.InboundText, ev.Prompt, ev.Language, ev.FlowName, ev.FlowVersion, csvTime(ev.ProviderAt), csvTime(ev.At),
		ev.PrevHash, ev.Hash}
}

// exportPage is how many events the export reads at a time.
const exportPage = 1000

// exportLedger streams the business's ledger, or the part the query
// selects, as JSON lines (default) or CSV.
func (s *Server) exportLedger(w http.ResponseWriter, r *request) {
	q := r.URL.Query()
	var bad fieldErrors
	f := bot.LedgerFilter{Business: r.biz.ID, Topic: flows.Topic(q.Get("topic")), Limit: exportPage}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				bad.add(name, "want an RFC 3339 time such as 2026-01-31T00:00:00Z, got "+strconv.Quote(v))
			}
			*dst = t
		}
	}
	if v := q.Get("customer"); v != "" {
		c, err := bot.ParseCustomerID(v)
		if err != nil {
			bad.add("customer", err.Error())
		}
		f.Customer = c
	}
	if f.Topic != "" {
		if _, ok := r.biz.Machine.Flow.Topic(f.Topic); !ok {
			bad.add("topic", "the flow declares no topic "+strconv.Quote(string(f.Topic)))
		}
	}
	format := q.Get("format")
	switch format {
	case "", "jsonl", "csv":
	default:
		bad.add("format", "want jsonl or csv, got "+strconv.Quote(format))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		bad.add("to", "must be after from")
	}
	if len(bad) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the export query is not valid", bad...)
		return
	}
	first, err := s.cfg.Store.LedgerOf(r.Context(), f)
	if err != nil {
		r.log.Error().Err(err).Msg("export ledger")
		writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the ledger cannot be read right now: retry shortly")
		return
	}
	// From here on the status is sent: a failure aborts the response, so
	// the client sees the stream end without its closing chunk, not a
	// shorter export that looks complete.
	var write func(bot.LedgerEntry) error
	var flush func() error
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(w)
		_ = cw.Write(ledgerColumns)
		write = func(e bot.LedgerEntry) error { return cw.Write(ledgerRecord(e)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	} else {
		w.Header().Set("Content-Type", "application/jsonl")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		write = func(e bot.LedgerEntry) error { return enc.Encode(e) }
		flush = func() error { return nil }
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	page, n := first, 0
	for {
		for _, e := range page {
			if err := write(e); err != nil {
				return // the client went away
			}
		}
		n += len(page)
		if err := flush(); err != nil {
			return
		}
		_ = rc.Flush()
		if len(page) < f.Limit {
			break
		}
		f.After = page[len(page)-1].Seq
		if page, err = s.cfg.Store.LedgerOf(r.Context(), f); err != nil {
			r.log.Error().Err(err).Int("exported", n).Msg("export ledger aborted")
			panic(http.ErrAbortHandler)
		}
	}
	r.log.Info().Int("events", n).Str("format", format).Msg("ledger exported")
}
