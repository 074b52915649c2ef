package compliance

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

// generatedFlow returns a valid flow of n states in a ring that uses most
// of the language: buttons and lists, keywords, regex, both timers,
// capture, handoff, two topics opted in and out on the way.
func generatedFlow(n int) []byte {
	var b strings.Builder
	b.WriteString(`business: Bench Co
language: en
help: Bench Co on WhatsApp. Reply STOP to unsubscribe, START to subscribe again.
vars:
  size: "2"
topics:
  news:
    category: marketing
    description: news from Bench Co
  orders:
    category: utility
    description: updates about your orders
templates:
  - {name: weekly, topic: news}
  - {name: order_update, topic: orders}
states:
`)
	for i := range n {
		next := (i + 1) % n
		if i%2 == 0 {
			fmt.Fprintf(&b, `  state_%d:
    prompt:
      text: "Step %d: news from Bench Co on WhatsApp? Reply YES. Reply STOP at any time to opt out."
      buttons:
        - {id: "yes", title: "Yes"}
        - {id: "no", title: "No"}
    on:
      - button: "yes"
        keywords: ["yes", "y", "sure", "ok"]
        opt_in: news
        goto: state_%d
      - button: "no"
        regex: '(?i)^\s*(no|nope|later)\s*$'
        opt_out: news
        goto: state_%d
      - after: 2h
        goto: state_%d
      - before_window_closes: 30m
        end: true
      - else: true
        goto: state_%d
`, i, i, next, next, next, i)
			continue
		}
		fmt.Fprintf(&b, `  state_%d:
    prompt:
      text: "Step %d ({{size}}): updates about your orders from Bench Co on WhatsApp? Reply STOP at any time to opt out."
      list:
        button: Options
        rows:
          - {id: more, title: More}
          - {id: orders, title: Order updates}
          - {id: agent, title: Talk to us}
          - {id: stop_here, title: Stop here}
    on:
      - button: more
        goto: state_%d
      - button: orders
        opt_in: orders
        goto: state_%d
      - button: agent
        handoff: support
      - button: stop_here
        end: true
      - regex: '^[0-9]+$'
        capture: size
        goto: state_%d
      - else: true
        goto: state_%d
`, i, i, next, next, next, next)
	}
	return []byte(b.String())
}

func TestGeneratedFlow(t *testing.T) {
	src := generatedFlow(20)
	f, err := flows.Load("bench.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Explore(context.Background(), f, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) > 0 || rep.NodeCapped || rep.DepthCapped || rep.States != 20 {
		t.Errorf("report: %+v", rep)
	}
}

// BenchmarkExplore200 explores a generated 200-state flow: completely with
// the default caps, and with the depth capped at 30 inputs.
func BenchmarkExplore200(b *testing.B) {
	src := generatedFlow(200)
	f, err := flows.Load("bench.yaml", src)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"depth30", Options{MaxDepth: 30}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var rep *Report
			b.ReportAllocs()
			for b.Loop() {
				if rep, err = Explore(context.Background(), f, src, bc.opts); err != nil {
					b.Fatal(err)
				}
			}
			if len(rep.Violations) > 0 {
				b.Fatalf("violations: %+v", rep.Violations)
			}
			b.ReportMetric(float64(rep.Nodes), "nodes")
			b.ReportMetric(float64(rep.States), "states")
		})
	}
}
