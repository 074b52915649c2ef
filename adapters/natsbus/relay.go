package natsbus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// Outbox is the store's side of the transactional outbox: the effects
// committed with their turns and not yet published.
//
// PendingEffects returns up to limit pending effects, oldest commit first,
// and keeps returning an effect until MarkPublished is called with its id.
// MarkPublished ignores ids it does not know. Both are safe for concurrent
// use. *memstore.Store implements it.
type Outbox interface {
	PendingEffects(ctx context.Context, limit int) ([]bot.Effect, error)
	MarkPublished(ctx context.Context, ids []string) error
}

// Defaults of RelayConfig.
const (
	DefaultPollInterval   = time.Second
	DefaultBatchSize      = 100
	DefaultPublishTimeout = 5 * time.Second
)

// RelayConfig configures a Relay. The zero value is the default, logging
// nothing.
type RelayConfig struct {
	Prefix string // subject prefix; "" means envelope.DefaultPrefix
	// PollInterval is how often Run looks for pending effects without being
	// notified, e.g. effects left by a crash. Default 1s.
	PollInterval time.Duration
	// BatchSize is how many effects one round reads. Default 100.
	BatchSize int
	// PublishTimeout bounds the wait for one PubAck. Default 5s.
	PublishTimeout time.Duration
	Logger         zerolog.Logger
	// FailAfterPublish, for tests, is called after an effect's envelopes
	// were published and acknowledged, before it is marked published. An
	// error simulates a crash at that point: the round stops without
	// marking anything, so the effects stay pending.
	FailAfterPublish func(bot.Effect) error
}

// Relay publishes the outbox to <P>_OUT: each effect as the envelopes of
// envelope.FromEffect, with Nats-Msg-Id set to their deterministic ids,
// waiting for each PubAck, then marks the effects published. An effect is
// therefore published at least once, and stored once in the stream when
// republished within its duplicate window (a crash between publish and
// mark).
//
// Effects are published in outbox order; a round stops at the first
// publish failure, so a customer's later messages never overtake an earlier
// one that failed, and the effect stays pending for the next round. An
// effect FromEffect cannot convert (a bug) is logged at error level and
// skipped, but left pending: never dropped, never blocking the others.
type Relay struct {
	js        jetstream.JetStream
	outbox    Outbox
	cfg       RelayConfig
	subjects  envelope.Subjects
	outStream string
	log       zerolog.Logger
	notify    chan struct{}
	mu        sync.Mutex // one round at a time
}

// NewRelay returns a Relay publishing outbox's effects through js. The
// outbound stream must exist before it publishes (see EnsureStreams).
func NewRelay(js jetstream.JetStream, outbox Outbox, cfg RelayConfig) (*Relay, error) {
	if js == nil || outbox == nil {
		return nil, errors.New("new relay: JetStream and Outbox are required")
	}
	n, err := namesFor(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("new relay: %w", err)
	}
	cfg.PollInterval = orDefault(cfg.PollInterval, DefaultPollInterval)
	cfg.PublishTimeout = orDefault(cfg.PublishTimeout, DefaultPublishTimeout)
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	return &Relay{
		js: js, outbox: outbox, cfg: cfg, subjects: n.subjects, outStream: n.outStream,
		log:    cfg.Logger.With().Str("component", "natsbus.relay").Logger(),
		notify: make(chan struct{}, 1),
	}, nil
}

// Notify wakes Run to publish now. It never blocks; call it after every
// commit that has effects (bot.ServiceConfig.AfterCommit).
func (r *Relay) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Run publishes pending effects at start, on every Notify and every
// PollInterval, until ctx is done; then it returns nil. Failures are logged
// and retried on the next round.
func (r *Relay) Run(ctx context.Context) error {
	tick := time.NewTicker(r.cfg.PollInterval)
	defer tick.Stop()
	for {
		if err := r.drain(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn().Err(err).Msg("publishing the outbox failed; retrying next round")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.notify:
		case <-tick.C:
		}
	}
}

// Flush publishes everything pending now and returns when it is published
// and marked, or with the first error (the rest stays pending).
func (r *Relay) Flush(ctx context.Context) error {
	return r.drain(ctx)
}

// drain runs rounds while they come back full and make progress.
func (r *Relay) drain(ctx context.Context) error {
	var poisoned []error
	for {
		res, err := r.round(ctx)
		poisoned = append(poisoned, res.poisoned...)
		if err != nil {
			return errors.Join(append(poisoned, err)...)
		}
		if res.read < r.cfg.BatchSize || res.published == 0 {
			return errors.Join(poisoned...)
		}
	}
}

type roundResult struct {
	read, published int
	poisoned        []error // effects that cannot be converted, left pending
}

// round publishes one batch, in order, stopping at the first publish
// failure; an effect that cannot be converted is skipped and left pending.
func (r *Relay) round(ctx context.Context) (roundResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var res roundResult
	effects, err := r.outbox.PendingEffects(ctx, r.cfg.BatchSize)
	if err != nil {
		return res, fmt.Errorf("read outbox: %w", err)
	}
	res.read = len(effects)
	done := make([]string, 0, len(effects))
	var failure error
	for _, e := range effects {
		pubs, err := envelope.FromEffect(e)
		if err != nil {
			r.log.Error().Err(err).Str("effect", e.ID).Msg("effect cannot be converted to envelopes; left in the outbox")
			res.poisoned = append(res.poisoned, fmt.Errorf("convert effect %s: %w", e.ID, err))
			continue
		}
		if err := r.publish(ctx, e, pubs); err != nil {
			failure = err
			break
		}
		if r.cfg.FailAfterPublish != nil {
			if err := r.cfg.FailAfterPublish(e); err != nil {
				// A simulated crash: nothing of this round gets marked.
				return roundResult{read: res.read}, fmt.Errorf("after publishing effect %s: %w", e.ID, err)
			}
		}
		done = append(done, e.ID)
	}
	if len(done) > 0 {
		if err := r.outbox.MarkPublished(ctx, done); err != nil {
			// They will be published again; the stream drops the copies
			// within its duplicate window.
			return res, fmt.Errorf("mark %d effects published: %w", len(done), err)
		}
		res.published = len(done)
		r.log.Debug().Int("effects", len(done)).Msg("outbox published")
	}
	return res, failure
}

// publish sends an effect's envelopes and waits for their PubAcks.
func (r *Relay) publish(ctx context.Context, e bot.Effect, pubs []envelope.Published) error {
	for _, p := range pubs {
		msg := nats.NewMsg(p.Subject(r.subjects))
		msg.Header.Set(jetstream.MsgIDHeader, p.MsgID)
		msg.Data = p.Data
		pctx, cancel := context.WithTimeout(ctx, r.cfg.PublishTimeout)
		ack, err := r.js.PublishMsg(pctx, msg, jetstream.WithExpectStream(r.outStream))
		cancel()
		if err != nil {
			return fmt.Errorf("publish %s of effect %s to %s: %w", p.Type, e.ID, msg.Subject, err)
		}
		if e := r.log.Debug(); e.Enabled() {
			e.Str("subject", msg.Subject).Str("msg_id", p.MsgID).Uint64("stream_seq", ack.Sequence).
				Bool("duplicate", ack.Duplicate).Msg("envelope published")
		}
	}
	return nil
}
