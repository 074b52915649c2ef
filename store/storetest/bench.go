package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// benchTurn is a typical opt-in turn: a conversation step, one consent
// event, one allowed template and two effects.
func benchTurn(i int, customers int) bot.Turn {
	cust := bot.CustomerID(fmt.Sprintf("+1415%07d", i%customers))
	at := t0.Add(time.Duration(i) * time.Millisecond)
	id := fmt.Sprintf("wamid.bench.%d", i)
	ev := event("in:"+id+":0", acme, cust, "order_updates", bot.OptedIn, at)
	return bot.Turn{Business: acme, Customer: cust, DedupID: id, At: at,
		Conversation: conversation("ask_topics", at),
		Consent:      []bot.ConsentEvent{ev},
		Templates:    []bot.SentTemplate{{At: at, Topic: "order_updates"}},
		Effects: []bot.Effect{
			{ID: "in:" + id + ":1", Kind: bot.EffectConsent, Business: acme, Customer: cust, InReplyTo: id, Consent: &ev},
			messageEffect("in:"+id+":2", acme, cust),
		},
	}
}

// BenchCommit measures Commit of a typical turn, spread over 1000 customers.
func BenchCommit(b *testing.B, s Store) {
	b.ReportAllocs()
	turns := make([]bot.Turn, b.N)
	for i := range turns {
		turns[i] = benchTurn(i, 1000)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := s.Commit(b.Context(), turns[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLoadSession measures LoadSession of a customer with a conversation,
// 20 consent events over 4 topics and 10 templates of the last day.
func BenchLoadSession(b *testing.B, s Store) {
	b.ReportAllocs()
	cust := bot.CustomerID("+14155550100")
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Minute)
		id := fmt.Sprintf("wamid.load.%d", i)
		turn := bot.Turn{Business: acme, Customer: cust, DedupID: id, At: at,
			Conversation: conversation("ask_topics", at),
			Templates:    []bot.SentTemplate{{At: at, Topic: "order_updates"}}}
		for j := range 2 {
			st := bot.OptedIn
			if (i+j)%3 == 0 {
				st = bot.OptedOut
			}
			turn.Consent = append(turn.Consent,
				event(fmt.Sprintf("%s:%d", id, j), acme, cust, flows.Topic(fmt.Sprintf("topic%d", (i*2+j)%4)), st, at))
		}
		if err := s.Commit(b.Context(), turn); err != nil {
			b.Fatal(err)
		}
	}
	since := t0.Add(-24 * time.Hour)
	b.ResetTimer()
	for range b.N {
		sess, err := s.LoadSession(b.Context(), acme, cust, since)
		if err != nil {
			b.Fatal(err)
		}
		if len(sess.Consent) != 4 || len(sess.RecentTemplates) != 10 {
			b.Fatalf("loaded %d topics and %d templates, want 4 and 10", len(sess.Consent), len(sess.RecentTemplates))
		}
	}
}
