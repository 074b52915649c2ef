package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
)

// engineStore is what the running engine needs from a store: the engine's
// own Store, the outbox the relay publishes, and pruning of what is past
// the retention: processed ids, published outbox rows, message statuses.
type engineStore interface {
	bot.Store
	bot.VerificationStore // the business API's sign-up verifications
	natsbus.Outbox
	PruneProcessed(ctx context.Context, before time.Time) (int64, error)
	PrunePublished(ctx context.Context, before time.Time) (int64, error)
	PruneDeliveries(ctx context.Context, before time.Time) (int64, error)
}

// engineOptions are the knobs shared by demo and serve.
type engineOptions struct {
	Prefix          string
	Workers         int
	DuplicateWindow time.Duration
	Retention       time.Duration // processed ids, published effects and message statuses are kept at least this long
	Observer        bot.Observer
	Clock           func() time.Time
	// FailAfterPublish, for crash tests, is handed to the relay.
	FailAfterPublish func(bot.Effect) error
	// SuppressionKey keys the suppression list of erased customers.
	SuppressionKey []byte
}

// keyKeeper is a store that generates and keeps a suppression key.
type keyKeeper interface {
	SuppressionKey(ctx context.Context) ([]byte, error)
}

// suppressionKey is the configured suppression key or, when the
// configuration sets none, the one the store generated and keeps.
func suppressionKey(ctx context.Context, cfg *Config, st keyKeeper) ([]byte, error) {
	if cfg != nil && cfg.Privacy.SuppressionKey != "" {
		return []byte(cfg.Privacy.SuppressionKey), nil
	}
	key, err := st.SuppressionKey(ctx)
	if err != nil {
		return nil, fmt.Errorf("suppression key: %w", err)
	}
	return key, nil
}

// engine is the wired engine: streams, service, relay and consumer.
type engine struct {
	streams  natsbus.Streams
	service  *bot.Service
	relay    *natsbus.Relay
	consumer *natsbus.Consumer
	// consuming is true while the consumer runs.
	consuming atomic.Bool
	store     engineStore
	js        jetstream.JetStream
	opts      engineOptions
	log       zerolog.Logger
}

func newEngine(ctx context.Context, js jetstream.JetStream, st engineStore, businesses []bot.BusinessConfig,
	opts engineOptions, log zerolog.Logger) (*engine, error) {
	streams, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{
		Prefix: opts.Prefix, InDuplicates: opts.DuplicateWindow, OutDuplicates: opts.DuplicateWindow,
	})
	if err != nil {
		return nil, err
	}
	relay, err := natsbus.NewRelay(js, st, natsbus.RelayConfig{
		Prefix: opts.Prefix, Logger: log.With().Str("component", "relay").Logger(), FailAfterPublish: opts.FailAfterPublish,
	})
	if err != nil {
		return nil, err
	}
	svc, err := bot.NewService(ctx, bot.ServiceConfig{
		Store: st, Clock: opts.Clock, Logger: log.With().Str("component", "engine").Logger(),
		Observer: opts.Observer, AfterCommit: relay.Notify, SuppressionKey: opts.SuppressionKey,
	}, businesses)
	if err != nil {
		return nil, err
	}
	var handler natsbus.Engine = svc
	if obs, ok := opts.Observer.(inboundObserver); ok {
		handler = observedEngine{Service: svc, obs: obs}
	}
	consumer, err := natsbus.NewConsumer(ctx, js, handler, natsbus.ConsumerConfig{
		Prefix: opts.Prefix, Workers: opts.Workers, Logger: log.With().Str("component", "consumer").Logger(),
	})
	if err != nil {
		return nil, err
	}
	return &engine{streams: streams, service: svc, relay: relay, consumer: consumer, store: st, js: js, opts: opts, log: log}, nil
}

// inboundObserver sees every customer's message the engine committed, with
// the turn's effects, when the commit is done.
type inboundObserver interface {
	ObserveInbound(in bot.Inbound, effects []bot.Effect, committed time.Time)
}

// observedEngine is the engine seen by an inboundObserver.
type observedEngine struct {
	*bot.Service
	obs inboundObserver
}

func (e observedEngine) HandleInbound(ctx context.Context, in bot.Inbound) ([]bot.Effect, error) {
	effects, err := e.Service.HandleInbound(ctx, in)
	if err == nil && len(effects) > 0 {
		e.obs.ObserveInbound(in, effects, time.Now())
	}
	return effects, err
}

// run consumes, publishes and prunes until ctx is done.
func (e *engine) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		e.consuming.Store(true)
		defer e.consuming.Store(false)
		return e.consumer.Run(ctx)
	})
	g.Go(func() error { return e.relay.Run(ctx) })
	g.Go(func() error { e.prune(ctx); return nil })
	g.Go(func() error { e.fireTimers(ctx); return nil })
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// fireTimers fires the flows' due timers every second. Timers live in the
// store with their conversations, so those set before a restart fire
// after it; two instances firing the same timer commit it once.
func (e *engine) fireTimers(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	clock := e.opts.Clock
	if clock == nil {
		clock = time.Now
	}
	for {
		for {
			n, err := e.service.FireDueTimers(ctx, clock(), 100)
			if err != nil && ctx.Err() == nil {
				e.log.Warn().Err(err).Msg("firing flow timers failed; will retry")
			}
			if err != nil || n < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// prune forgets, hourly, what is older than the retention: processed ids,
// published outbox rows and message statuses.
func (e *engine) prune(ctx context.Context) {
	if e.opts.Retention <= 0 {
		return
	}
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		before := time.Now().Add(-e.opts.Retention)
		for _, p := range []struct {
			prune      func(context.Context, time.Time) (int64, error)
			what, done string
		}{
			{e.store.PruneProcessed, "processed message ids", "forgot processed message ids past retention"},
			{e.store.PrunePublished, "published outbox effects", "deleted published outbox effects past retention"},
			{e.store.PruneDeliveries, "message delivery statuses", "forgot message delivery statuses past retention"},
		} {
			n, err := p.prune(ctx, before)
			switch {
			case err != nil && ctx.Err() == nil:
				e.log.Warn().Err(err).Msgf("pruning %s failed; will retry", p.what)
			case err == nil && n > 0:
				e.log.Info().Int64("pruned", n).Msg(p.done)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitProcessed waits until the engine's consumer has acknowledged the
// inbound stream up to seq: every input up to it is committed (or dropped
// as bad input).
func (e *engine) waitProcessed(ctx context.Context, js jetstream.JetStream, seq uint64) error {
	cons, err := js.Consumer(ctx, e.streams.In, natsbus.DurableName(e.opts.Prefix))
	if err != nil {
		return fmt.Errorf("find the engine's consumer: %w", err)
	}
	for {
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("engine consumer info: %w", err)
		}
		if info.AckFloor.Stream >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
}
