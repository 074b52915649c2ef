package consenthook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
)

// DeadLetterProvider is the dead letters' "provider", and so the last token
// of their subject: <prefix>.v1.deadletter.consent-webhook.
const DeadLetterProvider = "consent-webhook"

// Target is one business's webhook.
type Target struct {
	Business bot.BusinessID
	URL      string
	Secret   string
}

// Outcome is what became of one consent change.
type Outcome string

const (
	OutcomeDelivered Outcome = "delivered" // the business answered 2xx
	OutcomeRejected  Outcome = "rejected"  // a final answer (4xx but 408 and 429, 3xx): dead-lettered
	OutcomeExhausted Outcome = "exhausted" // MaxAttempts or MaxAge reached: dead-lettered
	OutcomeInvalid   Outcome = "invalid"   // not a consent_change envelope: dead-lettered
)

// Observer sees every attempt and outcome; it is called from many
// goroutines and must not block. result is the answer's status class
// ("2xx", "4xx", "5xx", "429") or "error" for no answer.
type Observer interface {
	ObserveAttempt(business bot.BusinessID, result string, elapsed time.Duration)
	ObserveDelivery(business bot.BusinessID, outcome Outcome, attempts int, elapsed time.Duration)
}

// Defaults of Config.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxAttempts    = 10
	DefaultMaxAge         = 24 * time.Hour
	DefaultBackoffBase    = time.Second
	DefaultBackoffMax     = 5 * time.Minute
	DefaultMaxRetryAfter  = time.Hour
	DefaultWorkers        = 8
	DefaultAckWait        = 30 * time.Second
	DefaultMaxAckPending  = 1000
	DefaultPublishTimeout = 5 * time.Second
	DefaultInactive       = 7 * 24 * time.Hour
)

// Config configures a Hook. Targets is required; the rest defaults.
type Config struct {
	Prefix  string // subject prefix; "" means envelope.DefaultPrefix
	Targets []Target
	// Client makes the requests; it must not follow redirects. Default: a
	// client with Timeout per request that does not follow them.
	Client *http.Client
	// Timeout bounds one request, answer included. Default 10s.
	Timeout time.Duration
	// MaxAttempts is the number of requests for one change, retries
	// included. Default 10.
	MaxAttempts int
	// MaxAge: a change that failed and was stored on the stream longer
	// ago than this is not retried but dead-lettered (each change gets at
	// least one attempt). Default 24h.
	MaxAge time.Duration
	// BackoffBase and BackoffMax shape the wait before retry n: a random
	// duration up to min(BackoffMax, BackoffBase·2^(n-1)), or the answer's
	// Retry-After when longer (at most MaxRetryAfter, default 1h).
	// Defaults 1s and 5m.
	BackoffBase, BackoffMax, MaxRetryAfter time.Duration
	// Workers caps the requests in flight per business. Default 8.
	Workers int
	// AckWait is the durable consumers' ack wait; a change being worked
	// on is kept alive with progress acks. Default 30s.
	AckWait time.Duration
	// MaxAckPending caps changes delivered and not yet acknowledged, per
	// business. Default 1000.
	MaxAckPending int
	// PublishTimeout bounds publishing a dead letter. Default 5s.
	PublishTimeout time.Duration
	// Inactive is how long a business's durable consumer outlives its
	// last pull: one whose webhook was removed from the configuration is
	// then deleted by the server instead of holding its position forever
	// (a webhook added again starts over from what the stream still
	// holds). Default 7 days, the OUT stream's default max age.
	Inactive time.Duration
	Logger   zerolog.Logger
	Observer Observer
	// Clock gives the signatures' time; nil means time.Now.
	Clock func() time.Time
}

// Hook delivers the consent changes of its targets. Build it with New and
// call Run once.
type Hook struct {
	js       jetstream.JetStream
	cfg      Config
	subjects envelope.Subjects
	pub      *natsbus.Publisher
	targets  []*target
	log      zerolog.Logger
}

type target struct {
	Target
	host    string // for logs and dead letters: the URL may hold a token
	durable string
	cons    jetstream.Consumer
	log     zerolog.Logger
}

