package storetest

import (
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// A handoff's timeout is a timer that holds what the bot resumes with: it
// round-trips whole, is due like any timer, and the store shares it with
// no caller (mutating the committed or the loaded hold changes nothing).
func testHandoffTimerRoundTrip(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	due := t0.Add(time.Hour)
	hold := &bot.HandoffHold{Queue: "front-desk", Flow: "clinic", FlowVersion: "3f2a9c1b7d0e", Resume: "ask", Timeout: time.Hour}
	conv := bot.Conversation{Handoff: "front-desk", LastInboundAt: t0, LastPrompt: "Connecting you…",
		Timers: []bot.Timer{{ID: "handoff@1767326645123", Due: due, State: "ask", Transition: -1, Handoff: hold}}}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.handoff1", Conversation: conv, At: t0})
	want := bot.Conversation{Handoff: "front-desk", LastInboundAt: t0, LastPrompt: "Connecting you…",
		Timers: []bot.Timer{{ID: "handoff@1767326645123", Due: due, State: "ask", Transition: -1,
			Handoff: &bot.HandoffHold{Queue: "front-desk", Flow: "clinic", FlowVersion: "3f2a9c1b7d0e", Resume: "ask", Timeout: time.Hour}}}}
	hold.Resume = "mutated"
	got := load(t, s, acme, phone, since).Conversation
	equal(t, "conversation with a handoff timer", got, want)
	got.Timers[0].Handoff.Queue = "mutated"
	equal(t, "after mutating the loaded hold", load(t, s, acme, phone, since).Conversation, want)

	ctx := t.Context()
	timers, err := s.DueTimers(ctx, due.Add(time.Microsecond), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(timers) != 1 || timers[0].Timer.ID != "handoff@1767326645123" || !timers[0].Timer.Due.Equal(due) ||
		timers[0].Customer != phone || timers[0].Business != acme {
		t.Errorf("due timers %+v", timers)
	}
	if early, err := s.DueTimers(ctx, due, 10); err != nil || len(early) != 0 {
		t.Errorf("due before the timeout: %+v, %v", early, err)
	}
}
