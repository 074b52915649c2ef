// Package sender is the outbound worker every provider adapter shares: it
// reads the messages the engine allowed (<prefix>.v1.outbound.<sender> on
// the OUT stream) for the provider's senders and hands each to the
// provider's Client, with these guarantees (docs/adapters.md):
//
//   - At most one provider call sequence per outbound id, even when NATS
//     redelivers a message, the engine republishes it after the duplicate
//     window, or two senders race: before the first call the sender
//     creates the id's key in a JetStream key-value bucket (<P>_SENT), and
//     whoever finds the key already there does not call.
//   - The policy guard is asked again right before each call (Guard), so a
//     STOP committed a moment earlier still wins: a refusal is published as
//     a send_decision (allowed false, id "<outbound id>/late-refusal") and
//     nothing is sent.
//   - Each sender address is rate limited (80 messages/s by default).
//   - Retryable provider errors are retried in process with exponential
//     backoff and full jitter, honouring the provider's Retry-After; a
//     permanent error, a deferral (Meta 131049) or the last failed attempt
//     is published as a failed delivery_status on the IN stream, with the
//     error's code and signal, so the engine learns (window closed,
//     undeliverable…).
//   - A message is acknowledged only after its outcome is recorded and
//     published.
//
// Nothing here logs message text or full phone numbers.
package sender

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
)

// Client sends messages through one provider's API.
type Client interface {
	// Name is the provider's name: "meta", "twilio"… It names the durable
	// consumer ("<prefix>-sender-<name>") and the failed statuses'
	// provider.
	Name() string
	// Send sends m and returns the provider's message id. An error should
	// be an *envelope.SendError saying whether to retry (Retryable,
	// RetryAfter) and what it means for the customer (Signal, Code); any
	// other error is taken as retryable (a transport failure). Send must
	// return when ctx is done.
	Send(ctx context.Context, m envelope.OutboundMessage) (providerID string, err error)
}

// Guard rechecks the policy guard right before a provider call. It returns
// "" to send, or the reason the message may no longer be sent. An error
// matching bot.ErrBadInput (the engine does not know the business…) is
// final: the message is reported failed. Any other error is retried.
// EngineGuard adapts *bot.Service.
type Guard interface {
	Recheck(ctx context.Context, m envelope.OutboundMessage) (bot.Reason, error)
}

// Rechecker is the engine's side of the late guard check; *bot.Service
// implements it.
type Rechecker interface {
	Recheck(ctx context.Context, business bot.BusinessID, sender string, customer bot.CustomerID, out bot.Outbound) (bot.Reason, error)
}

// EngineGuard makes the engine's Recheck a Guard: a message with
// in_reply_to is the bot's reply to the customer, any other one is
// business-initiated.
func EngineGuard(r Rechecker) Guard { return engineGuard{r} }

type engineGuard struct{ r Rechecker }

func (g engineGuard) Recheck(ctx context.Context, m envelope.OutboundMessage) (bot.Reason, error) {
	return g.r.Recheck(ctx, m.Business, m.Sender, m.To, bot.Outbound{Kind: m.Kind, Reply: m.InReplyTo != "", Topic: m.Topic, Category: m.Category})
}

// Limiter paces the calls of one sender address; *rate.Limiter implements
// it.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Outcome is what became of one outbound message, for an Observer.
type Outcome string

const (
	OutcomeSent     Outcome = "sent"     // the provider accepted it
	OutcomeRefused  Outcome = "refused"  // the late guard check refused it
	OutcomeFailed   Outcome = "failed"   // a permanent error, or the last attempt failed
	OutcomeDeferred Outcome = "deferred" // the provider deferred it (Meta 131049)
	OutcomeExpired  Outcome = "expired"  // older than Config.MaxAge: not sent
	OutcomeSkipped  Outcome = "skipped"  // already sent, claimed or decided by an earlier delivery
)

