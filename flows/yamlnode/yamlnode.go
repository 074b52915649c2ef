// Package yamlnode holds the generic YAML walking shared by the project's
// YAML formats (flow files and flowtest files): parsing one document and
// locating syntax errors, following aliases with a limit on how much they
// expand, reading mappings with fixed keys and scalar values, and saying
// what was found instead of what was expected.
//
// A Doc collects the problems found as line, column and message; each
// format adds its file name and error type.
package yamlnode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a document. Line and Col are 1-based;
// zero when YAML could not say where.
type Problem struct {
	Line, Col int
	Msg       string
}

// Doc holds what the walk of one document has found so far.
type Doc struct {
	Problems []Problem
	// Exploded is set once aliases expand to more than MaxVisits nodes;
	// see Resolve.
	Exploded  *Problem
	MaxVisits int // visits after which aliases stop expanding

	// Quote quotes a value for a message, and Closest returns the
	// candidate a misspelt name most likely meant, or "".
	Quote   func(s string) string
	Closest func(name string, candidates []string) string

	visits int // nodes looked at, counted by Resolve
}

// Addf records a problem at n.
func (d *Doc) Addf(n *yaml.Node, format string, args ...any) {
	d.AddAt(n.Line, n.Column, format, args...)
}

// AddAt records a problem at line and col.
func (d *Doc) AddAt(line, col int, format string, args ...any) {
	d.Problems = append(d.Problems, Problem{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// Resolve follows aliases to the node they name. Every node the walk looks
// at passes through here, so it also counts them: aliases let a few bytes
// name huge trees ("billion laughs"), and once the count passes MaxVisits
// aliases stop expanding and Exploded is set.
func (d *Doc) Resolve(n *yaml.Node) *yaml.Node {
	if n == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	d.visits++
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 8 || d.visits > d.MaxVisits {
			if d.Exploded == nil {
				d.Exploded = &Problem{Line: n.Line, Col: n.Column, Msg: "aliases expand to too much content"}
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: n.Line, Column: n.Column}
		}
		n = n.Alias
	}
	return n
}

// IsNull reports whether n is a null scalar.
func IsNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// Describe says what a node is, for "... must be X; found Y".
func (d *Doc) Describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if IsNull(n) {
			return "nothing"
		}
		return d.Quote(n.Value)
	}
	return "an unexpected YAML node"
}

// WrongKind reports that n, the value of subject, is not the wanted kind.
func (d *Doc) WrongKind(n *yaml.Node, subject, want string) {
	d.Addf(n, "%s must be %s; found %s", subject, want, d.Describe(n))
}

// Field is one key: value pair of a mapping. Key is resolved and is a
// scalar; Value is as written (it may be an alias).
type Field struct {
	Key, Value *yaml.Node
}

// Pairs returns the key: value pairs of mapping n, dropping (and reporting)
// keys that cannot be names: lists, mappings and YAML merge keys.
func (d *Doc) Pairs(n *yaml.Node, where string) []Field {
	var out []Field
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := d.Resolve(n.Content[i])
		switch {
		case key.Kind != yaml.ScalarNode:
			d.Addf(key, "a key %s must be a plain name; found %s", where, d.Describe(key))
		case key.ShortTag() == "!!merge":
			d.Addf(key, "merge keys (<<) are not supported; found one %s", where)
		default:
			out = append(out, Field{Key: key, Value: n.Content[i+1]})
		}
	}
	return out
}

// FieldMap is a mapping with fixed keys, by key.
type FieldMap struct {
	byKey map[string]Field
	// guessed holds the keys that an unknown key was reported as a
	// likely misspelling of.
	guessed map[string]bool
}

// Get returns the field of key, if present.
func (m FieldMap) Get(key string) (Field, bool) {
	f, ok := m.byKey[key]
	return f, ok
}

// Missing reports whether key is absent for a reason not yet reported:
// after "unknown key 'promt'; did you mean 'prompt'?", saying that prompt is
// missing as well would be noise.
func (m FieldMap) Missing(key string) bool {
	_, ok := m.byKey[key]
	return !ok && !m.guessed[key]
}

// Fields returns the pairs of a mapping with fixed keys. It reports unknown
// keys, with a suggestion or the list of allowed keys, and repeated keys,
// keeping the first. where completes a message such as "unknown key 'x' in
// state 'welcome'".
func (d *Doc) Fields(n *yaml.Node, where string, known []string) FieldMap {
	m := FieldMap{byKey: make(map[string]Field, len(known)), guessed: make(map[string]bool)}
	for _, f := range d.Pairs(n, where) {
		name := f.Key.Value
		if !slices.Contains(known, name) {
			d.UnknownKey(f.Key, where, known, m.guessed)
			continue
		}
		if first, dup := m.byKey[name]; dup {
			d.Addf(f.Key, "duplicate key %s %s (first at line %d)", d.Quote(name), where, first.Key.Line)
			continue
		}
		m.byKey[name] = f
	}
	return m
}