// DurableName returns the durable consumer name of a business's consent
// webhook: "optinbot-consenthook-acme" for prefix "" and business "acme".
func DurableName(prefix string, business bot.BusinessID) string {
	if prefix == "" {
		prefix = envelope.DefaultPrefix
	}
	return safe(strings.ToLower(prefix)) + "-consenthook-" + safe(string(business))
}

func safe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// CheckURL accepts an https URL, or an http one to a loopback host
// (localhost, 127.0.0.0/8, ::1).
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("url %q does not parse: %w", raw, err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("url %q has no host", raw)
	}
	switch u.Scheme {
	case "https":
		return u, nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return u, nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return u, nil
		}
		return nil, fmt.Errorf("url %q: http:// is refused except to a loopback host (the signature does not hide the consent data): use https://", raw)
	}
	return nil, fmt.Errorf("url %q: want https://", raw)
}

// New checks the configuration and creates or updates each business's
// durable consumer on the OUT stream, which must exist
// (natsbus.EnsureStreams).
func New(ctx context.Context, js jetstream.JetStream, cfg Config) (*Hook, error) {
	if js == nil {
		return nil, errors.New("new consent webhook: JetStream is required")
	}
	if len(cfg.Targets) == 0 {
		return nil, errors.New("new consent webhook: no business has a webhook")
	}
	subjects, err := envelope.NewSubjects(cfg.Prefix)
	if err != nil {
		return nil, fmt.Errorf("new consent webhook: %w", err)
	}
	cfg.Timeout = orDefault(cfg.Timeout, DefaultTimeout)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	cfg.MaxAge = orDefault(cfg.MaxAge, DefaultMaxAge)
	cfg.BackoffBase = orDefault(cfg.BackoffBase, DefaultBackoffBase)
	cfg.BackoffMax = max(orDefault(cfg.BackoffMax, DefaultBackoffMax), cfg.BackoffBase)
	cfg.MaxRetryAfter = orDefault(cfg.MaxRetryAfter, DefaultMaxRetryAfter)
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	cfg.AckWait = orDefault(cfg.AckWait, DefaultAckWait)
	if cfg.MaxAckPending <= 0 {
		cfg.MaxAckPending = DefaultMaxAckPending
	}
	cfg.PublishTimeout = orDefault(cfg.PublishTimeout, DefaultPublishTimeout)
	cfg.Inactive = orDefault(cfg.Inactive, DefaultInactive)
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Client == nil {
		cfg.Client = NewClient(cfg.Timeout)
	}
	pub, err := natsbus.NewPublisher(js, subjects.Prefix())
	if err != nil {
		return nil, fmt.Errorf("new consent webhook: %w", err)
	}
	h := &Hook{js: js, cfg: cfg, subjects: subjects, pub: pub,
		log: cfg.Logger.With().Str("component", "consenthook").Logger()}
	_, outStream := natsbus.StreamNames(subjects.Prefix())
	seen := map[bot.BusinessID]bool{}
	for _, t := range cfg.Targets {
		if t.Business == "" {
			return nil, errors.New("new consent webhook: a target has no business")
		}
		if seen[t.Business] {
			return nil, fmt.Errorf("new consent webhook: business %q has two webhooks", t.Business)
		}
		seen[t.Business] = true
		u, err := CheckURL(t.URL)
		if err != nil {
			return nil, fmt.Errorf("new consent webhook: business %q: %w", t.Business, err)
		}
		if t.Secret == "" {
			return nil, fmt.Errorf("new consent webhook: business %q: the secret is empty", t.Business)
		}
		tg := &target{Target: t, host: u.Host, durable: DurableName(subjects.Prefix(), t.Business)}
		tg.log = h.log.With().Str("business", string(t.Business)).Str("host", tg.host).Logger()
		tg.cons, err = js.CreateOrUpdateConsumer(ctx, outStream, jetstream.ConsumerConfig{
			Durable:           tg.durable,
			Description:       "optinbot consent webhook " + string(t.Business),
			DeliverPolicy:     jetstream.DeliverAllPolicy,
			AckPolicy:         jetstream.AckExplicitPolicy,
			AckWait:           cfg.AckWait,
			MaxDeliver:        -1,
			MaxAckPending:     cfg.MaxAckPending,
			FilterSubject:     subjects.Consent(string(t.Business)),
			InactiveThreshold: cfg.Inactive,
		})
		if err != nil {
			return nil, fmt.Errorf("new consent webhook: business %q: durable consumer %s on %s (call natsbus.EnsureStreams first): %w",
				t.Business, tg.durable, outStream, err)
		}
		h.targets = append(h.targets, tg)
	}
	return h, nil
}

