package flows

import (
	"fmt"
	"math"
	"testing"
)

const experimentFlow = `business: Acme
language: en
topics:
  news: {category: marketing, description: our news}
states:
  ask:
    prompt:
      text: Acme news on WhatsApp? Reply YES. Reply STOP to opt out.
      variants:
        es: ¿Noticias de Acme en WhatsApp? Responde SI. Responde STOP para salir.
      experiment:
        - id: control
          text: Acme news on WhatsApp? Reply YES. Reply STOP to opt out.
          variants:
            es: ¿Noticias de Acme en WhatsApp? Responde SI. Responde STOP para salir.
        - id: short
          weight: 3
          text: Acme news on WhatsApp? YES or STOP.
          variants:
            es: ¿Noticias de Acme en WhatsApp? SI o STOP.
    on:
      - keywords: ["yes", "si"]
        opt_in: news
        end: true
`

func TestLoadExperiment(t *testing.T) {
	f, err := Load("exp.yaml", []byte(experimentFlow))
	if err != nil {
		t.Fatal(err)
	}
	p := f.States["ask"].Prompt
	if len(p.Experiment) != 2 {
		t.Fatalf("experiment = %+v, want 2 variants", p.Experiment)
	}
	for i, want := range []struct {
		id      string
		weight  int
		en, es  string
		line    int
		keyLine int
	}{
		{"control", 1, "Acme news on WhatsApp? Reply YES. Reply STOP to opt out.", "¿Noticias de Acme en WhatsApp? Responde SI. Responde STOP para salir.", 12, 11},
		{"short", 3, "Acme news on WhatsApp? YES or STOP.", "¿Noticias de Acme en WhatsApp? SI o STOP.", 16, 11},
	} {
		v := p.Experiment[i]
		if v.ID != want.id || v.Weight != want.weight || v.TextFor("en") != want.en || v.TextFor("es") != want.es || v.TextFor("de") != want.en || v.Pos.Line != want.line {
			t.Errorf("variant %d = %+v, want %+v", i, v, want)
		}
	}
	if p.ExperimentPos.Line != 11 {
		t.Errorf("ExperimentPos = %v, want line 11", p.ExperimentPos)
	}
	if got := p.ForLanguage("es").Experiment; len(got) != 2 {
		t.Errorf("ForLanguage dropped the experiment: %+v", got)
	}
}

func TestAssign(t *testing.T) {
	p := Prompt{Experiment: []Variant{{ID: "a", Weight: 1}, {ID: "b", Weight: 3}}}
	// Pinned: the hash input is part of the contract (stable across
	// releases and instances); a change here re-buckets every customer.
	for _, tc := range []struct {
		customer, want string
	}{
		{"+14155550100", "b"},
		{"+14155550101", "b"},
		{"+14155550105", "b"},
		{"+14155550106", "a"},
	} {
		if got := p.Assign("acme", "retail", "welcome", tc.customer); got == nil || got.ID != tc.want {
			t.Errorf("Assign(%s) = %v, want %s", tc.customer, got, tc.want)
		}
	}
	// Deterministic, and each input changes the bucket.
	a := p.Assign("acme", "retail", "welcome", "+1")
	for range 10 {
		if b := p.Assign("acme", "retail", "welcome", "+1"); b.ID != a.ID {
			t.Fatalf("Assign is not deterministic: %s then %s", a.ID, b.ID)
		}
	}
	// Weighted: about 1 in 4 lands on a.
	const n = 20000
	count := 0
	for i := range n {
		if p.Assign("acme", "retail", "welcome", fmt.Sprintf("+1415%07d", i)).ID == "a" {
			count++
		}
	}
	if share := float64(count) / n; math.Abs(share-0.25) > 0.015 {
		t.Errorf("share of a = %.3f, want 0.25 ± 0.015", share)
	}
	if got := (Prompt{}).Assign("acme", "retail", "welcome", "+1"); got != nil {
		t.Errorf("Assign without experiment = %v, want nil", got)
	}
}
