package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// PromptAsks returns the experiment prompts shown to the business's
// customers at since or later (zero: all), of one flow or of every flow
// (""), oldest first.
func (s *Store) PromptAsks(ctx context.Context, business bot.BusinessID, flow string, since time.Time) ([]bot.PromptAsk, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read prompt asks of %s: %w", business, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []bot.PromptAsk
	for _, a := range s.asks {
		if a.Business == business && (flow == "" || a.Flow == flow) && !a.At.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}

// LedgerOf returns up to f.Limit entries of a business's ledger matching
// the filter, in commit order, as sqlstore's LedgerOf does.
func (s *Store) LedgerOf(ctx context.Context, f bot.LedgerFilter) ([]bot.LedgerEntry, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("read ledger of %s: limit %d, want at least 1", f.Business, f.Limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read ledger of %s after %d: %w", f.Business, f.After, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []bot.LedgerEntry
	for _, e := range s.entries {
		ev := e.Event
		switch {
		case e.Seq <= f.After, ev.Business != f.Business,
			f.Customer != "" && ev.Customer != f.Customer,
			f.Topic != "" && ev.Topic != f.Topic,
			!f.From.IsZero() && ev.At.Before(f.From),
			!f.To.IsZero() && !ev.At.Before(f.To):
			continue
		}
		out = append(out, e)
		if len(out) == f.Limit {
			break
		}
	}
	return out, nil
}
