package flowtests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/flows"
)

// BenchmarkSimulate measures what `optinbot simulate` costs per input line
// on the retail example: each customer says Hi, YES, is sent a template,
// then writes STOP and START, so every line runs a full engine step with
// its commit to the in-memory store. One iteration is the whole input;
// ns/line is the number to compare with the engine step's own benchmark.
func BenchmarkSimulate(b *testing.B) {
	src, err := os.ReadFile("../flows/examples/retail.yaml")
	if err != nil {
		b.Fatal(err)
	}
	flow, err := flows.Load("retail.yaml", src)
	if err != nil {
		b.Fatal(err)
	}
	for _, customers := range []int{1_000, 10_000} {
		input := simulateInput(customers)
		lines := bytes.Count(input, []byte("\n"))
		b.Run(fmt.Sprintf("customers=%d", customers), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sim, err := NewSimulator(context.Background(), flow, src, zerolog.Nop())
				if err != nil {
					b.Fatal(err)
				}
				if err := sim.Run(context.Background(), bytes.NewReader(input), io.Discard); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*lines), "ns/line")
		})
	}
}

// simulateInput is five lines per customer, customer by customer in rounds
// so that many conversations are open at once, as in real traffic.
func simulateInput(customers int) []byte {
	var buf bytes.Buffer
	rounds := []string{
		`{"from":"%s","text":"Hi"}`,
		`{"from":"%s","text":"YES"}`,
		`{"send_template":{"to":"%s","template":"shipped","topic":"order_updates"}}`,
		`{"from":"%s","text":"STOP"}`,
		`{"from":"%s","text":"START"}`,
	}
	for _, round := range rounds {
		for i := range customers {
			fmt.Fprintf(&buf, round, fmt.Sprintf("+1415%07d", i))
			buf.WriteByte('\n')
		}
	}
	return buf.Bytes()
}
