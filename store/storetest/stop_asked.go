package storetest

import (
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// testStopAsked: the pending question whether to stop round-trips, its
// time to the microsecond in UTC, independent of the turn handed in, and
// a later turn without it clears it.
func testStopAsked(t *testing.T, s Store) {
	since := t0.Add(-time.Hour)
	at := time.Date(2026, 1, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	conv := bot.Conversation{FlowName: "retail", FlowVersion: "v1", State: "subscribed", LastPrompt: "Thanks!",
		StopAsked: &bot.StopQuestion{At: at, Text: "basta ✋", Prompt: "¿Quieres dejar de recibir mensajes?\n\nDo you want to stop?", Language: "es"}}
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.ask1", Conversation: conv, At: t0})
	want := conv
	want.StopAsked = &bot.StopQuestion{At: Norm(at), Text: "basta ✋", Prompt: "¿Quieres dejar de recibir mensajes?\n\nDo you want to stop?", Language: "es"}
	conv.StopAsked.Text = "mutated"
	got := load(t, s, acme, phone, since).Conversation
	equal(t, "conversation with a stop question", got, want)
	got.StopAsked.Prompt = "mutated"
	equal(t, "stop question after mutating the loaded one", load(t, s, acme, phone, since).Conversation, want)

	cleared := want
	cleared.StopAsked = nil
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "wamid.ask2", Conversation: cleared, At: t0})
	equal(t, "stop question answered", load(t, s, acme, phone, since).Conversation, cleared)
}
