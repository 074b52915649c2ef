package bot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
	"github.com/optinbot/optinbot/store/storetest"
)

// BenchmarkStep is the engine's pure step for one inbound message of a
// customer mid-conversation: keyword check, FSM transition, guard, effects.
func BenchmarkStep(b *testing.B) {
	f, src := loadExample(&testing.T{}, examples.Retail)
	_ = src
	kw := bot.NewKeywords(f.Language, f.Keywords)
	m, err := bot.Compile(f, kw.Polite())
	if err != nil {
		b.Fatal(err)
	}
	biz := &bot.Business{ID: "acme", Machine: m, Keywords: kw}
	conv := bot.Conversation{FlowName: f.Name, FlowVersion: f.Version, State: "subscribed", LastInboundAt: t0}
	in := bot.Inbound{ID: "wamid.1", Customer: alice, Timestamp: t0, Text: "Where is my parcel?"}
	b.ReportAllocs()
	for b.Loop() {
		s := bot.Session{Business: "acme", Customer: alice, Conversation: conv}
		turn := biz.HandleInbound(m, &s, in, t0)
		if len(turn.Effects) != 1 {
			b.Fatalf("effects = %+v", turn.Effects)
		}
	}
}

// BenchmarkInboundMemory is one inbound message through the Service on the
// in-memory store: redelivery check, session load, step, commit.
func BenchmarkInboundMemory(b *testing.B) {
	storetest.BenchEngineTurn(b, memstore.New())
}

// flow200 generates a 200-state flow: a chain of questions, each with two
// buttons, keywords, an "else" and a timer, the first one asking for
// consent.
func flow200(b *testing.B) (*flows.Flow, []byte) {
	var y strings.Builder
	y.WriteString("business: Acme Outfitters\ntopics:\n  news: {category: marketing, description: our weekly news}\n")
	y.WriteString("templates:\n  - {name: weekly, topic: news}\nstates:\n")
	for i := 0; i < 200; i++ {
		next := fmt.Sprintf("s%d", (i+1)%200)
		fmt.Fprintf(&y, "  s%d:\n    prompt:\n      text: \"Question %d: our weekly news from Acme Outfitters on WhatsApp? Reply YES, or STOP to opt out.\"\n", i, i)
		y.WriteString("      buttons:\n        - {id: a, title: \"Yes\"}\n        - {id: b, title: \"No\"}\n    on:\n")
		fmt.Fprintf(&y, "      - button: a\n        keywords: [\"yes\", \"sure\"]\n        opt_in: news\n        goto: %s\n", next)
		fmt.Fprintf(&y, "      - button: b\n        goto: %s\n      - after: 2h\n        goto: %s\n      - else: true\n        goto: s%d\n", next, next, i)
	}
	src := []byte(y.String())
	f, err := flows.Load("flow200.yaml", src)
	if err != nil {
		b.Fatal(err)
	}
	return f, src
}

// BenchmarkCompile200 compiles a loaded 200-state flow into the engine's
// machine (FSM events and keyword matchers), once per flow version.
func BenchmarkCompile200(b *testing.B) {
	f, _ := flow200(b)
	kw := bot.NewKeywords(f.Language, f.Keywords)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bot.Compile(f, kw.Polite()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStep200 is one message mid-flow on the 200-state flow: the cost
// does not grow with the flow (a pooled FSM is restored and fired).
func BenchmarkStep200(b *testing.B) {
	f, _ := flow200(b)
	kw := bot.NewKeywords(f.Language, f.Keywords)
	m, err := bot.Compile(f, kw.Polite())
	if err != nil {
		b.Fatal(err)
	}
	biz := &bot.Business{ID: "acme", Machine: m, Keywords: kw}
	conv := bot.Conversation{FlowName: f.Name, FlowVersion: f.Version, State: "s150", LastInboundAt: t0}
	in := bot.Inbound{ID: "wamid.1", Customer: alice, Timestamp: t0, ButtonID: "b"}
	b.ReportAllocs()
	for b.Loop() {
		s := bot.Session{Business: "acme", Customer: alice, Conversation: conv}
		if turn := biz.HandleInbound(m, &s, in, t0); turn.Conversation.State != "s151" {
			b.Fatalf("state %q", turn.Conversation.State)
		}
	}
}
