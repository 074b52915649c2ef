package consentimport

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Recorder records consent through the engine: the bot.Service.
type Recorder interface {
	HandleConsentGrant(ctx context.Context, g bot.ConsentGrant) ([]bot.Effect, error)
	HandleConsentWithdrawal(ctx context.Context, wd bot.ConsentWithdrawal) ([]bot.Effect, error)
}

// Outcome is what became of one record.
type Outcome string

const (
	// Recorded: the ledger holds the record's events now.
	Recorded Outcome = "recorded"
	// Duplicate: a record with this id was recorded before; nothing
	// changed.
	Duplicate Outcome = "duplicate"
	// SkippedStale: the customer's latest event for the topic is an
	// opt-out (or a STOP) no older than the record's evidence; an import
	// never re-grants over it. Reason stale_evidence.
	SkippedStale Outcome = "skipped_stale"
	// Refused: the engine refused the evidence for another reason
	// (provider_blocked, source_not_allowed, wording_incomplete).
	Refused Outcome = "refused"
	// Invalid: the record is malformed or its wording names no WhatsApp
	// or no business: Fields say what is wrong.
	Invalid Outcome = "invalid"
)

// ReasonStale is the reason of a SkippedStale outcome.
const ReasonStale = "stale_evidence"

// Result is what became of one record.
type Result struct {
	Line int    `json:"line,omitempty"`
	ID   string `json:"id,omitempty"`
	// Customer is redacted ("+1…00"): the line says which row it is.
	Customer string       `json:"customer,omitempty"`
	Outcome  Outcome      `json:"outcome"`
	Reason   string       `json:"reason,omitempty"`
	Message  string       `json:"message,omitempty"`
	Fields   []FieldError `json:"fields,omitempty"`
	// Events are the ledger events recorded (for the API's answer).
	Events []bot.ConsentEvent `json:"-"`
}

// Apply records one valid entry for business b and says what became of
// it. An error is the engine's or the store's failure, worth retrying with
// the same entry (its id makes the retry safe); a refusal is a Result.
func Apply(ctx context.Context, rec Recorder, b bot.BusinessID, e Entry) (Result, error) {
	res := Result{Line: e.Line, ID: e.ID, Customer: e.Customer.Redacted()}
	var effects []bot.Effect
	var err error
	if e.Action == OptOut {
		effects, err = rec.HandleConsentWithdrawal(ctx, bot.ConsentWithdrawal{ID: e.ID, Business: b, Customer: e.Customer,
			Topic: e.Topic, Source: e.Source, Wording: e.Wording, Language: e.Language, Where: e.Where, At: e.At})
	} else {
		effects, err = rec.HandleConsentGrant(ctx, bot.ConsentGrant{ID: e.ID, Business: b, Customer: e.Customer,
			Topic: e.Topic, Source: e.Source, Wording: e.Wording, Language: e.Language, Where: e.Where, At: e.At})
	}
	if errors.Is(err, bot.ErrBadInput) {
		res.Outcome, res.Reason, res.Message = Invalid, "invalid", err.Error()
		return res, nil
	}
	if err != nil {
		return Result{}, fmt.Errorf("record %s of customer %s: %w", e.ID, e.Customer.Redacted(), err)
	}
	if len(effects) == 0 {
		res.Outcome, res.Reason, res.Message = Duplicate, "duplicate_id", "a record with id "+e.ID+" was recorded before; it stands"
		return res, nil
	}
	for _, eff := range effects {
		switch {
		case eff.Kind == bot.EffectConsent && eff.Consent != nil:
			res.Events = append(res.Events, *eff.Consent)
		case eff.Kind == bot.EffectNotice && eff.Notice != nil && eff.Notice.Grant != nil:
			res.Reason, res.Message = string(eff.Notice.Grant.Reason), eff.Notice.Detail
			res.Outcome = Refused
			if eff.Notice.Grant.Reason == bot.GrantOlderThanStop {
				res.Outcome, res.Reason = SkippedStale, ReasonStale
			}
		}
	}
	if res.Outcome == "" {
		res.Outcome = Recorded
	}
	return res, nil
}

// Report is what an import did, row by row.
type Report struct {
	Business bot.BusinessID  `json:"business"`
	Rows     int             `json:"rows"`
	Counts   map[Outcome]int `json:"counts"`
	Results  []Result        `json:"results"`
}

// Workers is how many records an import records at once: the engine
// serialises each customer's records, and the store commits each on its
// own.
const Workers = 4

// Import validates and records every record for business b, in order of
// their lines in the report. A record with no topic that opts in, a
// wording that does not say WhatsApp and the business, or any other fault
// is reported invalid and the others still go in; a record whose evidence
// is older than the customer's latest opt-out is skipped (stale_evidence),
// never recorded silently. An error stops the import: the rows reported
// so far are recorded, and importing the same file again records the rest
// (the others come back duplicate).
func Import(ctx context.Context, rec Recorder, f *flows.Flow, b bot.BusinessID, records []Record, now time.Time) (Report, error) {
	rep := Report{Business: b, Rows: len(records), Counts: map[Outcome]int{}, Results: make([]Result, len(records))}
	// Validate every row first, and settle ids the file repeats: the
	// first row with an id is the one recorded, whatever the order the
	// workers get to them.
	entries := make([]Entry, len(records))
	firstLine := map[string]int{}
	var todo []int
	for i, r := range records {
		e, bad := r.Validate(f, now)
		if len(bad) > 0 {
			res := Result{Line: r.Line, ID: r.ID, Outcome: Invalid, Reason: bad[0].Code, Message: bad[0].Message, Fields: bad}
			if c, err := NormalizeCustomer(r.Customer); err == nil {
				res.Customer = c.Redacted()
			}
			rep.Results[i] = res
			continue
		}
		if line, ok := firstLine[e.ID]; ok {
			rep.Results[i] = Result{Line: e.Line, ID: e.ID, Customer: e.Customer.Redacted(), Outcome: Duplicate, Reason: "duplicate_id",
				Message: fmt.Sprintf("repeats the id of line %d", line)}
			continue
		}
		firstLine[e.ID] = e.Line
		entries[i] = e
		todo = append(todo, i)
	}
	// Each customer's rows go to one worker, in file order: an opt-out
	// and a later opt-in of one customer are recorded in that order.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	queues := make([]chan int, Workers)
	for w := range queues {
		queues[w] = make(chan int, 64)
		wg.Go(func() {
			for i := range queues[w] {
				if ctx.Err() != nil {
					continue
				}
				res, err := Apply(ctx, rec, b, entries[i])
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("import line %d: %w", entries[i].Line, err)
						cancel()
					}
					mu.Unlock()
					continue
				}
				rep.Results[i] = res
			}
		})
	}
	for _, i := range todo {
		h := fnv.New32a()
		h.Write([]byte(entries[i].Customer))
		select {
		case queues[h.Sum32()%Workers] <- i:
		case <-ctx.Done():
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if firstErr != nil {
		return Report{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return Report{}, fmt.Errorf("import for business %s: %w", b, err)
	}
	for _, res := range rep.Results {
		rep.Counts[res.Outcome]++
	}
	return rep, nil
}