// Observer is told what became of each outbound message, and of each
// retry. It is called from many goroutines at once and must not block.
type Observer interface {
	ObserveSend(provider, sender string, outcome Outcome, attempts int, elapsed time.Duration)
	ObserveRetry(provider, sender, code string)
}

// Defaults of Config.
const (
	DefaultRatePerSecond  = 80
	DefaultMaxAttempts    = 5
	DefaultBackoffBase    = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultWorkers        = 32
	DefaultAckWait        = 30 * time.Second
	DefaultMaxAckPending  = 1000
	DefaultSendTimeout    = 30 * time.Second
	DefaultPublishTimeout = 5 * time.Second
	DefaultMaxAge         = 24 * time.Hour
)

// The error codes of the failed statuses the sender makes up itself; the
// others are the provider's.
const (
	CodeSendError        = "send_error"        // the call failed without a provider error
	CodeExpired          = "expired"           // the message waited longer than Config.MaxAge
	CodeGuardUnavailable = "guard_unavailable" // the late guard check kept failing
	CodeGuardBadInput    = "guard_bad_input"   // the late guard check refused the input itself
)

// Config configures a Sender. Senders is required; the rest defaults.
type Config struct {
	Prefix string // subject prefix; "" means envelope.DefaultPrefix
	// Senders are the business addresses this provider sends from (Meta
	// phone_number_id, Twilio number…): the sender consumes
	// <prefix>.v1.outbound.<sender> for each (with several, a server
	// older than 2.10 makes it read every outbound subject and skip the
	// others').
	Senders []string
	// RatePerSecond caps each sender address's calls; the burst is the
	// same number. Default 80 (Meta's default throughput per number).
	RatePerSecond float64
	// NewLimiter, optional, makes a sender address's limiter instead of
	// rate.NewLimiter(RatePerSecond, burst RatePerSecond).
	NewLimiter func(sender string) Limiter
	// MaxAttempts is the number of calls for one message, retries
	// included. Default 5.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait before retry n: a random
	// duration up to min(BackoffMax, BackoffBase·2^(n-1)) ("full jitter"),
	// or the provider's Retry-After when longer. Defaults 500ms and 30s.
	BackoffBase, BackoffMax time.Duration
	// Workers caps the provider calls in flight. One customer's messages
	// are sent one at a time, in stream order. Default 32.
	Workers int
	// AckWait is the durable consumer's ack wait; a message being worked
	// on is kept alive with progress acks. Default 30s.
	AckWait time.Duration
	// MaxAckPending caps messages delivered and not yet acknowledged.
	// Default 1000.
	MaxAckPending int
	// SendTimeout bounds one provider call. Default 30s.
	SendTimeout time.Duration
	// PublishTimeout bounds publishing an outcome (a failed status, a
	// late refusal), PubAck included. Default 5s.
	PublishTimeout time.Duration
	// MaxAge: a message stored on the stream longer ago than this is not
	// sent but reported failed with code "expired" (a new durable reading
	// an old stream must not send last week's messages). Default 24h;
	// negative means no limit.
	MaxAge time.Duration
	// SentTTL is how long the sent-ids bucket keeps an id; at least the OUT
	// stream's max age (the default), so a republished message is always
	// recognised.
	SentTTL time.Duration
	Logger  zerolog.Logger
	// Observer, optional, sees every outcome.
	Observer Observer
	// Clock gives the time of the statuses and records; nil means time.Now.
	Clock func() time.Time
}

// Sender consumes a provider's outbound messages. Build it with New and
// call Run once.
type Sender struct {
	js       jetstream.JetStream
	client   Client
	provider string
	guard    Guard
	cfg      Config
	log      zerolog.Logger
	subjects envelope.Subjects
	pub      *natsbus.Publisher
	kv       jetstream.KeyValue
	cons     jetstream.Consumer
	durable  string
	limiters map[string]Limiter
	// wildcard is set when the consumer reads every outbound subject (a
	// server older than 2.10 cannot filter on several): messages of other
	// providers' senders are then acknowledged and skipped quietly.
	wildcard bool
}

