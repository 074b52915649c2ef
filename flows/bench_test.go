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

// generatedFullFlow returns a valid flow of n states using the whole
// language: variables and fragments, a variant in two more languages,
// lists and buttons, regex, timers, set, capture, handoff and a goto to
// another flow.
func generatedFullFlow(n int) []byte {
	var b strings.Builder
	b.WriteString(`business: Bench Co
language: en
vars:
  name: friend
  size: "2"
fragments:
  stop: Reply STOP at any time to opt out.
  stop_es: Responde ALTO para darte de baja.
topics:
  news:
    category: marketing
    description: news
    aliases: [noticias, nouvelles]
    frequency_cap: 2
    granted_by: [web, signup]
templates:
  - name: weekly
    topic: news
states:
`)
	for i := range n {
		next := (i + 1) % n
		if i%2 == 0 {
			fmt.Fprintf(&b, `  state_%d:
    prompt:
      text: "Step %d, {{name}}: news from Bench Co on WhatsApp? {{> stop}}"
      buttons:
        - {id: yes, title: "Yes"}
        - {id: no, title: "No"}
      variants:
        es:
          text: "Paso %d, {{name}}: ¿noticias de Bench Co por WhatsApp? {{> stop_es}}"
          buttons: [{id: yes, title: "Sí"}, {id: no, title: "No"}]
        fr: "Étape %d, {{name}} : des nouvelles de Bench Co sur WhatsApp ?"
    on:
      - button: yes
        keywords: ["yes", "y", "sure", "ok"]
        opt_in: news
        set: {last: "yes at %d", language: es}
        goto: state_%d
      - button: no
        regex: '(?i)^\s*(no|nope|later)\s*$'
        opt_out: news
        goto: state_%d
      - after: 2h
        goto: state_%d
      - before_window_closes: 30m
        end: true
      - else: true
        capture: answer
        goto: other/start
`, i, i, i, i, i, next, next, next)
			continue
		}
		fmt.Fprintf(&b, `  state_%d:
    prompt:
      text: "Step %d: {{answer}} {{last}} {{size}} — pick one"
      list:
        button: Options
        rows:
          - {id: more, title: More, description: "Go on to the next step"}
          - {id: agent, title: Talk to us}
          - {id: stop_here, title: Stop here}
      variants:
        es:
          text: "Paso %d: elige"
          list: {button: Opciones, rows: [{id: more, title: Más}, {id: agent, title: Hablar}, {id: stop_here, title: Parar aquí}]}
    on:
      - button: more
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
`, i, i, i, next, i, i)
	}
	return []byte(b.String())
}

// BenchmarkLoad200 loads a generated 200-state flow that uses the whole
// language.
func BenchmarkLoad200(b *testing.B) {
	src := generatedFullFlow(200)
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
