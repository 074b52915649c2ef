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

// Ticking calls tick every interval from a goroutine of its own until
// stop is called; stop waits for a tick in progress. The senders and the
// consent webhooks use it to tell JetStream, at a third of the ack wait,
// that messages they hold are still being worked on.
func Ticking(interval time.Duration, tick func()) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				tick()
			}
		}
	}()
	return func() { close(done); <-finished }
}
