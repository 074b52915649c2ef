package compliance

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

// The messages issue 10 found answered as if nothing had happened are all
// probes of P7.
func TestNearMissProbesHoldTheIssuesList(t *testing.T) {
	for _, m := range []string{"Unsubscribe me", "stop sending me messages", "Stop it", "STOPP", "🛑", "remove me",
		"no more messages", "s t o p", "arrêter", "se désabonner", "darme de baja", "basta", "no más", "sair"} {
		if !slices.Contains(NearMissProbes, m) {
			t.Errorf("%q is not a probe", m)
		}
	}
}

// enoughFlow asks with "enough" as an answer, which the engine takes as a
// possible opt-out first: the explorer reaches the state with the question
// pending, and probes it there too.
const enoughFlow = `business: Brewline Coffee
topics:
  news: {category: marketing, description: weekly coffee news}
templates:
  - {name: weekly_news, topic: news}
states:
  ask:
    prompt: Weekly coffee news from Brewline Coffee on WhatsApp? Reply YES, or MORE for more, or STOP at any time to opt out.
    on:
      - keywords: ["yes", "sure"]
        opt_in: news
        goto: ask
      - keywords: [more, enough]
        goto: ask
      - else: true
        handoff: baristas
`

// P7 is checked in every shape a conversation takes: no conversation, each
// state, a handoff, a pending question, a standing STOP.
func TestNearMissShapes(t *testing.T) {
	f, err := flows.Load("enough.yaml", []byte(enoughFlow))
	if err != nil {
		t.Fatal(err)
	}
	x, err := newExplorer(context.Background(), f, []byte(enoughFlow), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := x.explore()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Violations) > 0 {
		t.Fatalf("violations: %+v", rep.Violations)
	}
	for _, want := range []string{"|h=|asked=false|stop=false", "ask|h=|asked=false|stop=false", "ask|h=|asked=true|stop=false",
		"|h=baristas|asked=false|stop=false", "|h=|asked=false|stop=true"} {
		if !x.nearMiss[want] {
			t.Errorf("shape %q not probed; probed: %v", want, x.nearMiss)
		}
	}
}

// The classification of an answer, on the engine: a flow whose Portuguese
// START list has SAIR in it turns "sair" into a consent grant after a STOP.
func TestNearMissCheckSeesAGrant(t *testing.T) {
	const src = `business: Brewline Coffee
keywords:
  pt:
    opt_out: [PARAR]
    opt_in: [START, SAIR]
topics:
  news: {category: marketing, description: weekly coffee news}
states:
  ask:
    prompt: Weekly coffee news from Brewline Coffee on WhatsApp? Reply YES, or STOP at any time to opt out.
    on:
      - keywords: ["yes"]
        opt_in: news
        end: true
`
	f, err := flows.Load("grant.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	x, err := newExplorer(context.Background(), f, []byte(src), Options{})
	if err != nil {
		t.Fatal(err)
	}
	root := &node{world: &world{now: x.e.now}}
	w := x.walkerAt(root)
	for i, text := range []string{"hi", "yes", "STOP"} {
		if _, err := w.do(step{kind: stepText, text: text, id: "m" + string(rune('1'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	msg, asked, err := x.nearMissCheck(w, step{kind: stepText, text: "sair", id: "m4"})
	if err != nil {
		t.Fatal(err)
	}
	if asked || !strings.Contains(msg, "recorded an opt-in to news") || !strings.Contains(msg, "opt_in keyword SAIR") {
		t.Errorf("asked %v, message %q", asked, msg)
	}
	// And the run reports it.
	vs := Check(f, []byte(src))
	if len(vs) != 1 || vs[0].Property != NearMissOptOut {
		t.Fatalf("violations %+v", vs)
	}
}
