// Package webhook is the HTTP server side every provider adapter shares: it
// takes a provider's webhook request, checks its signature, has the
// provider normalise the body into envelopes, publishes every envelope
// durably to NATS JetStream and only then answers 200.
//
// The contract (docs/adapters.md):
//
//   - GET is the provider's verification handshake when the Provider
//     implements Handshaker, else 405. Every other method but POST is 405.
//   - The body is capped (Config.MaxBody, 1 MiB by default): a larger one
//     is 413.
//   - Verify runs before anything reads the body's content: a request
//     failing it is 401 (logged without its body).
//   - A body Parse cannot read at all is 400 (logged without its body).
//     Items of a readable body that cannot be normalised are dead letters,
//     published like the rest, so one bad item never costs the others.
//   - Every item is published with its Nats-Msg-Id and its PubAck awaited
//     (an item repeated within the body once); only then the answer is 200.
//     If any publish fails (NATS down, a PubAck not within
//     Config.PublishTimeout) the answer is 503: the provider retries the
//     whole body later, and the items already stored are dropped by the
//     streams' duplicate windows. Nothing is lost and nothing doubled.
//
// Nothing here logs a body, a message text or a full phone number at info
// level or above. Metrics are the caller's: see Observer.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// Provider is one provider's webhook dialect.
type Provider interface {
	// Name is the provider's name, as in the envelopes' "provider" field
	// and the dead-letter subject: "meta", "twilio"…
	Name() string
	// Verify checks the request is the provider's: a signature over body,
	// a shared secret… An error wrapping envelope.ErrUnauthorized answers
	// 401; any other error 500 (the provider retries). It must not read
	// r.Body (body holds it) and its error must not quote the body.
	Verify(r *http.Request, body []byte) error
	// Parse normalises a verified body received at receivedAt. An error
	// means the body as a whole is unreadable (not JSON, not the
	// provider's shape) and answers 400; its message must not quote the
	// body. Items that cannot be normalised go in Batch.DeadLetters.
	Parse(body []byte, receivedAt time.Time) (envelope.Batch, error)
}

// Handshaker is implemented by providers that verify a webhook URL with a
// GET request (Meta's hub.challenge). Handshake writes the whole response.
type Handshaker interface {
	Handshake(w http.ResponseWriter, r *http.Request)
}

// Acknowledger is implemented by providers that want a particular body in
// the 200 answer (Twilio: an empty TwiML <Response/>). Acknowledge writes
// the whole response, status 200 included. Without it the answer is 200
// with an empty body.
type Acknowledger interface {
	Acknowledge(w http.ResponseWriter)
}

// Publisher publishes a batch durably: every item with its Nats-Msg-Id,
// waiting for each PubAck, and returns how many items the streams already
// held (duplicates). *natsbus.Publisher implements it.
type Publisher interface {
	PublishBatch(ctx context.Context, b envelope.Batch) (duplicates int, err error)
}

// Outcome is how a request ended, for an Observer.
type Outcome string

const (
	OutcomeOK               Outcome = "ok"                 // 200: every item published
	OutcomeHandshake        Outcome = "handshake"          // GET answered by the Handshaker
	OutcomeMethodNotAllowed Outcome = "method_not_allowed" // 405
	OutcomeTooLarge         Outcome = "too_large"          // 413
	OutcomeUnauthorized     Outcome = "unauthorized"       // 401
	OutcomeBadRequest       Outcome = "bad_request"        // 400: unreadable body
	OutcomeUnavailable      Outcome = "unavailable"        // 503: publishing failed; the provider retries
	OutcomeError            Outcome = "error"              // 500: Verify failed for another reason than the signature
)

// Observer is told about every request, e.g. to count them in Prometheus.
// It is called from many goroutines at once and must not block.
// ObserveItems follows ObserveRequest's OutcomeOK requests, once per
// envelope type present (envelope.TypeInbound, TypeStatus, TypeSignal,
// TypeEvent, TypeDeadLetter) with the number of items of that type
// published, repeats within the body counted once (a provider's retry of a
// whole body is counted again: the streams drop it).
type Observer interface {
	ObserveRequest(provider string, outcome Outcome, elapsed time.Duration)
	ObserveItems(provider, itemType string, n int)
}

