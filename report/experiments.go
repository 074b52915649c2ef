package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// StopWindow is how soon after opting in a STOP counts against the
// variant that won the opt-in.
const StopWindow = 7 * 24 * time.Hour

// pageSize is how many ledger entries Experiments reads at a time.
const pageSize = 1000

// ExperimentStore is what Experiments reads: the asks the engine
// recorded, and the business's ledger.
type ExperimentStore interface {
	PromptAsks(ctx context.Context, business bot.BusinessID, flow string, since time.Time) ([]bot.PromptAsk, error)
	LedgerOf(ctx context.Context, f bot.LedgerFilter) ([]bot.LedgerEntry, error)
}

// ExperimentQuery selects the experiments to report.
type ExperimentQuery struct {
	Business bot.BusinessID
	Flow     string    // "" for every flow
	Since    time.Time // asks at Since or later; zero for all
	// Order lists, by "flow/state", the variants in the order the flow
	// declares them: the first is the baseline the others are compared
	// with. Variants it does not list follow, by id.
	Order map[string][]string
}

// ExperimentReport is the report of `optinbot report experiments`.
type ExperimentReport struct {
	Business   bot.BusinessID `json:"business"`
	Flow       string         `json:"flow,omitempty"`
	Since      time.Time      `json:"since,omitzero"`
	StopWindow string         `json:"stop_window"`
	Prompts    []PromptResult `json:"prompts"`
}

// PromptResult is one experiment: the variants of the prompt of a state.
type PromptResult struct {
	Flow        string          `json:"flow"`
	State       flows.StateName `json:"state"`
	Variants    []VariantResult `json:"variants"`
	Comparisons []Comparison    `json:"comparisons"`
}

// VariantResult is the funnel of one variant: distinct customers shown
// it (Asked), of them those who opted in from it (Yes), and of those the
// ones who stopped (Stopped) or whose provider reported them blocking or
// stopping (Blocked) within StopWindow of opting in.
type VariantResult struct {
	Variant  string `json:"variant"`
	Asked    int    `json:"asked"`
	Yes      int    `json:"yes"`
	YesRate  *Rate  `json:"yes_rate,omitempty"` // nil when none was asked
	Stopped  int    `json:"stopped_7d"`
	StopRate *Rate  `json:"stop_rate_7d,omitempty"` // nil when none opted in
	Blocked  int    `json:"blocked_7d"`
}

// Rate is a proportion with its 95% Wilson score interval.
type Rate struct {
	Value float64  `json:"value"`
	CI95  Interval `json:"ci95"`
}

// Comparison is a variant against the prompt's baseline (its first
// variant): the differences of the rates (variant − baseline) and the
// p-values of the two-proportion z-test; nil where a test has no data.
type Comparison struct {
	Variant  string      `json:"variant"`
	Baseline string      `json:"baseline"`
	Yes      *Difference `json:"yes,omitempty"`
	Stop     *Difference `json:"stop_7d,omitempty"`
}

// Difference is the difference of two proportions and its z-test.
type Difference struct {
	Diff float64 `json:"diff"`
	Z    float64 `json:"z"`
	P    float64 `json:"p"`
}

func rate(x, n int) *Rate {
	iv, ok := Wilson(x, n)
	if !ok {
		return nil
	}
	return &Rate{Value: float64(x) / float64(n), CI95: iv}
}

func difference(x1, n1, x2, n2 int) *Difference {
	z, p, ok := TwoProportion(x1, n1, x2, n2)
	if !ok {
		if n1 == 0 || n2 == 0 {
			return nil
		}
		// Equal proportions of 0 or 1: no difference, nothing to test.
		return &Difference{P: 1}
	}
	return &Difference{Diff: float64(x2)/float64(n2) - float64(x1)/float64(n1), Z: z, P: p}
}

type groupKey struct {
	flow    string
	state   flows.StateName
	variant string
}