// NewClient returns an HTTP client for webhooks: timeout per request, no
// redirects followed (a redirect is a final answer).
func NewClient(timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// NewRequest builds the signed POST of a consent change's JSON body, signed
// at now.
func NewRequest(ctx context.Context, rawURL, secret, id string, body []byte, now time.Time) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "optinbot-consent-webhook/1")
	req.Header.Set(SignatureHeader, Sign(secret, now, body))
	req.Header.Set(IdempotencyHeader, id)
	return req, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// Run delivers until ctx is done (call it once), then stops fetching, lets
// the requests in flight finish, naks what was fetched but not finished,
// and returns nil. Failures to pull are logged and retried until ctx is
// done.
func (h *Hook) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, t := range h.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.runTarget(ctx, t)
		}()
	}
	wg.Wait()
	return nil
}

const fetchWait = time.Second

// runner is one target's Run: per-customer chains, at most Workers
// requests at a time.
type runner struct {
	h      *Hook
	t      *target
	stop   context.Context // done at shutdown: waits end early
	work   context.Context // never done: requests and publications finish
	sem    chan struct{}
	chains *natsbus.Chains[string, job] // one customer's jobs one at a time, in order

	mu sync.Mutex
	// held are the messages taken and not yet acknowledged or given
	// back, by stream sequence: all of them, the ones waiting behind a
	// customer's retry included, are kept alive, so JetStream does not
	// redeliver one behind the customer's later changes.
	held map[uint64]jetstream.Msg
}

type job struct {
	msg    jetstream.Msg
	seq    uint64
	stored time.Time
	change envelope.ConsentChange
	err    error // the body is no consent_change
}

func (h *Hook) runTarget(ctx context.Context, t *target) {
	r := &runner{h: h, t: t, stop: ctx, work: context.WithoutCancel(ctx),
		sem: make(chan struct{}, h.cfg.Workers), held: map[uint64]jetstream.Msg{}}
	r.chains = natsbus.NewChains(r.run)
	stopKeepAlive := r.keepAlive()
	defer stopKeepAlive()
	natsbus.KeepConsuming(ctx, r.consume, func(err error, retryIn time.Duration) {
		t.log.Warn().Err(err).Dur("retry_in", retryIn).Msg("consuming consent changes stopped; resuming")
	})
	r.chains.Wait()
}

func (r *runner) consume(ctx context.Context) error {
	batchSize := min(r.h.cfg.MaxAckPending, max(r.h.cfg.Workers, 16))
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		batch, err := r.t.cons.Fetch(batchSize, jetstream.FetchMaxWait(fetchWait))
		if err != nil {
			return fmt.Errorf("pull consent changes: %w", err)
		}
		for msg := range batch.Messages() {
			if ctx.Err() != nil {
				_ = msg.Nak()
				continue
			}
			r.dispatch(r.decode(msg))
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			return fmt.Errorf("pull consent changes: %w", err)
		}
	}
}

func (r *runner) decode(msg jetstream.Msg) job {
	j := job{msg: msg}
	if md, err := msg.Metadata(); err == nil {
		j.seq, j.stored = md.Sequence.Stream, md.Timestamp
	}
	j.change, j.err = envelope.DecodeConsent(msg.Data())
	return j
}

