package flows

import (
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file holds variables ({{name}}), fragments ({{> name}}) and the
// texts that use them.

// varNameRe is a variable or fragment name.
var varNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Built-in variables: every conversation has them without declaring them.
const (
	VarBusiness = "business" // the flow's business name
	VarCustomer = "customer" // the customer's WhatsApp id (phone number or user id)
	VarLanguage = "language" // the conversation's language: which prompt variants are sent
)

// BuiltinVars lists the built-in variables. Prompts may use them; only
// language may be set (to one of the flow's Languages), and none captured.
var BuiltinVars = []string{VarBusiness, VarCustomer, VarLanguage}

// varDef is a variable the flow declares, sets or captures.
type varDef struct {
	name string
	node *yaml.Node
}

// varRef is a {{name}} in a text, checked once every variable is known.
type varRef struct {
	name string
	node *yaml.Node // the text, for the problem's position
	in   string     // "prompt of state 'welcome'"
}

// langSet is a set: {language: value}, checked once the flow's languages
// are known.
type langSet struct {
	value string
	node  *yaml.Node
	where string // "transition 1 of state 'welcome'"
}

// decodeVars decodes `vars:`, the flow's variables and their default values.
func (l *loader) decodeVars(n *yaml.Node) map[string]string {
	n, ok := l.mapping(n, "vars", "a mapping of variable names to default values")
	if !ok {
		return nil
	}
	out := make(map[string]string)
	for _, e := range l.entries(n, "in vars", "variable") {
		name := e.Key.Value
		switch {
		case slices.Contains(BuiltinVars, name):
			l.Addf(e.Key, "variable %s is built in: choose another name (the built-in variables are %s)", quote(name), list(BuiltinVars))
			continue
		case !varNameRe.MatchString(name):
			l.Addf(e.Key, "invalid variable name %s: use lowercase letters, digits and '_', starting with a letter", quote(name))
		}
		s, ok := l.Text(e.Value, "default of variable "+quote(name))
		if !ok {
			continue
		}
		out[name] = s
		l.vars = append(l.vars, varDef{name: name, node: e.Key})
	}
	return out
}

// decodeFragments decodes `fragments:`, texts prompts include as {{> name}}.
func (l *loader) decodeFragments(n *yaml.Node) {
	n, ok := l.mapping(n, "fragments", "a mapping of fragment names to texts")
	if !ok {
		return
	}
	l.fragments = make(map[string]string)
	for _, e := range l.entries(n, "in fragments", "fragment") {
		name := e.Key.Value
		if !varNameRe.MatchString(name) {
			l.Addf(e.Key, "invalid fragment name %s: use lowercase letters, digits and '_', starting with a letter", quote(name))
		}
		in := "fragment " + quote(name)
		// Known even when broken, so that its uses are not also
		// reported as unknown.
		l.fragOrder = append(l.fragOrder, name)
		s, ok := l.RequiredText(e.Value, in)
		if !ok {
			l.fragments[name] = ""
			continue
		}
		before := len(l.Problems)
		text := l.richText(s, l.Resolve(e.Value), in, textFragment)
		if len(l.Problems) > before {
			text = "" // reported; expanding it would only repeat its problems
		}
		l.fragments[name] = text
	}
}

// textKind says what a text with placeholders is, which decides what it
// may include.
type textKind int

const (
	textPrompt   textKind = iota // a prompt or variant text: variables and fragments
	textFragment                 // a fragment: variables only
	textValue                    // a set: value: variables only
)

// placeholder is one {{name}} or {{> name}} in a text.
type placeholder struct {
	start, end int // byte offsets of "{{" and just after "}}"
	name       string
	fragment   bool
}

// badPlaceholder is a malformed placeholder: its text from "{{", and
// whether it lacks its "}}".
type badPlaceholder struct {
	raw      string
	unclosed bool
}

// scanPlaceholders returns the well-formed placeholders of s, and the
// malformed ones. Space inside the braces is allowed: {{ name }} is
// {{name}}.
func scanPlaceholders(s string) (out []placeholder, bad []badPlaceholder) {
	for i := 0; ; {
		j := strings.Index(s[i:], "{{")
		if j < 0 {
			return out, bad
		}
		start := i + j
		k := strings.Index(s[start+2:], "}}")
		if k < 0 {
			return out, append(bad, badPlaceholder{raw: s[start:], unclosed: true})
		}
		end := start + 2 + k + 2
		inner := strings.TrimSpace(s[start+2 : end-2])
		p := placeholder{start: start, end: end}
		if rest, ok := strings.CutPrefix(inner, ">"); ok {
			p.fragment, inner = true, strings.TrimSpace(rest)
		}
		p.name = inner
		if varNameRe.MatchString(inner) {
			out = append(out, p)
		} else {
			bad = append(bad, badPlaceholder{raw: s[start:end]})
		}
		i = end
	}
}

// richText checks the placeholders of s, the text of node n used in `in`
// ("prompt of state 'welcome'"), and records its variable references. It
// returns s with fragments expanded (in prompt texts) and every variable
// written {{name}}, the one form Interpolate replaces.
func (l *loader) richText(s string, n *yaml.Node, in string, kind textKind) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	ps, bad := scanPlaceholders(s)
	for _, b := range bad {
		if b.unclosed {
			l.Addf(n, "unclosed placeholder %s in %s: end it with '}}'", quote(b.raw), in)
		} else {
			l.Addf(n, "invalid placeholder %s in %s: write {{name}} for a variable or {{> name}} for a fragment, with a lowercase name", quote(b.raw), in)
		}
	}
	var b strings.Builder
	last := 0
	want, expanded := 0, false // placeholders the result must hold; whether a fragment was included
	for _, p := range ps {
		b.WriteString(s[last:p.start])
		last = p.end
		if !p.fragment {
			l.varRefs = append(l.varRefs, varRef{name: p.name, node: n, in: in})
			b.WriteString("{{" + p.name + "}}")
			want++
			continue
		}
		switch kind {
		case textFragment:
			l.Addf(n, "%s includes fragment %s: fragments cannot include other fragments", in, quote(p.name))
		case textValue:
			l.Addf(n, "%s includes fragment %s: fragments can only be included in prompt texts", in, quote(p.name))
		default:
			text, ok := l.fragments[p.name]
			if !ok {
				l.Addf(n, "unknown fragment %s in %s%s", quote(p.name), in, l.fragmentHint(p.name))
			}
			b.WriteString(text)
			want += strings.Count(text, "{{")
			expanded = true
		}
	}
	b.WriteString(s[last:])
	out := b.String()
	if kind == textPrompt && expanded && len(bad) == 0 {
		// A fragment ending in '{' before text starting with '{' would
		// make a placeholder that neither was checked for.
		if got, bad := scanPlaceholders(out); len(got) != want || len(bad) > 0 {
			l.Addf(n, "including fragments in %s makes an unexpected '{{': a fragment ends with '{' before a '{'", in)
		}
	}
	return out
}