// New checks the configuration, creates or updates the sent-ids bucket
// (<P>_SENT) and the provider's durable consumer on the OUT stream, which
// must exist (natsbus.EnsureStreams).
func New(js jetstream.JetStream, client Client, guard Guard, cfg Config) (*Sender, error) {
	if js == nil || client == nil || guard == nil {
		return nil, errors.New("new sender: JetStream, Client and Guard are required")
	}
	provider := client.Name()
	if provider == "" {
		return nil, errors.New("new sender: the client has no name")
	}
	if len(cfg.Senders) == 0 {
		return nil, fmt.Errorf("new sender %s: no sender addresses to send from", provider)
	}
	for i, s := range cfg.Senders {
		if s == "" {
			return nil, fmt.Errorf("new sender %s: sender %d is empty", provider, i)
		}
		if slices.Index(cfg.Senders, s) != i {
			return nil, fmt.Errorf("new sender %s: sender %q is listed twice", provider, s)
		}
	}
	subjects, err := envelope.NewSubjects(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("new sender %s: %w", provider, err)
	}
	if cfg.RatePerSecond <= 0 {
		cfg.RatePerSecond = DefaultRatePerSecond
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	cfg.BackoffBase = orDefault(cfg.BackoffBase, DefaultBackoffBase)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax), cfg.BackoffBase)
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	cfg.AckWait = orDefault(cfg.AckWait, DefaultAckWait)
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	cfg.SendTimeout = orDefault(cfg.SendTimeout, DefaultSendTimeout)
	cfg.PublishTimeout = orDefault(cfg.PublishTimeout, DefaultPublishTimeout)
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	pub, err := natsbus.NewPublisher(js, subjects.Prefix())
	if err != nil {
		return nil, fmt.Errorf("new sender %s: %w", provider, err)
	}
	s := &Sender{
		js: js, client: client, provider: provider, guard: guard, cfg: cfg, subjects: subjects, pub: pub,
		durable:  natsbus.SenderDurableName(subjects.Prefix(), provider),
		log:      cfg.Logger.With().Str("component", "sender").Str("provider", provider).Logger(),
		limiters: make(map[string]Limiter, len(cfg.Senders)),
	}
	for _, addr := range cfg.Senders {
		if cfg.NewLimiter != nil {
			s.limiters[addr] = cfg.NewLimiter(addr)
		} else {
			burst := int(math.Ceil(cfg.RatePerSecond))
			s.limiters[addr] = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), burst)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, outStream := natsbus.StreamNames(subjects.Prefix())
	stream, err := js.Stream(ctx, outStream)
	if err != nil {
		return nil, fmt.Errorf("new sender %s: stream %s (call natsbus.EnsureStreams first): %w", provider, outStream, err)
	}
	info := stream.CachedInfo()
	ttl := info.Config.MaxAge
	if ttl > 0 && cfg.SentTTL > ttl {
		ttl = cfg.SentTTL
	}
	bucket := natsbus.SentBucketName(subjects.Prefix())
	s.kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "optinbot senders: outbound ids claimed or sent, with their outcome",
		History:     1,
		TTL:         ttl,
		Storage:     info.Config.Storage,
		Replicas:    max(info.Config.Replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("new sender %s: key-value bucket %s: %w", provider, bucket, err)
	}
	cc := jetstream.ConsumerConfig{
		Durable:       s.durable,
		Description:   "optinbot sender " + provider,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: cfg.MaxAckPending,
	}
	switch {
	case len(cfg.Senders) == 1:
		cc.FilterSubject = subjects.Outbound(cfg.Senders[0])
	case !multiFilter(js):
		// nats-server before 2.10 has no multi-filter consumers: read every
		// outbound subject and skip the other senders' messages.
		cc.FilterSubject = subjects.All(envelope.SubjectOutbound)
		s.wildcard = true
		s.log.Info().Str("durable", s.durable).Msg("the NATS server filters one subject per consumer: reading every outbound subject and skipping other senders'")
	default:
		for _, addr := range cfg.Senders {
			cc.FilterSubjects = append(cc.FilterSubjects, subjects.Outbound(addr))
		}
	}
	s.cons, err = js.CreateOrUpdateConsumer(ctx, outStream, cc)
	if err != nil {
		return nil, fmt.Errorf("new sender %s: durable consumer %s on %s: %w", provider, s.durable, outStream, err)
	}
	return s, nil
}