// Experiments computes the funnel of every variant of every experiment
// the business's customers were asked since q.Since. A customer counts
// once per variant however often they were asked; their YES counts for
// the variant the opt-in event's trigger names (bot.TriggerExperiment),
// only if they were asked that variant; the first such YES opens the
// StopWindow. Erased customers have no asks left and drop out.
func Experiments(ctx context.Context, st ExperimentStore, q ExperimentQuery) (ExperimentReport, error) {
	out := ExperimentReport{Business: q.Business, Flow: q.Flow, Since: q.Since, StopWindow: StopWindow.String(), Prompts: []PromptResult{}}
	asks, err := st.PromptAsks(ctx, q.Business, q.Flow, q.Since)
	if err != nil {
		return out, fmt.Errorf("report experiments of %s: %w", q.Business, err)
	}
	asked := map[groupKey]map[bot.CustomerID]bool{}
	anyAsked := map[bot.CustomerID]bool{}
	for _, a := range asks {
		anyAsked[a.Customer] = true
		k := groupKey{a.Flow, a.State, a.Variant}
		if asked[k] == nil {
			asked[k] = map[bot.CustomerID]bool{}
		}
		asked[k][a.Customer] = true
	}
	events := map[bot.CustomerID][]bot.ConsentEvent{} // of asked customers, commit order
	for after := int64(0); ; {
		page, err := st.LedgerOf(ctx, bot.LedgerFilter{Business: q.Business, From: q.Since, After: after, Limit: pageSize})
		if err != nil {
			return out, fmt.Errorf("report experiments of %s: %w", q.Business, err)
		}
		for _, e := range page {
			if anyAsked[e.Event.Customer] {
				events[e.Event.Customer] = append(events[e.Event.Customer], e.Event)
			}
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}

	byPrompt := map[groupKey][]VariantResult{} // variant ""
	for k, customers := range asked {
		r := VariantResult{Variant: k.variant, Asked: len(customers)}
		for c := range customers {
			yes, ok := firstYes(events[c], k)
			if !ok {
				continue
			}
			r.Yes++
			stopped, blocked := stoppedAfter(events[c], yes)
			if stopped {
				r.Stopped++
			}
			if blocked {
				r.Blocked++
			}
		}
		r.YesRate, r.StopRate = rate(r.Yes, r.Asked), rate(r.Stopped, r.Yes)
		pk := groupKey{flow: k.flow, state: k.state}
		byPrompt[pk] = append(byPrompt[pk], r)
	}
	keys := make([]groupKey, 0, len(byPrompt))
	for k := range byPrompt {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.flow, b.flow), cmp.Compare(a.state, b.state))
	})
	for _, k := range keys {
		vs := byPrompt[k]
		order := q.Order[k.flow+"/"+string(k.state)]
		slices.SortFunc(vs, func(a, b VariantResult) int {
			ia, ib := slices.Index(order, a.Variant), slices.Index(order, b.Variant)
			if ia < 0 {
				ia = len(order)
			}
			if ib < 0 {
				ib = len(order)
			}
			return cmp.Or(cmp.Compare(ia, ib), cmp.Compare(a.Variant, b.Variant))
		})
		p := PromptResult{Flow: k.flow, State: k.state, Variants: vs, Comparisons: []Comparison{}}
		base := vs[0]
		for _, v := range vs[1:] {
			p.Comparisons = append(p.Comparisons, Comparison{Variant: v.Variant, Baseline: base.Variant,
				Yes:  difference(base.Yes, base.Asked, v.Yes, v.Asked),
				Stop: difference(base.Stopped, base.Yes, v.Stopped, v.Yes)})
		}
		out.Prompts = append(out.Prompts, p)
	}
	return out, nil
}

// firstYes is the customer's first in-channel opt-in from the variant k.
func firstYes(events []bot.ConsentEvent, k groupKey) (bot.ConsentEvent, bool) {
	for _, e := range events {
		if e.Status != bot.OptedIn || e.Source != bot.SourceInChannel || e.FlowName != k.flow {
			continue
		}
		if state, variant, ok := bot.TriggerExperiment(e.Trigger); ok && state == k.state && variant == k.variant {
			return e, true
		}
	}
	return bot.ConsentEvent{}, false
}

// stoppedAfter reports whether the customer opted out of the topic of yes
// within StopWindow after it: by their own STOP (or any source but the
// provider), and by the provider's report of a block or stop.
func stoppedAfter(events []bot.ConsentEvent, yes bot.ConsentEvent) (stopped, blocked bool) {
	end := yes.At.Add(StopWindow)
	for _, e := range events {
		if e.Status != bot.OptedOut || e.Topic != yes.Topic || e.At.Before(yes.At) || e.At.After(end) {
			continue
		}
		if e.Source == bot.SourceProvider {
			blocked = true
		} else {
			stopped = true
		}
	}
	return stopped, blocked
}
