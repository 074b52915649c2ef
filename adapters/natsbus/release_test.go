package natsbus

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/memstore"
)

// TestConsumerReleases: a handoff_release on release.<business> reaches
// HandleHandoffRelease once (the repeat is dropped by the stream); a
// release the engine refuses (no handoff stands) is terminated, not
// retried; one that does not decode is terminated too.
func TestConsumerReleases(t *testing.T) { consumerReleases(t, embedded(t)) }

func consumerReleases(t *testing.T, b *bus) {
	engine := newFakeEngine(memstore.New())
	engine.fail = func(c call, attempt int) error {
		if c.id == "rel-none" {
			return fmt.Errorf("handoff release %q: %w", c.id, bot.ErrNoHandoff)
		}
		return nil
	}
	startConsumer(t, b, engine, ConsumerConfig{AckWait: 300 * time.Millisecond, BackoffMin: 10 * time.Millisecond})
	ctx := testCtx(t)
	rel := envelope.HandoffRelease{ID: "rel-1", Business: "acme", Customer: "+14155550100", State: "menu", Agent: "maria"}
	for _, r := range []envelope.HandoffRelease{rel, rel, {ID: "rel-none", Business: "acme", Customer: "US.1234"}} {
		if _, err := b.pub.Release(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	msg := nats.NewMsg(b.streams.Subjects.Release("acme"))
	msg.Header.Set("Nats-Msg-Id", "release:bad")
	msg.Data = []byte(`{"v":1,"type":"handoff_release","id":"bad","business":"acme"}`)
	if _, err := b.js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 10*time.Second, settled(t, b), "releases not acknowledged or terminated")
	time.Sleep(500 * time.Millisecond) // longer than AckWait: nothing comes back
	got := engine.handled()
	want := call{kind: "release", id: "rel-1", business: "acme", customer: "+14155550100", text: "menu/maria"}
	if len(got) != 1 || got[0] != want {
		t.Errorf("engine handled %+v, want %+v", got, want)
	}
	if n := engine.attemptsOf("release", "rel-none"); n != 1 {
		t.Errorf("a release with no handoff tried %d times, want 1", n)
	}
	if info := consumerInfo(t, b, ""); info.NumRedelivered != 0 || info.NumAckPending != 0 {
		t.Errorf("consumer: %d redelivered, %d pending acks", info.NumRedelivered, info.NumAckPending)
	}
}
