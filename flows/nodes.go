package flows

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/flows/yamlnode"
)

// This file holds the loader's YAML walking on top of package yamlnode
// (which it shares with flowtests): lists, named entries, flags and words.

// field is one key: value pair of a mapping, and fieldMap a mapping with
// fixed keys; see package yamlnode.
type (
	field    = yamlnode.Field
	fieldMap = yamlnode.FieldMap
)

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func isNull(n *yaml.Node) bool { return yamlnode.IsNull(n) }

// isEmptyList reports whether n is a list with no items, or nothing.
func isEmptyList(n *yaml.Node) bool {
	return isNull(n) || n.Kind == yaml.SequenceNode && len(n.Content) == 0
}

// mapping resolves n and reports whether it is a mapping. It reports any
// other kind of value as not being want, except null: callers decide what a
// key with nothing under it means ("topics:" alone is no topics).
func (l *loader) mapping(n *yaml.Node, subject, want string) (*yaml.Node, bool) {
	n = l.Resolve(n)
	if n.Kind == yaml.MappingNode {
		return n, true
	}
	if !isNull(n) {
		l.WrongKind(n, subject, want)
	}
	return n, false
}

// sequence is mapping for lists: it returns the items of list n, nil for a
// null value, and reports anything else.
func (l *loader) sequence(n *yaml.Node, subject, want string) []*yaml.Node {
	n = l.Resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content
	case isNull(n):
		return nil
	}
	l.WrongKind(n, subject, want)
	return nil
}

// entries returns the pairs of a mapping whose keys the author names
// (states, topics, languages) in file order, reporting and dropping repeated
// names. noun says what the keys are, e.g. "state".
func (l *loader) entries(n *yaml.Node, where, noun string) []field {
	seen := make(map[string]*yaml.Node)
	var out []field
	for _, f := range l.Pairs(n, where) {
		if first, dup := seen[f.Key.Value]; dup {
			l.Addf(f.Key, "duplicate %s %s %s (first at line %d)", noun, quote(f.Key.Value), where, first.Line)
			continue
		}
		seen[f.Key.Value] = f.Key
		out = append(out, f)
	}
	return out
}

// flag reads a key such as else: or end: whose only meaningful value is
// true: leaving the key out is how to say false.
func (l *loader) flag(n *yaml.Node, subject string) bool {
	n = l.Resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" && strings.EqualFold(n.Value, "true") {
		return true
	}
	l.Addf(n, "%s must be true (leave it out otherwise); found %s", subject, l.Describe(n))
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
		if s, ok := l.RequiredText(item, itemSubject); ok {
			nodes = append(nodes, l.Resolve(item))
			out = append(out, s)
		}
	}
	return nodes, out
}
