package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

var askTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"PromptAsksRoundTrip", testPromptAsks},
	{"PromptAsksWithDuplicateDedupID", testPromptAsksDuplicate},
}

// testPromptAsks: a turn's asks come back with the turn's business and
// customer, filtered by business, flow and time, in commit order.
func testPromptAsks(t *testing.T, s Store) {
	at := t0.Add(123456789 * time.Nanosecond)
	commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: "in:1", At: at, Conversation: conversation("ask", at),
		Asks: []bot.PromptAsk{{Flow: "retail", FlowVersion: "v1", State: "welcome", Variant: "short", At: at}}})
	commit(t, s, bot.Turn{Business: acme, Customer: phone2, DedupID: "in:2", At: at.Add(time.Hour), Conversation: conversation("ask", at),
		Asks: []bot.PromptAsk{
			{Flow: "retail", FlowVersion: "v2", State: "welcome", Variant: "control", At: at.Add(time.Hour)},
			{Flow: "news", FlowVersion: "v1", State: "ask", Variant: "a", At: at.Add(time.Hour)},
		}})
	commit(t, s, bot.Turn{Business: globex, Customer: phone, DedupID: "in:3", At: at, Conversation: conversation("ask", at),
		Asks: []bot.PromptAsk{{Flow: "retail", FlowVersion: "v1", State: "welcome", Variant: "short", At: at}}})

	first := bot.PromptAsk{Business: acme, Customer: phone, Flow: "retail", FlowVersion: "v1", State: "welcome", Variant: "short", At: Norm(at)}
	second := bot.PromptAsk{Business: acme, Customer: phone2, Flow: "retail", FlowVersion: "v2", State: "welcome", Variant: "control", At: Norm(at.Add(time.Hour))}
	third := bot.PromptAsk{Business: acme, Customer: phone2, Flow: "news", FlowVersion: "v1", State: "ask", Variant: "a", At: Norm(at.Add(time.Hour))}
	for _, tc := range []struct {
		name  string
		flow  string
		since time.Time
		want  []bot.PromptAsk
	}{
		{"all", "", time.Time{}, []bot.PromptAsk{first, second, third}},
		{"one flow", "retail", time.Time{}, []bot.PromptAsk{first, second}},
		{"since", "retail", at.Add(time.Minute), []bot.PromptAsk{second}},
		{"since, inclusive", "", Norm(at.Add(time.Hour)), []bot.PromptAsk{second, third}},
		{"unknown flow", "nope", time.Time{}, []bot.PromptAsk{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PromptAsks(t.Context(), acme, tc.flow, tc.since)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].At = got[i].At.UTC()
			}
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("PromptAsks(acme, %q, %v)\n got %+v\nwant %+v", tc.flow, tc.since, got, tc.want)
			}
		})
	}
}

// testPromptAsksDuplicate: a redelivered turn records no asks.
func testPromptAsksDuplicate(t *testing.T, s Store) {
	turn := bot.Turn{Business: acme, Customer: phone, DedupID: "in:1", At: t0, Conversation: conversation("ask", t0),
		Asks: []bot.PromptAsk{{Flow: "retail", FlowVersion: "v1", State: "welcome", Variant: "short", At: t0}}}
	commit(t, s, turn)
	if err := s.Commit(t.Context(), turn); !errors.Is(err, bot.ErrDuplicate) {
		t.Fatalf("second Commit = %v, want ErrDuplicate", err)
	}
	got, err := s.PromptAsks(t.Context(), acme, "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Errorf("%d asks after a redelivery, want 1", len(got))
	}
}
