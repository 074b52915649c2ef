package flowtests

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/flows"
)

// This file holds the flowtest parser's generic YAML walking, in the style
// of the flows loader: following aliases, reading mappings and values,
// saying what was found instead of what was expected, and suggesting the
// likely key for a misspelt one.

// LoadError is every problem found in a flowtest file: its own problems
// sorted by position, then those of the flow it names when that flow does
// not load (each with the flow file's name and position).
type LoadError struct {
	Problems []flows.Problem
}

// Error returns the problems one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem as an error, so errors.As can find a
// flows.Problem.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// field is one key: value pair of a mapping; key is resolved and a scalar.
type field struct {
	key, value *yaml.Node
}

// parser holds what one Parse has found so far.
type parser struct {
	file     string
	problems []flows.Problem

	visits    int            // nodes looked at, counted by resolve
	maxVisits int            // visits after which aliases stop expanding
	exploded  *flows.Problem // aliases reached maxVisits
}

func posOf(n *yaml.Node) flows.Pos { return flows.Pos{Line: n.Line, Col: n.Column} }

func (p *parser) addf(n *yaml.Node, format string, args ...any) {
	p.addAt(posOf(n), format, args...)
}

func (p *parser) addAt(pos flows.Pos, format string, args ...any) {
	p.problems = append(p.problems, flows.Problem{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...)})
}

// err returns the problems found, sorted by position, or nil.
func (p *parser) err() error {
	switch {
	case p.exploded != nil:
		return &LoadError{Problems: []flows.Problem{*p.exploded}}
	case len(p.problems) > 0:
		return &LoadError{Problems: sortProblems(p.problems)}
	}
	return nil
}

