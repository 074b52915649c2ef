package natsbus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// Defaults of StreamConfig.
const (
	DefaultDuplicates = 10 * time.Minute
	DefaultMaxAge     = 7 * 24 * time.Hour
)

// StreamConfig configures EnsureStreams. The zero value is the default.
type StreamConfig struct {
	Prefix string // subject prefix; "" means envelope.DefaultPrefix
	// InDuplicates and OutDuplicates are the streams' duplicate windows:
	// a message whose Nats-Msg-Id was stored within the window is dropped.
	// Default 10 minutes.
	InDuplicates, OutDuplicates time.Duration
	// MaxAge is how long both streams keep messages (they hold phone
	// numbers and message text); the inbound stream deletes a message as
	// soon as the engine acknowledged it anyway. Default 7 days.
	MaxAge   time.Duration
	Replicas int                   // default 1
	Storage  jetstream.StorageType // default file
}

// Streams names the two streams of a prefix, as ensured.
type Streams struct {
	Subjects envelope.Subjects
	In, Out  string // stream names
}

// EnsureStreams creates the prefix's two streams, or updates them to the
// configuration: calling it again, from any number of processes, is safe.
// An update JetStream refuses (a different storage type, say) is an error.
//
// <P>_IN is a work queue (only the engine's durable consumer reads it, and
// it deletes what was acknowledged or terminated); <P>_OUT keeps messages
// for MaxAge, for any number of readers.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, cfg StreamConfig) (Streams, error) {
	n, err := namesFor(cfg.Prefix)
	if err != nil {
		return Streams{}, fmt.Errorf("ensure streams: %w", err)
	}
	inDup := orDefault(cfg.InDuplicates, DefaultDuplicates)
	outDup := orDefault(cfg.OutDuplicates, DefaultDuplicates)
	maxAge := orDefault(cfg.MaxAge, DefaultMaxAge)
	if inDup > maxAge || outDup > maxAge {
		return Streams{}, fmt.Errorf("ensure streams: duplicate windows (%v, %v) must not exceed MaxAge %v", inDup, outDup, maxAge)
	}
	replicas := cfg.Replicas
	if replicas == 0 {
		replicas = 1
	}
	subjects := func(kinds []envelope.SubjectKind) []string {
		var out []string
		for _, k := range kinds {
			out = append(out, n.subjects.All(k))
		}
		return out
	}
	for _, sc := range []jetstream.StreamConfig{
		{
			Name:        n.inStream,
			Description: "optinbot inbound: customer messages, send requests, delivery statuses, consent signals",
			Subjects:    subjects(envelope.InKinds),
			Duplicates:  inDup,
			// A work queue: the engine's consumer is its only reader, and a
			// message is deleted once acknowledged or terminated, so a
			// recreated consumer never replays handled inputs, and message
			// text is not kept once handled.
			Retention: jetstream.WorkQueuePolicy,
		},
		{
			Name:        n.outStream,
			Description: "optinbot outbound: allowed messages, consent changes, send decisions, deliveries, notices, provider events, dead letters",
			Subjects:    subjects(envelope.OutKinds),
			Duplicates:  outDup,
			Retention:   jetstream.LimitsPolicy, // read by any number of adapters and business systems
		},
	} {
		sc.Discard = jetstream.DiscardOld
		sc.MaxAge = maxAge
		sc.Storage = cfg.Storage
		sc.Replicas = replicas
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return Streams{}, fmt.Errorf("ensure stream %s: %w", sc.Name, err)
		}
	}
	return Streams{Subjects: n.subjects, In: n.inStream, Out: n.outStream}, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