// multiFilter reports whether the connected server has consumers with
// several filter subjects (nats-server 2.10 and later).
func multiFilter(js jetstream.JetStream) bool {
	nc := js.Conn()
	if nc == nil {
		return true
	}
	var major, minor int
	if _, err := fmt.Sscanf(nc.ConnectedServerVersion(), "%d.%d", &major, &minor); err != nil {
		return true // unknown: try, and let the server say no
	}
	return major > 2 || major == 2 && minor >= 10
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Durable returns the name of the sender's durable consumer.
func (s *Sender) Durable() string { return s.durable }

// job is one outbound message on its way to be sent.
type job struct {
	msg    jetstream.Msg
	out    envelope.OutboundMessage
	sender string // the subject's sender address
	seq    uint64
	tries  uint64    // deliveries so far, this one included
	stored time.Time // when the stream stored it
}

// Run consumes until ctx is done (call it once), then stops fetching,
// lets the provider calls in flight finish, naks what was fetched but not
// started (and a message waiting to be retried, after releasing its claim
// so the next sender tries it afresh), and returns nil. Failures to pull
// are logged and retried until ctx is done.
func (s *Sender) Run(ctx context.Context) error {
	r := &runner{s: s, stop: ctx, work: context.WithoutCancel(ctx), sem: make(chan struct{}, s.cfg.Workers)}
	r.chains = natsbus.NewChains(r.run)
	natsbus.KeepConsuming(ctx, r.consume, func(err error, retryIn time.Duration) {
		s.log.Warn().Err(err).Dur("retry_in", retryIn).Msg("consuming outbound messages stopped; resuming")
	})
	r.chains.Wait()
	return nil
}

// runner is one Run: per-customer chains of jobs, at most Workers calls at
// a time.
type runner struct {
	s      *Sender
	stop   context.Context // done at shutdown: waits end early
	work   context.Context // never done: calls, records and publications finish
	sem    chan struct{}
	chains *natsbus.Chains[bot.CustomerID, job] // one customer's jobs one at a time, in order
}

const fetchWait = time.Second

func (r *runner) consume(ctx context.Context) error {
	s := r.s
	batchSize := min(s.cfg.MaxAckPending, max(s.cfg.Workers, 16))
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		batch, err := s.cons.Fetch(batchSize, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			return fmt.Errorf("pull outbound messages: %w", err)
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				_ = msg.Nak()
				continue
			}
			if j, ok := s.decode(msg); ok {
				r.chains.Dispatch(j.out.To, j)
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return fmt.Errorf("pull outbound messages: %w", err)
		}
	}
}

// run handles one of a customer's jobs; after shutdown it naks those not
// started.
func (r *runner) run(_ bot.CustomerID, j job) {
	if r.stop.Err() != nil {
		_ = j.msg.Nak()
		return
	}
	r.s.handle(r, j)
}

