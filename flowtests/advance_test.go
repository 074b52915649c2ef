package flowtests

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/flows"
)

// A timer that fires silently does not stop the others due in the same
// advance: each fires at its own time.
func TestAdvanceFiresEveryDueTimer(t *testing.T) {
	src := []byte(`business: Acme
states:
  ask:
    prompt: "Hi! Reply anything."
    on:
      - keywords: ["quiet"]
        goto: quiet
      - else: true
        goto: nudgeable
  quiet:
    prompt: "Noted."
    on:
      - after: 1h
        end: true
  nudgeable:
    prompt: "Ok."
    on:
      - after: 2h
        goto: nudge
  nudge:
    prompt: "Still there?"
`)
	f, err := flows.Load("timers.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := NewSimulator(context.Background(), f, src, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	in := `{"from":"+14155550100","text":"hi"}
{"from":"+14155550100","text":"quiet"}
{"from":"+14155550101","text":"hi"}
{"from":"+14155550101","text":"whatever"}
{"advance":"3h"}
`
	var out bytes.Buffer
	if err := sim.Run(context.Background(), strings.NewReader(in), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"customer":"+14155550101","text":"Still there?"`) {
		t.Errorf("the second customer's nudge did not fire in the advance:\n%s", out.String())
	}
}
