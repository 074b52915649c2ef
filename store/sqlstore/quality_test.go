package sqlstore

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

func TestQualitySQLite(t *testing.T)   { testQuality(t, openSQLiteTemp(t)) }
func TestQualityPostgres(t *testing.T) { testQuality(t, openPostgresTemp(t)) }

// testQuality: quality events are recorded once per id, each sees the
// sender's previous one, the history lists them in order, and the
// context counts the templates and opt-in answers of the window only.
func testQuality(t *testing.T, s *Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	const acme bot.BusinessID = "acme"
	var seen []*bot.QualityEvent
	record := func(id string, rating bot.QualityRating, tier string, at time.Time) (bot.QualityEvent, bool) {
		t.Helper()
		e, fresh, err := s.RecordQuality(ctx, id, acme, "15550101234", func(prev *bot.QualityEvent) bot.QualityEvent {
			seen = append(seen, prev)
			return bot.ClassifyQuality(prev, bot.QualityEvent{Provider: "meta", Rating: rating, Event: "X", Tier: tier,
				ProviderAt: at, RecordedAt: at.Add(time.Second)})
		})
		if err != nil {
			t.Fatal(err)
		}
		return e, fresh
	}
	first, fresh := record("q1", bot.RatingGreen, "TIER_1K", t0)
	if !fresh || first.Downgrade || seen[0] != nil {
		t.Errorf("first: fresh %v, %+v, prev %v", fresh, first, seen[0])
	}
	second, fresh := record("q2", bot.RatingYellow, "TIER_1K", t0.Add(time.Hour))
	if !fresh || !second.Downgrade || second.PreviousRating != bot.RatingGreen || seen[1] == nil || seen[1].ID != "q1" {
		t.Errorf("second: fresh %v, %+v", fresh, second)
	}
	again, fresh := record("q2", bot.RatingGreen, "TIER_1K", t0.Add(2*time.Hour))
	if fresh || len(seen) != 2 || !reflect.DeepEqual(again, second) {
		t.Errorf("repeat: fresh %v, build called %d times, %+v, want %+v", fresh, len(seen), again, second)
	}
	if _, _, err := s.RecordQuality(ctx, "other", "globex", "15550101234", func(prev *bot.QualityEvent) bot.QualityEvent {
		if prev != nil {
			t.Errorf("another business's number sees acme's event %+v", prev)
		}
		return bot.QualityEvent{Rating: bot.RatingRed, ProviderAt: t0, RecordedAt: t0}
	}); err != nil {
		t.Fatal(err)
	}
	history, err := s.QualityHistory(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 2 || !reflect.DeepEqual(history[0], first) || !reflect.DeepEqual(history[1], second) {
		t.Errorf("history %+v", history)
	}

	// What preceded: two templates and an opt-in inside the window, one
	// template and an opt-in before it.
	commit := func(customer bot.CustomerID, at time.Time, topics []flows.Topic, status bot.ConsentStatus, flowVersion string) {
		t.Helper()
		turn := bot.Turn{Business: acme, Customer: customer, At: at,
			Conversation: bot.Conversation{FlowName: "retail", FlowVersion: flowVersion, State: "menu", LastInboundAt: at}}
		for _, topic := range topics {
			turn.Templates = append(turn.Templates, bot.SentTemplate{At: at, Topic: topic})
		}
		if status != "" {
			turn.Consent = []bot.ConsentEvent{{ID: string(customer) + at.String(), Business: acme, Customer: customer, Channel: bot.Channel,
				Topic: "order_updates", Category: flows.CategoryUtility, Status: status, Source: bot.SourceInChannel,
				Trigger: "button optin_yes", InboundID: "wamid.1", Prompt: "Updates on WhatsApp?", FlowName: "retail",
				FlowVersion: flowVersion, At: at, Sender: "106540352242922"}}
		}
		if err := s.Commit(ctx, turn); err != nil {
			t.Fatal(err)
		}
	}
	commit("+14155550100", t0.Add(-30*time.Hour), []flows.Topic{"order_updates"}, bot.OptedIn, "v1")
	commit("+14155550101", t0.Add(-2*time.Hour), []flows.Topic{"order_updates", "promotions"}, bot.OptedIn, "v2")
	commit("+14155550102", t0.Add(-time.Hour), []flows.Topic{"order_updates"}, bot.OptedOut, "v2")
	qc, err := s.QualityContext(ctx, acme, t0.Add(-24*time.Hour), t0)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.QualityContext{Since: t0.Add(-24 * time.Hour), Until: t0,
		Templates: []bot.TemplateCount{{Topic: "order_updates", Sent: 2}, {Topic: "promotions", Sent: 1}},
		Prompts:   []bot.PromptCount{{Flow: "retail", Version: "v2", Status: "opted_in", Count: 1}, {Flow: "retail", Version: "v2", Status: "opted_out", Count: 1}}}
	if !reflect.DeepEqual(qc, want) {
		t.Errorf("context\n got %+v\nwant %+v", qc, want)
	}
}