// decode reads a message, terminating it if it is not an outbound message
// of one of the configured senders.
func (s *Sender) decode(msg jetstream.Msg) (job, bool) {
	j := job{msg: msg}
	if md, err := msg.Metadata(); err == nil {
		j.seq, j.tries, j.stored = md.Sequence.Stream, md.NumDelivered, md.Timestamp
	}
	kind, key, ok := s.subjects.Parse(msg.Subject())
	var err error
	switch {
	case !ok || kind != envelope.SubjectOutbound:
		err = fmt.Errorf("subject is not an outbound subject of %s", s.subjects.Prefix())
	case !slices.Contains(s.cfg.Senders, key):
		if s.wildcard {
			// Another provider's message, seen only because of the wide filter.
			_ = msg.Ack()
			return job{}, false
		}
		err = fmt.Errorf("sender %q is not one of this sender's", key)
	default:
		j.sender = key
		j.out, err = envelope.DecodeOutbound(msg.Data())
	}
	if err != nil {
		ev := s.log.Warn().Str("subject", msg.Subject()).Uint64("stream_seq", j.seq).Err(err)
		if terr := msg.Term(); terr != nil {
			ev.AnErr("term_error", terr)
		}
		ev.Msg("outbound message dropped: it cannot be sent")
		return job{}, false
	}
	return j, true
}

// record is the value of an outbound id's key in the sent-ids bucket.
type record struct {
	State      string     `json:"state"` // claimed, sent, refused or failed
	OutboundID string     `json:"outbound_id"`
	Provider   string     `json:"provider"`
	ProviderID string     `json:"provider_id,omitempty"` // sent: the provider's message id
	Reason     bot.Reason `json:"reason,omitempty"`      // refused
	Code       string     `json:"code,omitempty"`        // failed
	Title      string     `json:"title,omitempty"`
	Signal     string     `json:"signal,omitempty"`
	Attempts   int        `json:"attempts,omitempty"`
	At         time.Time  `json:"at"`
}

const (
	stateClaimed = "claimed"
	stateSent    = "sent"
	stateRefused = "refused"
	stateFailed  = "failed"
)

// Key returns the sent-ids bucket's key of an outbound id: the hex
// SHA-256 of the id (ids hold characters keys cannot).
func Key(outboundID string) string {
	sum := sha256.Sum256([]byte(outboundID))
	return hex.EncodeToString(sum[:])
}

// handling is one job in hand.
type handling struct {
	s        *Sender
	r        *runner
	j        job
	key      string
	rev      uint64 // the claim's revision; 0 while unclaimed
	attempts int
	start    time.Time
	log      zerolog.Logger
}

func (s *Sender) handle(r *runner, j job) {
	h := &handling{s: s, r: r, j: j, key: Key(j.out.ID), start: time.Now(),
		log: s.log.With().Str("outbound", j.out.ID).Str("sender", j.sender).Str("customer", j.out.To.Redacted()).Logger()}
	stop := h.keepAlive()
	defer stop()
	h.run()
}

// keepAlive tells JetStream the message is being worked on until stopped.
func (h *handling) keepAlive() (stop func()) {
	return natsbus.Ticking(max(h.s.cfg.AckWait/3, 10*time.Millisecond), func() { _ = h.j.msg.InProgress() })
}

func (h *handling) run() {
	s, work := h.s, h.r.work

	// An earlier delivery already claimed, sent or decided it?
	ctx, cancel := context.WithTimeout(work, s.cfg.PublishTimeout)
	entry, err := s.kv.Get(ctx, h.key)
	cancel()
	switch {
	case err == nil:
		h.recorded(entry)
		return
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		h.retryLater("read the sent-ids bucket", err)
		return
	}

	if s.cfg.MaxAge > 0 && !h.j.stored.IsZero() && s.cfg.Clock().Sub(h.j.stored) > s.cfg.MaxAge {
		h.fail(&envelope.SendError{Provider: s.provider, Code: CodeExpired,
			Message: fmt.Sprintf("waited longer than %v to be sent", s.cfg.MaxAge)}, OutcomeExpired)
		return
	}

	limiter := s.limiters[h.j.sender]
	var last error
	for {
		if err := limiter.Wait(h.r.stop); err != nil {
			h.abandon("shutting down")
			return
		}
		h.r.sem <- struct{}{}
		if h.r.stop.Err() != nil {
			<-h.r.sem
			h.abandon("shutting down")
			return
		}
		done := h.attempt()
		<-h.r.sem
		if done.finished {
			return
		}
		last = done.err
		if h.attempts >= s.cfg.MaxAttempts {
			h.fail(last, OutcomeFailed)
			return
		}
		wait := s.backoff(h.attempts, done.retryAfter)
		code := CodeSendError
		if se := (*envelope.SendError)(nil); errors.As(last, &se) {
			code = se.Code
		}
		if s.cfg.Observer != nil {
			s.cfg.Observer.ObserveRetry(s.provider, h.j.sender, code)
		}
		h.log.Warn().Err(last).Int("attempt", h.attempts).Dur("retry_in", wait).Msg("send failed; retrying")
		select {
		case <-h.r.stop.Done():
			h.abandon("shutting down")
			return
		case <-time.After(wait):
		}
	}
}

