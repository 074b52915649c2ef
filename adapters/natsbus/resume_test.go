package natsbus

import (
	"context"
	"errors"
	"testing"
	"time"
)

// KeepConsuming resumes after a failure, waiting first, and returns once
// ctx is done without reporting the stop that ctx caused.
func TestKeepConsuming(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errPull := errors.New("pull: connection closed")
	calls := 0
	var waits []time.Duration
	KeepConsuming(ctx, func(ctx context.Context) error {
		calls++
		if calls == 3 {
			cancel()
			return ctx.Err()
		}
		return errPull
	}, func(err error, retryIn time.Duration) {
		if !errors.Is(err, errPull) {
			t.Errorf("stopped with %v, want the pull's error", err)
		}
		waits = append(waits, retryIn)
	})
	if calls != 3 {
		t.Errorf("consume called %d times, want 3", calls)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond}
	if len(waits) != len(want) || waits[0] != want[0] || waits[1] != want[1] {
		t.Errorf("waits %v, want %v", waits, want)
	}
}

// A cancelled ctx ends the wait before the next attempt.
func TestKeepConsumingStopsWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	KeepConsuming(ctx, func(context.Context) error {
		calls++
		return errors.New("stream deleted")
	}, func(error, time.Duration) { cancel() })
	if calls != 1 {
		t.Errorf("consume called %d times after the cancel, want 1", calls)
	}
}