// UnknownKey reports key, which is not one of known, noting in guessed the
// known key it suggests instead.
func (d *Doc) UnknownKey(key *yaml.Node, where string, known []string, guessed map[string]bool) {
	guess := d.Closest(key.Value, known)
	if guess == "" {
		d.Addf(key, "unknown key %s %s; allowed keys are %s", d.Quote(key.Value), where, strings.Join(known, ", "))
		return
	}
	guessed[guess] = true
	d.Addf(key, "unknown key %s %s; did you mean %s?", d.Quote(key.Value), where, d.Quote(guess))
}

// Text returns the value of a scalar as written; a null value is "". ok is
// false (and the problem reported) when n is not a scalar.
func (d *Doc) Text(n *yaml.Node, subject string) (s string, ok bool) {
	n = d.Resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.WrongKind(n, subject, "a string")
		return "", false
	}
	if IsNull(n) {
		return "", true
	}
	return n.Value, true
}

// RequiredText is Text that must not be blank. It returns the text with
// surrounding space trimmed.
func (d *Doc) RequiredText(n *yaml.Node, subject string) (string, bool) {
	s, ok := d.Text(n, subject)
	if !ok {
		return "", false
	}
	s = strings.TrimSpace(s)
	if s == "" {
		d.Addf(d.Resolve(n), "%s is empty", subject)
		return "", false
	}
	return s, true
}

// Parse returns the root node of the single YAML document in src, or nil
// after reporting why there is none. An empty file is an empty mapping, so
// that it gets the same problems as any document missing everything. what
// names the kind of file in messages, e.g. "flow file".
func (d *Doc) Parse(src []byte, what string) (root *yaml.Node) {
	defer func() {
		// The YAML parser is not ours; a bug in it must not take down a
		// server that loads files uploaded by businesses.
		if r := recover(); r != nil {
			d.AddAt(0, 0, "the YAML parser failed: %s", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	case err != nil:
		d.syntaxError(src, err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(src, err)
		return nil
	default:
		d.AddAt(next.Line, next.Column, "a %s holds one YAML document; found a second one", what)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || IsNull(doc.Content[0]) {
		// "---" alone, like an empty file.
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	}
	return doc.Content[0]
}

// yamlErrorLine matches the position yaml puts in its syntax errors.
var yamlErrorLine = regexp.MustCompile(`^line (\d+): `)

// syntaxError reports a YAML parse error as one problem. yaml gives at most
// a line, and not always a right one, so this recovers what it can.
func (d *Doc) syntaxError(src []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line, col int
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		line, _ = strconv.Atoi(m[1])
		// Parser errors (as opposed to scanner errors) give the line
		// counting from 0.
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found duplicate") ||
			strings.HasPrefix(msg, "found incompatible") || strings.HasPrefix(msg, "found undefined") {
			line++
		}
	} else {
		line, col = locateSyntaxError(src, msg)
	}
	// yaml places errors at the end of the input on the line after the
	// last one.
	line = min(line, lineCount(src))
	d.AddAt(line, col, "invalid YAML: %s", msg)
}

// lineCount returns the number of lines in src; the last line may lack its
// newline.
func lineCount(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if !bytes.HasSuffix(src, []byte("\n")) {
		n++
	}
	return n
}

// yamlUnknownAnchor matches yaml's error for an alias without an anchor.
var yamlUnknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// locateSyntaxError finds the position of a YAML error that came without a
// line. Errors in the input's bytes (bad UTF-8, control characters) and
// unknown aliases can be found by looking; anything else yaml found on
// line 1, the line it leaves out of messages.
func locateSyntaxError(src []byte, msg string) (line, col int) {
	if i := firstUnreadable(src); i >= 0 {
		return offsetPos(src, i)
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			return offsetPos(src, i)
		}
	}
	return 1, 0
}

// firstUnreadable returns the offset of the first byte YAML does not accept:
// invalid UTF-8 or a character outside YAML's printable set. It returns -1
// when there is none.
func firstUnreadable(src []byte) int {
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && size <= 1 || !yamlPrintable(r) {
			return i
		}
		i += size
	}
	return -1
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
func offsetPos(src []byte, offset int) (line, col int) {
	before := src[:offset]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte("\n")) + 1, utf8.RuneCount(before[lineStart:]) + 1
}