// attemptResult says whether the job is finished (outcome recorded, or
// left for a redelivery), or the error to retry.
type attemptResult struct {
	finished   bool
	err        error
	retryAfter time.Duration
}

// attempt rechecks the guard, claims the id on first use, and calls the
// provider once.
func (h *handling) attempt() attemptResult {
	s, m, work := h.s, h.j.out, h.r.work
	ctx, cancel := context.WithTimeout(work, s.cfg.SendTimeout)
	reason, err := s.guard.Recheck(ctx, m)
	cancel()
	switch {
	case err != nil && errors.Is(err, bot.ErrBadInput):
		h.fail(&envelope.SendError{Provider: s.provider, Code: CodeGuardBadInput, Message: "the guard cannot check this message"}, OutcomeFailed)
		h.log.Warn().Err(err).Msg("late guard check refused the input")
		return attemptResult{finished: true}
	case err != nil && h.rev == 0:
		// Nothing claimed yet: JetStream redelivers it later.
		h.retryLater("recheck the guard", err)
		return attemptResult{finished: true}
	case err != nil:
		h.attempts++
		return attemptResult{err: &envelope.SendError{Provider: s.provider, Code: CodeGuardUnavailable,
			Message: "the late guard check failed", Retryable: true}}
	case reason != "":
		h.refuse(reason)
		return attemptResult{finished: true}
	}

	if h.rev == 0 {
		rev, taken, err := h.save(record{State: stateClaimed})
		switch {
		case taken != nil:
			h.recorded(taken)
			return attemptResult{finished: true}
		case err != nil:
			h.retryLater("claim the outbound id", err)
			return attemptResult{finished: true}
		}
		h.rev = rev
	}

	h.attempts++
	ctx, cancel = context.WithTimeout(work, s.cfg.SendTimeout)
	providerID, err := s.client.Send(ctx, m)
	cancel()
	if err == nil {
		h.sent(providerID)
		return attemptResult{finished: true}
	}
	var se *envelope.SendError
	if !errors.As(err, &se) {
		return attemptResult{err: err} // a transport failure: retry
	}
	switch {
	case se.Signal == envelope.SignalDeferred:
		h.fail(se, OutcomeDeferred)
		return attemptResult{finished: true}
	case !se.Retryable:
		h.fail(se, OutcomeFailed)
		return attemptResult{finished: true}
	}
	return attemptResult{err: se, retryAfter: se.RetryAfter}
}

// backoff is the wait before the retry following attempt n: full jitter
// over min(BackoffMax, BackoffBase·2^(n-1)), or retryAfter when longer.
func (s *Sender) backoff(n int, retryAfter time.Duration) time.Duration {
	ceiling := s.cfg.BackoffMax
	if n-1 < 30 {
		ceiling = min(ceiling, s.cfg.BackoffBase<<(n-1))
	}
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	return max(wait, retryAfter)
}