// Defaults of Config.
const (
	DefaultMaxBody        = 1 << 20 // 1 MiB
	DefaultPublishTimeout = 5 * time.Second
)

// Config configures a webhook handler. The zero value is the default,
// logging nothing.
type Config struct {
	// MaxBody caps the request body in bytes; a larger one is 413.
	// Default 1 MiB.
	MaxBody int64
	// PublishTimeout bounds the publication of a whole body, PubAcks
	// included; past it the answer is 503. Default 5s.
	PublishTimeout time.Duration
	Logger         zerolog.Logger
	// Observer, optional, sees every request.
	Observer Observer
	// Clock gives the receivedAt handed to Parse; nil means time.Now.
	Clock func() time.Time
}

// handler serves one provider's webhook.
type handler struct {
	p        Provider
	name     string
	pub      Publisher
	cfg      Config
	log      zerolog.Logger
	shake    Handshaker
	ack      Acknowledger
	observer Observer
}

// NewHandler returns the webhook handler of a provider, publishing through
// pub. It panics if p or pub is nil (a wiring bug). Mount it on the path
// the provider is configured with; the http.Server's timeouts are the
// caller's (set ReadHeaderTimeout and ReadTimeout).
func NewHandler(p Provider, pub Publisher, cfg Config) http.Handler {
	if p == nil || pub == nil {
		panic("webhook.NewHandler: a Provider and a Publisher are required")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	h := &handler{
		p: p, name: p.Name(), pub: pub, cfg: cfg, observer: cfg.Observer,
		log: cfg.Logger.With().Str("component", "webhook").Str("provider", p.Name()).Logger(),
	}
	h.shake, _ = p.(Handshaker)
	h.ack, _ = p.(Acknowledger)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	outcome := h.serve(w, r)
	if h.observer != nil {
		h.observer.ObserveRequest(h.name, outcome, time.Since(start))
	}
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) Outcome {
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet:
		if h.shake != nil {
			h.shake.Handshake(w, r)
			return OutcomeHandshake
		}
		fallthrough
	default:
		allow := "POST"
		if h.shake != nil {
			allow = "GET, POST"
		}
		w.Header().Set("Allow", allow)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return OutcomeMethodNotAllowed
	}

	receivedAt := h.cfg.Clock()
	if r.ContentLength > h.cfg.MaxBody {
		return h.tooLarge(w, r.ContentLength)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return h.tooLarge(w, -1)
		}
		h.log.Warn().Err(err).Msg("webhook body could not be read")
		http.Error(w, "body could not be read", http.StatusBadRequest)
		return OutcomeBadRequest
	}

	if err := h.p.Verify(r, body); err != nil {
		if errors.Is(err, envelope.ErrUnauthorized) {
			h.log.Warn().Err(err).Str("remote", r.RemoteAddr).Int("bytes", len(body)).Msg("webhook request refused: unauthorized")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return OutcomeUnauthorized
		}
		h.log.Error().Err(err).Msg("webhook request could not be verified")
		http.Error(w, "verification failed", http.StatusInternalServerError)
		return OutcomeError
	}

	batch, err := h.p.Parse(body, receivedAt)
	if err != nil {
		h.log.Warn().Err(err).Int("bytes", len(body)).Msg("webhook body refused: unreadable")
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return OutcomeBadRequest
	}
	batch, invalid := h.prepare(batch, receivedAt)
	if invalid > 0 {
		h.log.Warn().Int("items", invalid).Msg("webhook items invalid after normalisation: published as dead letters")
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.cfg.PublishTimeout)
	defer cancel()
	dups, err := h.pub.PublishBatch(ctx, batch)
	if err != nil {
		h.log.Error().Err(err).Int("items", batch.Len()).Msg("webhook items not published: answering 503 so the provider retries")
		w.Header().Set("Retry-After", "5")
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return OutcomeUnavailable
	}
	h.observeItems(batch)
	if len(batch.DeadLetters) > 0 {
		h.log.Warn().Int("dead_letters", len(batch.DeadLetters)).Msg("webhook items dead-lettered")
	}
	h.log.Debug().Int("inbound", len(batch.Inbound)).Int("statuses", len(batch.Statuses)).Int("signals", len(batch.Signals)).
		Int("events", len(batch.Events)).Int("dead_letters", len(batch.DeadLetters)).Int("duplicates", dups).
		Msg("webhook published")
	if h.ack != nil {
		h.ack.Acknowledge(w)
	} else {
		w.WriteHeader(http.StatusOK)
	}
	return OutcomeOK
}

