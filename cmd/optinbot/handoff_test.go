package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// simulate prints every handoff effect as a JSON object of its own type,
// never {"type":""}, and takes an agent's hand back as an input line.
func TestSimulateHandoff(t *testing.T) {
	flow := filepath.Join("..", "..", "flows", "examples", "appointments.yaml")
	in := `{"from":"+14155550100","text":"hi"}
{"from":"+14155550100","text":"person"}
{"from":"+14155550100","text":"are you there?"}
{"release":{"customer":"+14155550100","agent":"sam"}}
{"from":"+14155550100","text":"person"}
{"advance":"2h"}
`
	out, _, err := runCLI(t, in, "simulate", "--flow", flow)
	if err != nil {
		t.Fatalf("simulate: %v", err)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o struct {
			Type, Queue, Reason, Resume, Until string
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if o.Type == "" {
			t.Errorf("a line without a type: %s", line)
		}
		if strings.HasPrefix(o.Type, "handoff") && o.Queue != "front-desk" {
			t.Errorf("handoff line without its queue: %s", line)
		}
		types = append(types, o.Type)
	}
	want := "reply reply handoff handoff_message handoff_ended reply reply reply handoff handoff_ended reply reply"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("simulate printed\n%s\nwant types %s, got %s", out, want, got)
	}
}