// save records the outcome: creating the key when unclaimed (taken is the
// existing entry if someone else has it), else updating our claim.
func (h *handling) save(rec record) (rev uint64, taken jetstream.KeyValueEntry, err error) {
	s := h.s
	rec.OutboundID, rec.Provider, rec.Attempts = h.j.out.ID, s.provider, h.attempts
	if rec.At.IsZero() {
		rec.At = s.cfg.Clock().UTC()
	}
	data, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(h.r.work, s.cfg.PublishTimeout)
	defer cancel()
	if h.rev != 0 {
		rev, err = s.kv.Update(ctx, h.key, data, h.rev)
		return rev, nil, err
	}
	rev, err = s.kv.Create(ctx, h.key, data)
	if errors.Is(err, jetstream.ErrKeyExists) {
		entry, gerr := s.kv.Get(ctx, h.key)
		if gerr == nil {
			return 0, entry, nil
		}
		return 0, nil, fmt.Errorf("key exists but cannot be read: %w", gerr)
	}
	return rev, nil, err
}

// sent records the provider id; the provider's own webhook reports the
// statuses.
func (h *handling) sent(providerID string) {
	if _, _, err := h.save(record{State: stateSent, ProviderID: providerID}); err != nil {
		// The claim stays: the message is not sent again.
		h.log.Warn().Err(err).Str("provider_id", providerID).Msg("sent, but the provider id could not be recorded")
	}
	h.log.Debug().Str("provider_id", providerID).Int("attempts", h.attempts).Msg("sent")
	h.ack(OutcomeSent)
}

// refuse records and publishes a late refusal.
func (h *handling) refuse(reason bot.Reason) {
	_, taken, err := h.save(record{State: stateRefused, Reason: reason})
	if taken != nil {
		h.recorded(taken)
		return
	}
	if err != nil && h.rev == 0 {
		h.retryLater("record the late refusal", err)
		return
	}
	if err != nil {
		h.log.Warn().Err(err).Msg("late refusal could not be recorded; publishing it anyway")
	}
	h.log.Info().Str("reason", string(reason)).Msg("late guard check refused the message: not sent")
	h.publishRefusal(reason, OutcomeRefused)
}

// fail records and publishes a failed status.
func (h *handling) fail(err error, outcome Outcome) {
	rec := record{State: stateFailed, Code: CodeSendError, Title: "the provider call failed", At: h.s.cfg.Clock().UTC()}
	var se *envelope.SendError
	if errors.As(err, &se) {
		rec.Code, rec.Title, rec.Signal = se.Code, se.Message, se.Signal
		if rec.Code == "" {
			rec.Code = CodeSendError
		}
	}
	if rec.Signal != "" && !slices.Contains(envelope.Signals, rec.Signal) {
		h.log.Warn().Str("signal", rec.Signal).Msg("the client gave an unknown signal; dropped")
		rec.Signal = ""
	}
	_, taken, serr := h.save(rec)
	if taken != nil {
		h.recorded(taken)
		return
	}
	if serr != nil && h.rev == 0 {
		h.retryLater("record the failure", serr)
		return
	}
	if serr != nil {
		h.log.Warn().Err(serr).Msg("failure could not be recorded; publishing it anyway")
	}
	h.log.Warn().Err(err).Str("code", rec.Code).Str("signal", rec.Signal).Int("attempts", h.attempts).Msg("not sent")
	h.publishFailed(rec, outcome)
}

// recorded finishes a message an earlier delivery (or another sender) has
// a record of: republishes a recorded refusal or failure (deduplicated by
// its id), skips a claimed or sent one.
func (h *handling) recorded(entry jetstream.KeyValueEntry) {
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		h.log.Warn().Err(err).Msg("unreadable record in the sent-ids bucket: not sending")
		h.ack(OutcomeSkipped)
		return
	}
	switch rec.State {
	case stateRefused:
		h.publishRefusal(rec.Reason, OutcomeSkipped)
	case stateFailed:
		h.publishFailed(rec, OutcomeSkipped)
	case stateClaimed:
		h.log.Info().Time("claimed_at", rec.At).Msg("outbound id already claimed (in flight elsewhere, or interrupted): not sending again")
		h.ack(OutcomeSkipped)
	default:
		h.log.Debug().Str("state", rec.State).Msg("outbound id already handled: not sending again")
		h.ack(OutcomeSkipped)
	}
}

