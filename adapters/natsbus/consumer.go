package natsbus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// Engine handles the inputs the Consumer reads; *bot.Service implements it.
//
// Contract:
//   - Concurrency: the Consumer calls the Engine from several goroutines at
//     once, but never with two inputs of the same customer at the same
//     time, and one customer's inputs arrive in the order they were
//     published (a redelivered input may come after later ones, see
//     Consumer).
//   - Delivery is at least once: an input may come again after the Engine
//     returned (a lost ack, a crash). The Engine deduplicates by the input's
//     id (the store's processed mark committed with the turn) and returns
//     nil, or an error matching bot.ErrDuplicate, for a repeat.
//   - Return nil only when the turn and its effects are committed: the
//     Consumer then acknowledges the message, and JetStream forgets it.
//   - Return an error matching bot.ErrBadInput for an input that can never
//     succeed (unknown sender or business, unknown template): the message is
//     terminated, never redelivered, and logged at warn level. Any other
//     error is retried later with backoff.
//   - Errors are logged: they must not hold message text or a full phone
//     number (use bot.CustomerID.Redacted).
//   - Inbound.Business, DeliveryUpdate.Business and
//     MarketingPreference.Business are set only when the Consumer's
//     SenderBusiness resolved the sender; otherwise they are empty and the
//     Engine resolves them itself.
//
// Every delivery_status goes to HandleDeliveryUpdate (the engine derives
// opt-outs and other customer signals from it), every consent_signal to
// HandleMarketingPreference, every consent_grant to HandleConsentGrant and
// every handoff_release to HandleHandoffRelease (a release with no handoff
// to end is bad input). The effects returned are ignored: they are in the
// outbox, for the Relay.
type Engine interface {
	HandleInbound(ctx context.Context, in bot.Inbound) ([]bot.Effect, error)
	HandleSendRequest(ctx context.Context, r bot.SendRequest) ([]bot.Effect, error)
	HandleDeliveryUpdate(ctx context.Context, u bot.DeliveryUpdate) ([]bot.Effect, error)
	HandleMarketingPreference(ctx context.Context, p bot.MarketingPreference) ([]bot.Effect, error)
	HandleConsentGrant(ctx context.Context, g bot.ConsentGrant) ([]bot.Effect, error)
	HandleHandoffRelease(ctx context.Context, r bot.HandoffRelease) ([]bot.Effect, error)
}

// Defaults of ConsumerConfig.
const (
	DefaultWorkers       = 8
	DefaultAckWait       = 30 * time.Second
	DefaultMaxAckPending = 1000
	DefaultBackoffMin    = time.Second
	DefaultBackoffMax    = time.Minute
)

// ConsumerConfig configures a Consumer. The zero value is the default,
// logging nothing.
type ConsumerConfig struct {
	Prefix  string // subject prefix; "" means envelope.DefaultPrefix
	Durable string // durable consumer name; default "<prefix>-engine"
	// Workers is how many inputs are handled at once (each customer's one
	// at a time). Default 8.
	Workers int
	// AckWait is how long JetStream waits for an ack before redelivering;
	// also the time limit of one Engine call. Default 30s.
	AckWait time.Duration
	// MaxAckPending caps the messages delivered but not yet acknowledged.
	// Default 1000.
	MaxAckPending int
	// MaxDeliver caps deliveries of one message; 0 means unlimited (an
	// input is retried until it succeeds or is refused as bad input).
	MaxDeliver int
	// BackoffMin and BackoffMax bound the redelivery delay after an Engine
	// error: BackoffMin doubled per delivery, at most BackoffMax. Defaults
	// 1s and 1m.
	BackoffMin, BackoffMax time.Duration
	// SenderBusiness, optional, resolves the business of an inbound
	// message, delivery status or consent signal from its sender address.
	// When it is nil or does not know the sender, Business is left empty
	// for the Engine to resolve.
	SenderBusiness func(sender string) (bot.BusinessID, bool)
	Logger         zerolog.Logger
}

