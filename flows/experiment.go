package flows

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"go.yaml.in/yaml/v3"
)

var experimentKeys = []string{"id", "weight", "text", "variants"}

// Variant is one arm of an opt-in experiment (`experiment:` of a prompt):
// other wording of the opt-in request, shown to a share of customers set
// by its weight. Buttons and lists stay the prompt's, so the transitions
// match whatever wording a customer saw.
type Variant struct {
	ID     string
	Weight int // above 0; 1 when the flow gives none
	Text   string
	// Languages are Text in the other languages the prompt has variants
	// in, by language: every one of them.
	Languages map[string]string
	Pos       Pos
}

// TextFor returns the variant's wording in a language, falling back to
// the flow's language.
func (v Variant) TextFor(lang string) string {
	if s, ok := v.Languages[lang]; ok {
		return s
	}
	return v.Text
}

// Assign picks a customer's variant of the experiment of a state:
// SHA-256 over the business, flow, state and customer, length-prefixed,
// taken as a number below the total weight and bucketed by the weights in
// file order. The same customer always gets the same variant, on every
// instance and after every restart, while the variants and their weights
// stay the same; changing a weight, or adding or removing a variant,
// moves some customers to another variant. It returns nil when the
// prompt has no experiment.
func (p Prompt) Assign(business, flow string, state StateName, customer string) *Variant {
	total := 0
	for _, v := range p.Experiment {
		total += v.Weight
	}
	if total <= 0 {
		return nil
	}
	h := sha256.New()
	var n [8]byte
	for _, s := range []string{"optinbot-experiment-v1", business, flow, string(state), customer} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	sum := h.Sum(nil)
	bucket := binary.BigEndian.Uint64(sum[:8]) % uint64(total)
	for i := range p.Experiment {
		w := uint64(p.Experiment[i].Weight)
		if bucket < w {
			return &p.Experiment[i]
		}
		bucket -= w
	}
	return &p.Experiment[len(p.Experiment)-1]
}

// experiment decodes a prompt's experiment: a list of at least two
// variants with unique ids, each with text in the flow's language and in
// every language the prompt has variants in.
func (l *loader) experiment(n *yaml.Node, where string, p *Prompt) []Variant {
	subject := "experiment of prompt of " + where
	items := l.sequence(n, subject, "a list of variants with id, weight and text")
	if len(items) == 1 {
		l.Addf(l.Resolve(n), "%s has one variant: an experiment compares at least two", subject)
	}
	var out []Variant
	first := make(map[string]int) // id -> line
	for i, item := range items {
		vwhere := fmt.Sprintf("variant %d of the experiment of %s", i+1, where)
		m, ok := l.mapping(item, vwhere, "a mapping with id, weight and text")
		if !ok {
			continue
		}
		v := Variant{Pos: posOf(m), Weight: 1}
		fs := l.Fields(m, "in "+vwhere, experimentKeys)
		v.ID = l.choiceID(m, fs, "variant", vwhere)
		if v.ID != "" {
			vwhere = "variant " + quote(v.ID) + " of the experiment of " + where
		}
		if fd, ok := fs.Get("weight"); ok {
			v.Weight = l.positiveInt(fd.Value, "weight of "+vwhere)
		}
		attached := attachment(p.Buttons, p.List)
		if fd, ok := fs.Get("text"); ok {
			v.Text = l.promptText(fd.Value, "text of "+vwhere, vwhere, attached)
		} else if fs.Missing("text") {
			l.Addf(m, "missing text in %s", vwhere)
		}
		fd, hasLangs := fs.Get("variants")
		if hasLangs {
			v.Languages = l.experimentLanguages(fd.Value, vwhere, p, attached)
		}
		for lang := range p.Variants {
			if _, ok := v.Languages[lang]; !ok {
				at := m
				if hasLangs {
					at = fd.Key
				}
				l.Addf(at, "%s has no text in language %s: the prompt has wording in %s, so each variant needs it too", vwhere, quote(lang), quote(lang))
			}
		}
		if v.ID == "" {
			continue
		}
		if line, dup := first[v.ID]; dup {
			l.AddAt(v.Pos.Line, v.Pos.Col, "duplicate variant id %s in %s (first at line %d)", quote(v.ID), subject, line)
			continue
		}
		first[v.ID] = v.Pos.Line
		out = append(out, v)
	}
	return out
}

// experimentLanguages decodes a variant's text in other languages: one for
// each language the prompt has variants in.
func (l *loader) experimentLanguages(n *yaml.Node, where string, p *Prompt, attached string) map[string]string {
	subject := "variants of " + where
	n, ok := l.mapping(n, subject, "a mapping of language codes to texts")
	if !ok {
		return nil
	}
	out := make(map[string]string)
	for _, e := range l.entries(n, "in "+subject, "language") {
		lang := e.Key.Value
		if _, ok := p.Variants[lang]; !ok {
			l.Addf(e.Key, "%s has text in language %s, but the prompt has no wording in %s: add a variant %s to the prompt first", where, quote(lang), quote(lang), quote(lang))
			continue
		}
		if s := l.promptText(e.Value, "text of "+where+" in language "+quote(lang), where, attached); s != "" {
			out[lang] = s
		}
	}
	return out
}