// dispatch queues a job behind its customer's, or starts the customer's
// chain. It never blocks. Undecodable changes share one chain.
func (r *runner) dispatch(j job) {
	r.mu.Lock()
	if _, dup := r.held[j.seq]; dup && j.seq != 0 {
		// A redelivery of a change in hand or queued (its ack was late):
		// the copy held is enough.
		r.mu.Unlock()
		return
	}
	r.held[j.seq] = j.msg
	r.mu.Unlock()
	r.chains.Dispatch(string(j.change.Customer), j)
}

// run handles one of a customer's jobs; after shutdown it naks those not
// started.
func (r *runner) run(_ string, j job) {
	if r.stop.Err() != nil {
		_ = j.msg.Nak()
	} else {
		r.handle(j)
	}
	r.mu.Lock()
	delete(r.held, j.seq)
	r.mu.Unlock()
}

// keepAlive tells JetStream every held message is being worked on, until
// stopped.
func (r *runner) keepAlive() (stop func()) {
	return natsbus.Ticking(max(r.h.cfg.AckWait/3, 10*time.Millisecond), func() {
		r.mu.Lock()
		msgs := make([]jetstream.Msg, 0, len(r.held))
		for _, m := range r.held {
			msgs = append(msgs, m)
		}
		r.mu.Unlock()
		for _, m := range msgs {
			_ = m.InProgress()
		}
	})
}

// answer is the result of one attempt.
type answer struct {
	status     int // 0: no answer
	err        error
	retryAfter time.Duration
	snippet    string
}

func (a answer) result() string {
	switch {
	case a.status == 0:
		return "error"
	case a.status == http.StatusTooManyRequests:
		return "429"
	}
	return strconv.Itoa(a.status/100) + "xx"
}

func (a answer) retryable() bool {
	return a.status == 0 || a.status == http.StatusRequestTimeout || a.status == http.StatusTooManyRequests || a.status >= 500
}

func (a answer) String() string {
	if a.status == 0 {
		return "no answer: " + a.err.Error()
	}
	s := fmt.Sprintf("answered %d %s", a.status, http.StatusText(a.status))
	if a.snippet != "" {
		s += ": " + strconv.Quote(a.snippet)
	}
	return s
}

func (r *runner) handle(j job) {
	h, t := r.h, r.t
	start := time.Now()
	log := t.log.With().Uint64("stream_seq", j.seq).Logger()
	if j.err != nil {
		log.Warn().Err(j.err).Msg("not a consent change: dead-lettered")
		r.deadLetter(j, fmt.Sprintf("business %s: not a consent_change envelope: %v", t.Business, j.err), OutcomeInvalid, 0, start)
		return
	}
	log = log.With().Str("event", j.change.ID).Logger()
	attempts := 0
	for {
		r.sem <- struct{}{}
		if r.stop.Err() != nil {
			<-r.sem
			r.giveBack(j, log, attempts)
			return
		}
		a := r.attempt(j)
		<-r.sem
		attempts++
		if a.status >= 200 && a.status < 300 {
			if err := j.msg.Ack(); err != nil {
				log.Warn().Err(err).Msg("delivered, but the ack failed: it will be posted again")
			}
			log.Debug().Str("customer", j.change.Customer.Redacted()).Int("attempts", attempts).Msg("consent change delivered")
			r.observe(OutcomeDelivered, attempts, start)
			return
		}
		if !a.retryable() {
			log.Warn().Int("status", a.status).Int("attempts", attempts).Msg("the business's webhook refused the consent change: dead-lettered")
			r.deadLetter(j, fmt.Sprintf("business %s: POST to %s %s; not retried", t.Business, t.host, a), OutcomeRejected, attempts, start)
			return
		}
		age := h.cfg.Clock().Sub(j.stored)
		if attempts >= h.cfg.MaxAttempts || (!j.stored.IsZero() && age >= h.cfg.MaxAge) {
			log.Warn().Int("status", a.status).Int("attempts", attempts).Msg("the business's webhook kept failing: dead-lettered")
			r.deadLetter(j, fmt.Sprintf("business %s: POST to %s %s; gave up after %d attempts, %s after the change", t.Business, t.host, a,
				attempts, age.Round(time.Second)), OutcomeExhausted, attempts, start)
			return
		}
		wait := h.backoff(attempts, a.retryAfter)
		log.Warn().Int("status", a.status).AnErr("error", a.err).Int("attempt", attempts).Dur("retry_in", wait).Msg("consent webhook failed; retrying")
		select {
		case <-r.stop.Done():
			r.giveBack(j, log, attempts)
			return
		case <-time.After(wait):
		}
	}
}

