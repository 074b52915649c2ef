package flows

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// This file holds the loader's generic YAML walking: following aliases,
// reading mappings, lists and values, and saying what was found instead of
// what was expected.

// field is one key: value pair of a mapping. key is resolved and is a
// scalar; value is as written (it may be an alias).
type field struct {
	key, value *yaml.Node
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// addf records a problem at n.
func (l *loader) addf(n *yaml.Node, format string, args ...any) {
	l.addAt(posOf(n), format, args...)
}

func (l *loader) addAt(pos Pos, format string, args ...any) {
	l.problems = append(l.problems, Problem{File: l.file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name. Every node the loader looks
// at passes through here, so it also counts them: aliases let a few bytes
// name huge trees ("billion laughs"), and once the count passes maxVisits
// aliases stop expanding and the load fails with that one problem.
func (l *loader) resolve(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	l.visits++
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 8 || l.visits > l.maxVisits {
			if l.exploded == nil {
				l.exploded = &Problem{File: l.file, Pos: posOf(n), Msg: "aliases expand to too much content"}
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// isEmptyList reports whether n is a list with no items, or nothing.
func isEmptyList(n *yaml.Node) bool {
	return isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0
}

// describe says what a node is, for "... must be X; found Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return quote(n.Value)
	}
	return "an unexpected YAML node"
}

// wrongKind reports that n, the value of subject, is not the wanted kind.
func (l *loader) wrongKind(n *yaml.Node, subject, want string) {
	l.addf(n, "%s must be %s; found %s", subject, want, describe(n))
}

// mapping resolves n and reports whether it is a mapping. It reports any
// other kind of value as not being want, except null: callers decide what a
// key with nothing under it means ("topics:" alone is no topics).
func (l *loader) mapping(n *yaml.Node, subject, want string) (*yaml.Node, bool) {
	n = l.resolve(n)
	if n.Kind == yaml.MappingNode {
		return n, true
	}
	if !isNull(n) {
		l.wrongKind(n, subject, want)
	}
	return n, false
}

// sequence is mapping for lists: it returns the items of list n, nil for a
// null value, and reports anything else.
func (l *loader) sequence(n *yaml.Node, subject, want string) []*yaml.Node {
	n = l.resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case isNull(n):
		return nil
	}
	l.wrongKind(n, subject, want)
	return nil
}

// pairs returns the key: value pairs of mapping n, dropping (and reporting)
// keys that cannot be names: lists, mappings and YAML merge keys.
func (l *loader) pairs(n *yaml.Node, where string) []field {
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := l.resolve(n.Content[i])
		switch {
		case key.Kind != yaml.ScalarNode:
			l.addf(key, "a key %s must be a plain name; found %s", where, describe(key))
		case key.ShortTag() == "!!merge":
			l.addf(key, "merge keys (<<) are not supported; found one %s", where)
		default:
			out = append(out, field{key: key, value: n.Content[i+1]})
		}
	}
	return out
}

// fieldMap is a mapping with fixed keys, by key.
type fieldMap struct {
	byKey map[string]field
	// guessed holds the keys that an unknown key was reported as a
	// likely misspelling of.
	guessed map[string]bool
}

func (m fieldMap) get(key string) (field, bool) {
	f, ok := m.byKey[key]
	return f, ok
}

// missing reports whether key is absent for a reason not yet reported:
// after "unknown key 'promt'; did you mean 'prompt'?", saying that prompt is
// missing as well would be noise.
func (m fieldMap) missing(key string) bool {
	_, ok := m.byKey[key]
	return !ok && !m.guessed[key]
}

// fields returns the pairs of a mapping with fixed keys. It reports unknown
// keys, with a suggestion or the list of allowed keys, and repeated keys,
// keeping the first. where completes a message such as "unknown key 'x' in
// state 'welcome'".
func (l *loader) fields(n *yaml.Node, where string, known []string) fieldMap {
	m := fieldMap{byKey: make(map[string]field, len(known)), guessed: make(map[string]bool)}
	for _, f := range l.pairs(n, where) {
		name := f.key.Value
		if !slices.Contains(known, name) {
			l.unknownKey(f.key, where, known, m.guessed)
			continue
		}
		if first, dup := m.byKey[name]; dup {
			l.addf(f.key, "duplicate key %s %s (first at line %d)", quote(name), where, first.key.Line)
			continue
		}
		m.byKey[name] = f
	}
	return m
}

// unknownKey reports key, which is not one of known, noting in guessed the
// known key it suggests instead.
func (l *loader) unknownKey(key *yaml.Node, where string, known []string, guessed map[string]bool) {
	guess := closest(key.Value, known)
	if guess == "" {
		l.addf(key, "unknown key %s %s; allowed keys are %s", quote(key.Value), where, strings.Join(known, ", "))
		return
	}
	guessed[guess] = true
	l.addf(key, "unknown key %s %s; did you mean %s?", quote(key.Value), where, quote(guess))
}

// entries returns the pairs of a mapping whose keys the author names
// (states, topics, languages) in file order, reporting and dropping repeated
// names. noun says what the keys are, e.g. "state".
func (l *loader) entries(n *yaml.Node, where, noun string) []field {
	seen := make(map[string]*yaml.Node)
	var out []field
	for _, f := range l.pairs(n, where) {
		if first, dup := seen[f.key.Value]; dup {
			l.addf(f.key, "duplicate %s %s %s (first at line %d)", noun, quote(f.key.Value), where, first.Line)
			continue
		}
		seen[f.key.Value] = f.key
		out = append(out, f)
	}
	return out
}

// text returns the value of a scalar as written; a null value is "". ok is
// false (and the problem reported) when n is not a scalar.
func (l *loader) text(n *yaml.Node, subject string) (s string, ok bool) {
	n = l.resolve(n)
	if n.Kind != yaml.ScalarNode {
		l.wrongKind(n, subject, "a string")
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// requiredText is text that must not be blank. It returns the text with
// surrounding space trimmed.
func (l *loader) requiredText(n *yaml.Node, subject string) (string, bool) {
	s, ok := l.text(n, subject)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if s == "" {
		l.addf(l.resolve(n), "%s is empty", subject)
		return "", false
	}
	return s, true
}

// flag reads a key such as else: or end: whose only meaningful value is
// true: leaving the key out is how to say false.
func (l *loader) flag(n *yaml.Node, subject string) bool {
	n = l.resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && strings.EqualFold(n.Value, "true") {
		return true
	}
	l.addf(n, "%s must be true (leave it out otherwise); found %s", subject, describe(n))
	return false
}

// words reads a list of non-blank strings, trimmed of surrounding space.
// A null value is an empty list.
func (l *loader) words(n *yaml.Node, subject string) ([]*yaml.Node, []string) {
	items := l.sequence(n, subject, "a list of strings")
	var nodes []*yaml.Node
	var out []string
	for i, item := range items {
		itemSubject := fmt.Sprintf("item %d of %s", i+1, subject)
		if s, ok := l.requiredText(item, itemSubject); ok {
			nodes = append(nodes, l.resolve(item))
			out = append(out, s)
		}
	}
	return nodes, out
}
