package flows

import (
	"fmt"
	"strings"
	"testing"
)

// generatedFlow returns a valid flow of n states, each with buttons,
// keywords, consent and an else, in the style of the examples.
func generatedFlow(n int) []byte {
	var b strings.Builder
	b.WriteString("business: Bench Co\nlanguage: en\ntopics:\n")
	b.WriteString("  news:\n    category: marketing\n    description: news\n")
	b.WriteString("templates:\n  - name: weekly\n    topic: news\nstates:\n")
	for i := range n {
		next := (i + 1) % n
		fmt.Fprintf(&b, `  state_%d:
    prompt:
      text: Step %d of the generated flow. Reply YES or NO.
      buttons:
        - id: yes
          title: "Yes"
        - id: no
          title: "No"
    on:
      - button: yes
        keywords: ["yes", "y", "sure", "ok"]
        opt_in: news
        goto: state_%d
      - button: no
        keywords: ["no", "n", "later"]
        opt_out: news
        goto: state_%d
      - else: true
        end: true
`, i, i, next, next)
	}
	return []byte(b.String())
}

func BenchmarkLoad(b *testing.B) {
	src := generatedFlow(200)
	if _, err := Load("bench.yaml", src); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("bench.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}
