package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// PromptAsks returns the experiment prompts shown to the business's
// customers at since or later (zero: all), of one flow or of every flow
// (""), oldest first.
func (s *Store) PromptAsks(ctx context.Context, business bot.BusinessID, flow string, since time.Time) ([]bot.PromptAsk, error) {
	q := `SELECT customer, flow, flow_version, state, variant, at FROM prompt_asks WHERE business = ? AND at >= ?`
	args := []any{business, s.timeArg(since)}
	if flow != "" {
		q += ` AND flow = ?`
		args = append(args, flow)
	}
	q += ` ORDER BY seq`
	var rows []struct {
		Customer    string `db:"customer"`
		Flow        string `db:"flow"`
		FlowVersion string `db:"flow_version"`
		State       string `db:"state"`
		Variant     string `db:"variant"`
		At          dbTime `db:"at"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("read prompt asks of %s (flow %q): %w", business, flow, err)
	}
	out := make([]bot.PromptAsk, len(rows))
	for i, r := range rows {
		out[i] = bot.PromptAsk{Business: business, Customer: bot.CustomerID(r.Customer), Flow: r.Flow, FlowVersion: r.FlowVersion,
			State: flows.StateName(r.State), Variant: r.Variant, At: r.At.t}
	}
	return out, nil
}