// Consumer reads <P>_IN through a durable pull consumer with explicit acks
// and hands each input to the Engine.
//
// Inputs are partitioned over the workers by a hash of the customer id, so
// one customer's inputs are handled one at a time and in stream order, while
// different customers' run in parallel. A message is acknowledged only
// after the Engine returned nil. An envelope that does not decode, or an
// Engine error matching bot.ErrBadInput, terminates the message (it is
// never redelivered) with a warn log naming the subject, the stream
// sequence and the error, never the body. Any other error naks the message
// with a growing delay; note that JetStream then redelivers it after the
// customer's later messages, if any were already delivered.
//
// Run one Consumer per durable: two processes sharing the durable would
// split a customer's messages between them and break the one-at-a-time
// guarantee.
type Consumer struct {
	js     jetstream.JetStream
	engine Engine
	cfg    ConsumerConfig
	names  names
	log    zerolog.Logger
}

// NewConsumer checks the configuration and creates (or updates) the durable
// consumer on the prefix's inbound stream, which must exist (see
// EnsureStreams).
func NewConsumer(ctx context.Context, js jetstream.JetStream, engine Engine, cfg ConsumerConfig) (*Consumer, error) {
	if js == nil || engine == nil {
		return nil, errors.New("new consumer: JetStream and Engine are required")
	}
	n, err := namesFor(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	if cfg.Durable == "" {
		cfg.Durable = n.durable
	}
	if err := validName("new consumer: durable name", cfg.Durable); err != nil {
		return nil, err
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	cfg.AckWait = orDefault(cfg.AckWait, DefaultAckWait)
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	if cfg.MaxDeliver <= 0 {
		cfg.MaxDeliver = -1
	}
	cfg.BackoffMin = orDefault(cfg.BackoffMin, DefaultBackoffMin)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax), cfg.BackoffMin)
	c := &Consumer{
		js: js, engine: engine, cfg: cfg, names: n,
		log: cfg.Logger.With().Str("component", "natsbus.consumer").Str("durable", cfg.Durable).Logger(),
	}
	if _, err := c.ensure(ctx); err != nil {
		return nil, fmt.Errorf("new consumer: %w", err)
	}
	return c, nil
}

func (c *Consumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	cons, err := c.js.CreateOrUpdateConsumer(ctx, c.names.inStream, jetstream.ConsumerConfig{
		Durable:       c.cfg.Durable,
		Description:   "optinbot engine",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.AckWait,
		MaxDeliver:    c.cfg.MaxDeliver,
		MaxAckPending: c.cfg.MaxAckPending,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
	})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, fmt.Errorf("durable consumer %s: stream %s does not exist (call EnsureStreams first): %w", c.cfg.Durable, c.names.inStream, err)
	}
	if err != nil {
		return nil, fmt.Errorf("durable consumer %s on %s: %w", c.cfg.Durable, c.names.inStream, err)
	}
	return cons, nil
}

// job is a decoded message on its way to a worker.
type job struct {
	msg     jetstream.Msg
	seq     uint64 // stream sequence
	tries   uint64 // deliveries so far, this one included
	payload any    // envelope.InboundMessage, SendRequest, DeliveryStatus, ConsentSignal, ConsentGrantEnvelope or HandoffRelease
}

// Run consumes until ctx is done (call it once), then stops fetching
// (within a second), lets the handlers in flight finish (each within
// AckWait), naks in order the messages that were fetched but not started
// (so the next Consumer gets them at once and before newer ones), and
// returns nil. Failures to pull (a lost connection, a deleted consumer or
// stream) are logged and retried with backoff until ctx is done, so Run
// returns nil; the error result is for use with errgroup.
func (c *Consumer) Run(ctx context.Context) error {
	queues := make([]chan job, c.cfg.Workers)
	var wg sync.WaitGroup
	// Handlers must finish their commit even when Run is told to stop.
	handlerCtx := context.WithoutCancel(ctx)
	// released is closed once nothing more can be delivered to this
	// Consumer; only then are the jobs left in the queues nak'd, so that a
	// nak'd message cannot come back to a pending pull request and be
	// nak'd again, behind later ones.
	released := make(chan struct{})
	for i := range queues {
		queues[i] = make(chan job, 16)
		wg.Add(1)
		go func(q <-chan job) {
			defer wg.Done()
			c.work(ctx, handlerCtx, released, q)
		}(queues[i])
	}

	var leftover []jetstream.Msg
	KeepConsuming(ctx, func(ctx context.Context) (err error) {
		leftover, err = c.consume(ctx, queues)
		return err
	}, func(err error, retryIn time.Duration) {
		c.log.Warn().Err(err).Dur("retry_in", retryIn).Msg("consuming stopped; resuming")
	})

	// Shut down: no pull request is pending. Queued jobs are nak'd first
	// (they are older), then what the last pull fetched beyond them; the
	// handlers in flight finish.
	close(released)
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	for _, msg := range leftover {
		_ = msg.Nak()
	}
	return nil
}

