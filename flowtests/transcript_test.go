package flowtests

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/flows"
)

var update = flag.Bool("update", false, "rewrite golden files: transcripts, flowtest problems and the failure report")

// TestTranscripts runs every testdata/FLOW/*.in.jsonl through the simulator
// on flows/examples/FLOW.yaml and compares the output with the .out.jsonl
// beside it (go test -update rewrites them).
func TestTranscripts(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "*.in.jsonl"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no transcripts found: %v", err)
	}
	for _, in := range inputs {
		flowName := filepath.Base(filepath.Dir(in))
		t.Run(flowName+"/"+strings.TrimSuffix(filepath.Base(in), ".in.jsonl"), func(t *testing.T) {
			flowPath := filepath.Join("..", "flows", "examples", flowName+".yaml")
			src, err := os.ReadFile(flowPath)
			if err != nil {
				t.Fatal(err)
			}
			flow, err := flows.Load(flowPath, src)
			if err != nil {
				t.Fatal(err)
			}
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			sim, err := NewSimulator(context.Background(), flow, src, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := sim.Run(context.Background(), bytes.NewReader(input), &out); err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(in, ".in.jsonl") + ".out.jsonl"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("transcript differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}