func (h *handler) tooLarge(w http.ResponseWriter, contentLength int64) Outcome {
	h.log.Warn().Int64("max_bytes", h.cfg.MaxBody).Int64("content_length", contentLength).Msg("webhook body refused: too large")
	w.Header().Set("Connection", "close")
	http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
	return OutcomeTooLarge
}

func (h *handler) observeItems(b envelope.Batch) {
	if h.observer == nil {
		return
	}
	for _, c := range []struct {
		typ string
		n   int
	}{
		{envelope.TypeInbound, len(b.Inbound)}, {envelope.TypeStatus, len(b.Statuses)}, {envelope.TypeSignal, len(b.Signals)},
		{envelope.TypeEvent, len(b.Events)}, {envelope.TypeDeadLetter, len(b.DeadLetters)},
	} {
		if c.n > 0 {
			h.observer.ObserveItems(h.name, c.typ, c.n)
		}
	}
}

// prepare makes a parsed batch publishable: an item that does not validate
// (an adapter's bug, or a provider value the adapter let through) becomes a
// dead letter naming why, a dead letter missing fields gets them, and an
// item repeated within the body is kept once. It returns the number of
// items turned into dead letters.
func (h *handler) prepare(b envelope.Batch, receivedAt time.Time) (envelope.Batch, int) {
	var out envelope.Batch
	invalid := 0
	seen := make(map[string]bool, b.Len())
	first := func(kind, msgID string) bool {
		k := kind + "\x00" + msgID
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	dead := func(typ, sender string, v any, err error) {
		invalid++
		item, _ := json.Marshal(v)
		out.DeadLetters = append(out.DeadLetters, envelope.DeadLetter{
			ID: h.name + ":invalid:" + digest(typ, item), Provider: h.name, Sender: sender,
			Reason: err.Error(), Item: string(item), ReceivedAt: receivedAt,
		})
	}
	for _, m := range b.Inbound {
		if err := m.Validate(); err != nil {
			dead(envelope.TypeInbound, m.Sender, m, err)
		} else if first("in", m.MsgID()) {
			out.Inbound = append(out.Inbound, m)
		}
	}
	for _, s := range b.Statuses {
		if err := s.Validate(); err != nil {
			dead(envelope.TypeStatus, s.Sender, s, err)
		} else if first("in", s.MsgID()) {
			out.Statuses = append(out.Statuses, s)
		}
	}
	for _, s := range b.Signals {
		if err := s.Validate(); err != nil {
			dead(envelope.TypeSignal, s.Sender, s, err)
		} else if first("in", s.MsgID()) {
			out.Signals = append(out.Signals, s)
		}
	}
	for _, e := range b.Events {
		if err := e.Validate(); err != nil {
			dead(envelope.TypeEvent, e.Sender, e, err)
		} else if first("out", e.MsgID()) {
			out.Events = append(out.Events, e)
		}
	}
	for _, d := range b.DeadLetters {
		if d.Provider == "" {
			d.Provider = h.name
		}
		if d.Reason == "" {
			d.Reason = "no reason given by the adapter"
		}
		if d.ReceivedAt.IsZero() {
			d.ReceivedAt = receivedAt
		}
		if d.Validate() != nil { // the id: empty or with control characters
			d.ID = h.name + ":dead:" + digest(d.Reason, []byte(d.Item))
		}
		if first("out", d.MsgID()) {
			out.DeadLetters = append(out.DeadLetters, d)
		}
	}
	return out, invalid
}

// digest is a short stable id for content: the same body yields the same
// dead-letter ids, so the provider's retry is deduplicated.
func digest(kind string, data []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", kind)
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil)[:16])
}
