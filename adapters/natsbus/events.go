package natsbus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// EventHandler handles one provider event. It returns nil once the event
// is handled (the message is then acknowledged), an error matching
// bot.ErrBadInput for an event that can never be handled (terminated, with
// a warn log), and any other error to have it redelivered after a backoff.
// Delivery is at least once: the handler deduplicates by the event's id.
type EventHandler func(ctx context.Context, e envelope.ProviderEvent) error

// EventConsumerConfig configures an EventConsumer. Durable is required
// (EventDurableName gives a conventional one); the rest defaults.
type EventConsumerConfig struct {
	Prefix  string // subject prefix; "" means envelope.DefaultPrefix
	Durable string
	// AckWait is the time limit of one handler call before JetStream
	// redelivers. Default 30s.
	AckWait time.Duration
	// BackoffMin and BackoffMax bound the redelivery delay after a handler
	// error. Defaults 1s and 1m.
	BackoffMin, BackoffMax time.Duration
	Logger                 zerolog.Logger
}

// EventDurableName returns the conventional durable name of a reader of
// provider events on <P>_OUT: "optinbot-events-quality" for prefix "" and
// reader "quality".
func EventDurableName(prefix, reader string) string {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	return streamSafe(prefix) + "-events-" + streamSafe(reader)
}

// EventConsumer reads the provider events (<prefix>.v1.event.>) from
// <P>_OUT through a durable pull consumer with explicit acks and hands
// them, one at a time and in stream order, to a handler. Events are rare
// (a number's quality changed, a template was reviewed), so one at a time
// is enough.
type EventConsumer struct {
	js     jetstream.JetStream
	handle EventHandler
	cfg    EventConsumerConfig
	names  names
	log    zerolog.Logger
}

// NewEventConsumer checks the configuration and creates (or updates) the
// durable consumer on the prefix's OUT stream, which must exist (see
// EnsureStreams). A new durable starts with the events the stream still
// holds.
func NewEventConsumer(ctx context.Context, js jetstream.JetStream, handle EventHandler, cfg EventConsumerConfig) (*EventConsumer, error) {
	if js == nil || handle == nil {
		return nil, errors.New("new event consumer: JetStream and a handler are required")
	}
	n, err := namesFor(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("new event consumer: %w", err)
	}
	if err := validName("new event consumer: durable name", cfg.Durable); err != nil {
		return nil, err
	}
	cfg.AckWait = orDefault(cfg.AckWait, DefaultAckWait)
	cfg.BackoffMin = orDefault(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax), cfg.BackoffMin)
	c := &EventConsumer{js: js, handle: handle, cfg: cfg, names: n,
		log: cfg.Logger.With().Str("component", "natsbus.events").Str("durable", cfg.Durable).Logger()}
	if _, err := c.ensure(ctx); err != nil {
		return nil, fmt.Errorf("new event consumer: %w", err)
	}
	return c, nil
}

func (c *EventConsumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.names.outStream, jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		Description:   "optinbot provider events",
		FilterSubject: c.names.subjects.All(envelope.SubjectEvent),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("durable consumer %s on %s: %w", c.cfg.Durable, c.names.outStream, err)
	}
	return cons, nil
}

// Run consumes until ctx is done, then returns nil; failures to pull are
// logged and retried with backoff. The event being handled when ctx ends
// is finished.
func (c *EventConsumer) Run(ctx context.Context) error {
	KeepConsuming(ctx, c.consume, func(err error, retryIn time.Duration) {
		c.log.Warn().Err(err).Dur("retry_in", retryIn).Msg("consuming provider events stopped; resuming")
	})
	return nil
}

func (c *EventConsumer) consume(ctx context.Context) error {
	cons, err := c.ensure(ctx)
	if err != nil {
		return err
	}
	handlerCtx := context.WithoutCancel(ctx)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			return fmt.Errorf("pull provider events: %w", err)
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				_ = msg.Nak()
				continue
			}
			c.handleMsg(handlerCtx, msg)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return fmt.Errorf("pull provider events: %w", err)
		}
	}
	return ctx.Err()
}

func (c *EventConsumer) handleMsg(ctx context.Context, msg jetstream.Msg) {
	var seq, tries uint64
	if md, err := msg.Metadata(); err == nil {
		seq, tries = md.Sequence.Stream, md.NumDelivered
	}
	e, err := envelope.DecodeEvent(msg.Data())
	if err == nil {
		hctx, cancel := context.WithTimeout(ctx, c.cfg.AckWait)
		err = c.handle(hctx, e)
		cancel()
		if err == nil {
			if aerr := msg.Ack(); aerr != nil {
				c.log.Warn().Err(aerr).Uint64("seq", seq).Msg("ack of a provider event failed; it will come again")
			}
			return
		}
	} else {
		err = fmt.Errorf("%w: %w", bot.ErrBadInput, err)
	}
	if errors.Is(err, bot.ErrBadInput) {
		c.log.Warn().Err(err).Str("subject", msg.Subject()).Uint64("seq", seq).Msg("provider event dropped")
		_ = msg.Term()
		return
	}
	delay := c.cfg.BackoffMin << min(tries, 16)
	delay = min(delay, c.cfg.BackoffMax)
	c.log.Warn().Err(err).Str("subject", msg.Subject()).Uint64("seq", seq).Dur("retry_in", delay).Msg("provider event failed; will retry")
	_ = msg.NakWithDelay(delay)
}