// fetchWait is how long one pull request waits on the server. Short, so
// that Run stops within it and no pull request outlives its Consumer for
// long: JetStream puts a redelivery it tried to hand to a dead request at
// the back of its redelivery queue, behind the customer's later messages.
const fetchWait = time.Second

// consume pulls messages until ctx is done or pulling fails. It returns,
// unacknowledged, the messages of the last pull that it did not queue
// because ctx was done; no pull request is pending on the server then.
func (c *Consumer) consume(ctx context.Context, queues []chan job) ([]jetstream.Msg, error) {
	cons, err := c.ensure(ctx)
	if err != nil {
		return nil, err
	}
	batchSize := max(2*len(queues), 16)
	for {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		batch, err := cons.Fetch(batchSize, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			return nil, fmt.Errorf("pull messages: %w", err)
		}
		var leftover []jetstream.Msg
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				leftover = append(leftover, msg)
				continue
			}
			j, ok := c.decode(msg)
			if !ok {
				continue
			}
			q := queues[partition(customerOf(j.payload), len(queues))]
			select {
			case q <- j:
			case <-ctx.Done():
				leftover = append(leftover, msg)
			}
		}
		if ctx.Err() != nil {
			return leftover, ctx.Err()
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("pull messages: %w", err)
		}
	}
}

// decode reads a message's envelope, terminating it if it cannot.
func (c *Consumer) decode(msg jetstream.Msg) (job, bool) {
	j := job{msg: msg}
	if md, err := msg.Metadata(); err == nil {
		j.seq, j.tries = md.Sequence.Stream, md.NumDelivered
	}
	kind, _, ok := c.names.subjects.Parse(msg.Subject())
	var err error
	switch {
	case !ok:
		err = fmt.Errorf("subject is not one of %s's: %w", c.names.subjects.Prefix(), bot.ErrBadInput)
	case kind == envelope.SubjectInbound:
		j.payload, err = envelope.DecodeInbound(msg.Data())
	case kind == envelope.SubjectSend:
		j.payload, err = envelope.DecodeSendRequest(msg.Data())
	case kind == envelope.SubjectStatus:
		j.payload, err = envelope.DecodeStatus(msg.Data())
	case kind == envelope.SubjectSignal:
		j.payload, err = envelope.DecodeSignal(msg.Data())
	case kind == envelope.SubjectGrant:
		j.payload, err = envelope.DecodeGrant(msg.Data())
	case kind == envelope.SubjectRelease:
		j.payload, err = envelope.DecodeHandoffRelease(msg.Data())
	default:
		err = fmt.Errorf("subject kind %q is not consumed by the engine: %w", kind, bot.ErrBadInput)
	}
	if err != nil {
		c.term(j, err)
		return job{}, false
	}
	return j, true
}

func customerOf(payload any) bot.CustomerID {
	switch p := payload.(type) {
	case envelope.InboundMessage:
		return p.From
	case envelope.SendRequest:
		return p.To
	case envelope.DeliveryStatus:
		return p.To
	case envelope.ConsentSignal:
		return p.Customer
	case envelope.ConsentGrantEnvelope:
		return p.Customer
	case envelope.HandoffRelease:
		return p.Customer
	}
	return ""
}

// partition picks the worker of a customer. Hashing the customer alone
// (not the business) keeps a customer's inputs on one worker whatever
// business they are for, which the engine's one-turn-per-customer rule
// needs since an inbound message names a sender, not a business.
func partition(c bot.CustomerID, n int) int {
	h := fnv.New32a()
	h.Write([]byte(c))
	return int(h.Sum32() % uint32(n))
}

// work handles a worker's queue until it is closed. Once ctx is done, the
// jobs left in the queue are nak'd, once released is closed, rather than
// handled.
func (c *Consumer) work(ctx, handlerCtx context.Context, released <-chan struct{}, q <-chan job) {
	for j := range q {
		if ctx.Err() != nil {
			<-released
			c.nak(j, 0, "shutting down")
			continue
		}
		c.handle(handlerCtx, j)
	}
}

