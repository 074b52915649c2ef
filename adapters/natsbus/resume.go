package natsbus

import (
	"context"
	"time"
)

// KeepConsuming calls consume until ctx is done. When consume returns
// before that (the connection dropped, the consumer or its stream was
// deleted and recreated), stopped hears why and how long the loop waits
// before consuming again: 250 ms, doubling up to 30 s, and back to no wait
// once a call has run for a minute, since a failure after that is a new
// one, not the same one again. The engine's consumer, the provider senders
// and the consent webhooks all resume this way.
func KeepConsuming(ctx context.Context, consume func(context.Context) error, stopped func(err error, retryIn time.Duration)) {
	retry := time.Duration(0)
	for ctx.Err() == nil {
		if retry > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retry):
			}
		}
		started := time.Now()
		err := consume(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			retry = 0
		}
		retry = min(max(2*retry, 250*time.Millisecond), 30*time.Second)
		stopped(err, retry)
	}
}
