package bot

import (
	"context"
	"fmt"
	"time"
)

// InputTimer is a flow timer firing.
const InputTimer InputKind = "timer"

// HandleTimer fires one due flow timer. A timer that the conversation no
// longer holds, or that already fired, changes nothing.
func (s *Service) HandleTimer(ctx context.Context, due DueTimer) ([]Effect, error) {
	biz, err := s.resolve(due.Business, "")
	if err != nil {
		return nil, fmt.Errorf("timer %q: %w", due.Timer.ID, err)
	}
	return s.run(ctx, biz, due.Customer, InputTimer, DedupID(InputTimer, "", due.Customer, due.Timer.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleTimer(s.conversationMachine(ctx, biz, sess.Conversation), sess, due.Timer, now), nil
	})
}

// FireDueTimers fires every timer due at now, at most limit of them, and
// returns how many it fired. Run it periodically: timers are stored with the
// conversation, so those set before a restart fire after it.
func (s *Service) FireDueTimers(ctx context.Context, now time.Time, limit int) (int, error) {
	due, err := s.store.DueTimers(ctx, now.Add(time.Microsecond), limit) // due at or before now; stores keep microseconds
	if err != nil {
		return 0, fmt.Errorf("read due timers: %w", err)
	}
	fired := 0
	for _, d := range due {
		if _, ok := s.businesses[d.Business]; !ok {
			continue // a business no longer configured here
		}
		if _, err := s.HandleTimer(ctx, d); err != nil {
			return fired, err
		}
		fired++
	}
	return fired, nil
}