func (h *handling) publishRefusal(reason bot.Reason, outcome Outcome) {
	m := h.j.out
	d := envelope.SendDecision{
		ID: m.ID + LateRefusalSuffix, RequestID: m.RequestID, Business: m.Business, Customer: m.To,
		Kind: m.Kind, Template: m.Template, Topic: m.Topic, Allowed: false, Reason: reason, InReplyTo: m.InReplyTo,
	}
	ctx, cancel := context.WithTimeout(h.r.work, h.s.cfg.PublishTimeout)
	defer cancel()
	if _, err := h.s.pub.Decision(ctx, d); err != nil {
		h.retryLater("publish the late refusal", err)
		return
	}
	h.ack(outcome)
}

// LateRefusalSuffix is appended to an outbound id to make the id (and
// Nats-Msg-Id) of the send_decision of a late refusal.
const LateRefusalSuffix = "/late-refusal"

func (h *handling) publishFailed(rec record, outcome Outcome) {
	m := h.j.out
	sender := m.Sender
	if sender == "" {
		sender = h.j.sender
	}
	st := envelope.DeliveryStatus{
		ID: m.ID, Provider: h.s.provider, Sender: sender, To: m.To, Status: envelope.StatusFailed, Timestamp: rec.At,
		ErrorCode: rec.Code, ErrorTitle: rec.Title, Signal: rec.Signal, OutboundID: m.ID,
	}
	ctx, cancel := context.WithTimeout(h.r.work, h.s.cfg.PublishTimeout)
	defer cancel()
	if _, err := h.s.pub.Status(ctx, st); err != nil {
		h.retryLater("publish the failed status", err)
		return
	}
	h.ack(outcome)
}

func (h *handling) ack(outcome Outcome) {
	if err := h.j.msg.Ack(); err != nil {
		// Redelivered later, and then skipped: the outcome is recorded.
		h.log.Warn().Err(err).Msg("ack failed")
	}
	if o := h.s.cfg.Observer; o != nil {
		o.ObserveSend(h.s.provider, h.j.sender, outcome, h.attempts, time.Since(h.start))
	}
}

// retryLater leaves the message for a redelivery after a delay: a second
// (or BackoffBase if longer) doubled per delivery, at most BackoffMax.
func (h *handling) retryLater(what string, err error) {
	delay := max(time.Second, h.s.cfg.BackoffBase)
	for i := uint64(1); i < h.j.tries && delay < h.s.cfg.BackoffMax; i++ {
		delay *= 2
	}
	delay = min(delay, h.s.cfg.BackoffMax)
	if nerr := h.j.msg.NakWithDelay(delay); nerr != nil {
		h.log.Warn().AnErr("nak_error", nerr).Msg("nak failed")
	}
	h.log.Warn().Err(err).Dur("retry_in", delay).Msgf("could not %s; the message will be redelivered", what)
}

// abandon gives a message back at shutdown: its claim, if any, is released
// (no call is in flight), so the next sender tries it afresh.
func (h *handling) abandon(why string) {
	if h.rev != 0 {
		ctx, cancel := context.WithTimeout(h.r.work, h.s.cfg.PublishTimeout)
		err := h.s.kv.Delete(ctx, h.key, jetstream.LastRevision(h.rev))
		cancel()
		if err != nil {
			h.log.Error().Err(err).Msg("claim could not be released: a redelivery will not send this message")
		}
	}
	_ = h.j.msg.Nak()
	h.log.Info().Int("attempts", h.attempts).Str("why", why).Msg("message given back for a redelivery")
}