func (c *Consumer) handle(ctx context.Context, j job) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.AckWait)
	defer cancel()
	var err error
	switch p := j.payload.(type) {
	case envelope.InboundMessage:
		in, cerr := p.ToBot()
		if err = cerr; err == nil {
			in.Business = c.business(p.Sender)
			_, err = c.engine.HandleInbound(ctx, in)
		}
	case envelope.SendRequest:
		r, cerr := p.ToBot()
		if err = cerr; err == nil {
			_, err = c.engine.HandleSendRequest(ctx, r)
		}
	case envelope.DeliveryStatus:
		u, cerr := p.ToBot()
		if err = cerr; err == nil {
			if u.Business == "" {
				u.Business = c.business(p.Sender)
			}
			_, err = c.engine.HandleDeliveryUpdate(ctx, u)
		}
	case envelope.ConsentSignal:
		pref, cerr := p.ToBot()
		if err = cerr; err == nil {
			pref.Business = c.business(p.Sender)
			_, err = c.engine.HandleMarketingPreference(ctx, pref)
		}
	case envelope.ConsentGrantEnvelope:
		g, cerr := p.ToBot()
		if err = cerr; err == nil {
			_, err = c.engine.HandleConsentGrant(ctx, g)
		}
	case envelope.HandoffRelease:
		r, cerr := p.ToBot()
		if err = cerr; err == nil {
			_, err = c.engine.HandleHandoffRelease(ctx, r)
		}
	}
	switch {
	case err == nil || errors.Is(err, bot.ErrDuplicate):
		c.ack(j)
	case errors.Is(err, bot.ErrBadInput):
		c.term(j, err)
	case c.cfg.MaxDeliver > 0 && j.tries >= uint64(c.cfg.MaxDeliver):
		c.log.Error().Err(err).Str("subject", j.msg.Subject()).Uint64("stream_seq", j.seq).
			Uint64("deliveries", j.tries).Msg("input failed its last delivery (MaxDeliver): giving up")
		c.term(j, err)
	default:
		c.nak(j, c.backoff(j.tries), err.Error())
	}
}

func (c *Consumer) business(sender string) bot.BusinessID {
	if c.cfg.SenderBusiness == nil {
		return ""
	}
	b, _ := c.cfg.SenderBusiness(sender)
	return b
}

// backoff is BackoffMin doubled per delivery after the first, capped.
func (c *Consumer) backoff(tries uint64) time.Duration {
	d := c.cfg.BackoffMin
	for i := uint64(1); i < tries && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.cfg.BackoffMax)
}

func (c *Consumer) ack(j job) {
	if err := j.msg.Ack(); err != nil {
		// The message will be redelivered; the engine deduplicates it.
		c.log.Warn().Err(err).Str("subject", j.msg.Subject()).Uint64("stream_seq", j.seq).Msg("ack failed")
		return
	}
	if e := c.log.Debug(); e.Enabled() {
		e.Str("subject", j.msg.Subject()).Uint64("stream_seq", j.seq).Uint64("deliveries", j.tries).
			Str("customer", customerOf(j.payload).Redacted()).Msg("input handled")
	}
}

// term drops a message for good. The log names the subject, the stream
// sequence and the error, never the body or the customer.
func (c *Consumer) term(j job, cause error) {
	ev := c.log.Warn().Str("subject", j.msg.Subject()).Uint64("stream_seq", j.seq).Uint64("deliveries", j.tries).Err(cause)
	if err := j.msg.Term(); err != nil {
		ev.AnErr("term_error", err)
	}
	ev.Msg("input dropped as bad input")
}

func (c *Consumer) nak(j job, delay time.Duration, why string) {
	var err error
	if delay > 0 {
		err = j.msg.NakWithDelay(delay)
	} else {
		err = j.msg.Nak()
	}
	ev := c.log.Warn()
	if delay == 0 {
		ev = c.log.Debug()
	}
	if err != nil {
		ev = c.log.Warn().AnErr("nak_error", err)
	}
	ev.Str("subject", j.msg.Subject()).Uint64("stream_seq", j.seq).Uint64("deliveries", j.tries).
		Dur("retry_in", delay).Str("error", why).Msg("input will be retried")
}