// sortProblems orders problems by position, keeping discovery order at the
// same position, and drops exact repeats (an alias used twice reports the
// problems of its anchor twice).
func sortProblems(ps []flows.Problem) []flows.Problem {
	slices.SortStableFunc(ps, func(a, b flows.Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	seen := make(map[flows.Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// resolve follows aliases, counting visits so that a few bytes of aliases
// cannot name a huge tree.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	p.visits++
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 8 || p.visits > p.maxVisits {
			if p.exploded == nil {
				p.exploded = &flows.Problem{File: p.file, Pos: posOf(n), Msg: "aliases expand to too much content"}
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// parse returns the root node of the single YAML document in src, or nil
// after reporting why there is none. An empty file is an empty mapping.
func (p *parser) parse(src []byte) (root *yaml.Node) {
	defer func() {
		if r := recover(); r != nil {
			p.addAt(flows.Pos{}, "the YAML parser failed: %s", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
			root = nil
		}
	}()
	empty := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return empty
	case err != nil:
		p.syntaxError(src, err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntaxError(src, err)
		return nil
	default:
		p.addAt(flows.Pos{Line: next.Line, Col: next.Column}, "a flowtest file holds one YAML document; found a second one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return empty
	}
	return doc.Content[0]
}

var yamlErrorLine = regexp.MustCompile(`^line (\d+): `)

// syntaxError reports a YAML parse error as one problem, with the line yaml
// gives (parser errors count lines from 0).
func (p *parser) syntaxError(src []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pos := flows.Pos{Line: 1}
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		pos.Line, _ = strconv.Atoi(m[1])
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found duplicate") ||
			strings.HasPrefix(msg, "found incompatible") || strings.HasPrefix(msg, "found undefined") {
			pos.Line++
		}
	} else {
		pos = locateSyntaxError(src, msg)
	}
	lines := bytes.Count(src, []byte("\n"))
	if !bytes.HasSuffix(src, []byte("\n")) {
		lines++
	}
	pos.Line = max(1, min(pos.Line, lines))
	p.addAt(pos, "invalid YAML: %s", strings.Join(strings.Fields(msg), " "))
}

var yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locateSyntaxError finds the position of a YAML error that came without a
// line: a byte YAML does not accept, an alias without an anchor, or else
// line 1 (the line yaml leaves out of its messages).
func locateSyntaxError(src []byte, msg string) flows.Pos {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 || !yamlPrintable(r) {
			return offsetPos(src, i)
		}
		i += size
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			return offsetPos(src, i)
		}
	}
	return flows.Pos{Line: 1}
}

// yamlPrintable reports whether YAML 1.2 allows r in a stream.
func yamlPrintable(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// offsetPos converts a byte offset in src to a line and a column in runes.
func offsetPos(src []byte, offset int) flows.Pos {
	before := src[:offset]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return flows.Pos{Line: bytes.Count(before, []byte("\n")) + 1, Col: utf8.RuneCount(before[lineStart:]) + 1}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
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

func (p *parser) wrongKind(n *yaml.Node, subject, want string) {
	p.addf(n, "%s must be %s; found %s", subject, want, describe(n))
}

// pairs returns the key: value pairs of mapping n, reporting keys that
// cannot be names.
func (p *parser) pairs(n *yaml.Node, where string) []field {
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := p.resolve(n.Content[i])
		switch {
		case key.Kind != yaml.ScalarNode:
			p.addf(key, "a key %s must be a plain name; found %s", where, describe(key))
		case key.ShortTag() == "!!merge":
			p.addf(key, "merge keys (<<) are not supported; found one %s", where)
		default:
			out = append(out, field{key: key, value: n.Content[i+1]})
		}
	}
	return out
}

// fieldMap is a mapping with fixed keys, by key.
type fieldMap struct {
	byKey   map[string]field
	guessed map[string]bool // keys an unknown key was taken for
	unknown int             // unknown keys reported
}

func (m fieldMap) get(key string) (field, bool) {
	f, ok := m.byKey[key]
	return f, ok
}

// missing reports whether key is absent for a reason not yet reported.
func (m fieldMap) missing(key string) bool {
	_, ok := m.byKey[key]
	return !ok && !m.guessed[key]
}

// fields returns the pairs of a mapping with fixed keys, reporting unknown
// keys (with a suggestion or the allowed keys) and repeated ones.
func (p *parser) fields(n *yaml.Node, where string, known []string) fieldMap {
	m := fieldMap{byKey: make(map[string]field, len(known)), guessed: make(map[string]bool)}
	for _, f := range p.pairs(n, where) {
		name := f.key.Value
		if !slices.Contains(known, name) {
			p.unknownKey(f.key, where, known, m.guessed)
			m.unknown++
			continue
		}
		if first, dup := m.byKey[name]; dup {
			p.addf(f.key, "duplicate key %s %s (first at line %d)", quote(name), where, first.key.Line)
			continue
		}
		m.byKey[name] = f
	}
	return m
}

func (p *parser) unknownKey(key *yaml.Node, where string, known []string, guessed map[string]bool) {
	guess := closest(key.Value, known)
	if guess == "" {
		p.addf(key, "unknown key %s %s; allowed keys are %s", quote(key.Value), where, strings.Join(known, ", "))
		return
	}
	guessed[guess] = true
	p.addf(key, "unknown key %s %s; did you mean %s?", quote(key.Value), where, quote(guess))
}

// text returns a scalar's value as written; a null value is "". ok is false
// (and the problem reported) when n is not a scalar.
func (p *parser) text(n *yaml.Node, subject string) (string, bool) {
	n = p.resolve(n)
	if n.Kind != yaml.ScalarNode {
		p.wrongKind(n, subject, "a string")
		return "", false
	}
	if isNull(n) {
		return "", true
	}
	return n.Value, true
}

// requiredText is text that must not be blank, trimmed of surrounding space.
func (p *parser) requiredText(n *yaml.Node, subject string) (string, bool) {
	s, ok := p.text(n, subject)
	if !ok {
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		p.addf(p.resolve(n), "%s is empty", subject)
		return "", false
	}
	return strings.TrimSpace(s), true
}

// didYouMean returns "; did you mean 'x'?" for the candidate closest to
// name, or "" when none is close.
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" {
		return "; did you mean " + quote(best) + "?"
	}
	return ""
}

// closest and quote word suggestions and values like the flows loader.
func closest(name string, candidates []string) string { return flows.Closest(name, candidates) }

func quote(s string) string { return flows.Quote(s) }