func (r *runner) attempt(j job) answer {
	h, t := r.h, r.t
	ctx, cancel := context.WithTimeout(r.work, h.cfg.Timeout)
	defer cancel()
	start := time.Now()
	a := answer{}
	req, err := NewRequest(ctx, t.URL, t.Secret, j.change.ID, j.msg.Data(), h.cfg.Clock())
	if err != nil {
		a.err = err
	} else if resp, err := h.cfg.Client.Do(req); err != nil {
		a.err = scrub(err)
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		a.status = resp.StatusCode
		a.snippet = strings.TrimSpace(string(body))
		if len(a.snippet) > 200 {
			a.snippet = a.snippet[:200] + "…"
		}
		if a.status == http.StatusTooManyRequests || a.status == http.StatusServiceUnavailable {
			a.retryAfter = min(retryAfter(resp.Header.Get("Retry-After"), h.cfg.Clock()), h.cfg.MaxRetryAfter)
		}
	}
	if o := h.cfg.Observer; o != nil {
		o.ObserveAttempt(t.Business, a.result(), time.Since(start))
	}
	return a
}

// scrub drops the URL from a client error: it may hold a token.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// backoff is the wait before the retry following attempt n: full jitter
// over min(BackoffMax, BackoffBase·2^(n-1)), or retryAfter when longer.
func (h *Hook) backoff(n int, retryAfter time.Duration) time.Duration {
	ceiling := h.cfg.BackoffMax
	if n-1 < 30 {
		ceiling = min(ceiling, h.cfg.BackoffBase<<(n-1))
	}
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	return max(wait, retryAfter)
}

// deadLetter publishes the change as a dead letter and acknowledges it;
// if the publication fails the change is left for a redelivery.
func (r *runner) deadLetter(j job, reason string, outcome Outcome, attempts int, start time.Time) {
	h := r.h
	id := fmt.Sprintf("%s:%s", DeadLetterProvider, j.change.ID)
	if j.err != nil || j.change.ID == "" {
		id = fmt.Sprintf("%s:%s:seq-%d", DeadLetterProvider, r.t.Business, j.seq)
	}
	d := envelope.DeadLetter{ID: id, Provider: DeadLetterProvider, Reason: reason, Item: string(j.msg.Data()),
		ReceivedAt: h.cfg.Clock().UTC()}
	// Retried here rather than left for a redelivery, which would let the
	// customer's later changes go first.
	for n := 1; ; n++ {
		ctx, cancel := context.WithTimeout(r.work, h.cfg.PublishTimeout)
		_, err := h.pub.DeadLetter(ctx, d)
		cancel()
		if err == nil {
			break
		}
		wait := h.backoff(n, 0)
		r.t.log.Error().Err(err).Uint64("stream_seq", j.seq).Dur("retry_in", wait).Msg("the dead letter could not be published; retrying")
		select {
		case <-r.stop.Done():
			_ = j.msg.Nak()
			return
		case <-time.After(wait):
		}
	}
	if err := j.msg.Ack(); err != nil {
		r.t.log.Warn().Err(err).Uint64("stream_seq", j.seq).Msg("dead-lettered, but the ack failed")
	}
	r.observe(outcome, attempts, start)
}

// giveBack leaves a change for a redelivery at shutdown.
func (r *runner) giveBack(j job, log zerolog.Logger, attempts int) {
	_ = j.msg.Nak()
	log.Info().Int("attempts", attempts).Msg("shutting down: consent change given back for a redelivery")
}

func (r *runner) observe(outcome Outcome, attempts int, start time.Time) {
	if o := r.h.cfg.Observer; o != nil {
		o.ObserveDelivery(r.t.Business, outcome, attempts, time.Since(start))
	}
}
