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