// fragmentHint completes "unknown fragment 'x'".
func (l *loader) fragmentHint(name string) string {
	switch {
	case len(l.fragOrder) == 0:
		return "; the flow declares no fragments"
	case didYouMean(name, l.fragOrder) != "":
		return didYouMean(name, l.fragOrder)
	case len(l.fragOrder) <= maxListed:
		return "; declared fragments are " + list(l.fragOrder)
	}
	return ""
}

// plainText reports placeholders in a text that is sent as written: a
// button or row title, a list's button label.
func (l *loader) plainText(s string, n *yaml.Node, subject string) {
	if strings.Contains(s, "{{") {
		l.Addf(n, "%s holds '{{': variables and fragments only work in prompt texts", subject)
	}
}

// checkVars reports uses of variables that are neither built in, declared,
// set nor captured.
func (l *loader) checkVars() {
	known := slices.Clone(BuiltinVars) // in file order, for suggestions
	isKnown := make(map[string]bool)
	for _, v := range BuiltinVars {
		isKnown[v] = true
	}
	for _, v := range l.vars {
		if !isKnown[v.name] {
			isKnown[v.name] = true
			known = append(known, v.name)
		}
	}
	for _, r := range l.varRefs {
		if isKnown[r.name] {
			continue
		}
		hint := didYouMean(r.name, known)
		if hint == "" {
			hint = "; declare it under vars:, or set or capture it in a transition"
		}
		l.Addf(r.node, "unknown variable %s in %s%s", quote(r.name), r.in, hint)
	}
}

// languages returns the flow's language, then every language a prompt
// variant is written in, sorted.
func languages(f *Flow) []string {
	var more []string
	for _, s := range f.States {
		for lang := range s.Prompt.Variants {
			if lang != f.Language && !slices.Contains(more, lang) {
				more = append(more, lang)
			}
		}
	}
	slices.Sort(more)
	return append([]string{f.Language}, more...)
}

// checkLanguageSets reports set: {language: x} naming a language the flow
// has no prompts in. Values with variables are only known when they run.
func (l *loader) checkLanguageSets(f *Flow) {
	for _, s := range l.langSets {
		if strings.Contains(s.value, "{{") || slices.Contains(f.Languages, s.value) {
			continue
		}
		hint := didYouMean(s.value, f.Languages)
		if hint == "" {
			hint = "; the flow's prompts are in " + list(f.Languages)
		}
		l.Addf(s.node, "unknown language %s in set of %s%s", quote(s.value), s.where, hint)
	}
}

// Interpolate returns text with every {{name}} replaced by value(name). The
// texts of a loaded flow (prompts, variants, set values) hold placeholders
// in this form only, with fragments already expanded; anything else in
// braces is left as written.
func Interpolate(text string, value func(name string) string) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			break
		}
		name := text[i+2 : i+2+j]
		b.WriteString(text[:i])
		if varNameRe.MatchString(name) {
			b.WriteString(value(name))
		} else {
			b.WriteString(text[i : i+2+j+2])
		}
		text = text[i+2+j+2:]
	}
	b.WriteString(text)
	return b.String()
}
