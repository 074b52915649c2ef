package flows

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// LoadFile reads and loads the flow file at path; see Load.
func LoadFile(path string) (*Flow, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src)
}

// Load parses and validates the flow in src. file names the source in error
// messages and, without a name: key, gives the flow its name. On failure the
// error is a *LoadError holding every problem found.
func Load(file string, src []byte) (*Flow, error) {
	l := &loader{
		file: file,
		// Enough for any flow written by hand, whatever its aliases, and
		// far below what makes loading slow.
		maxVisits: 100_000 + 4*len(src),
	}
	f := l.load(src)
	if err := l.err(); err != nil {
		return nil, err
	}
	f.File = file
	f.Version = Version(src)
	if f.Name == "" {
		base := filepath.Base(file)
		f.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return f, nil
}

// Version returns the version of a flow file's bytes: the first 12 hex
// digits of their SHA-256.
func Version(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])[:12]
}

// loader holds what one Load has found so far.
type loader struct {
	file     string
	problems []Problem

	visits    int      // nodes looked at, counted by resolve
	maxVisits int      // visits after which aliases stop expanding
	exploded  *Problem // aliases reached maxVisits; see resolve

	refs []ref // names to check once every state and topic is known

	language  string            // the flow's language, once the header is read
	fragments map[string]string // `fragments:`, by name
	fragOrder []string          // fragment names in file order, for suggestions
	vars      []varDef          // variables declared, set or captured, in file order
	varRefs   []varRef          // {{name}} uses, checked once every variable is known
	langSets  []langSet         // set: {language: …}, checked once Languages is known
}

// err returns the problems found as a *LoadError, or nil if there are none.
func (l *loader) err() error {
	switch {
	case l.exploded != nil:
		// Past the limit aliases read as empty, which causes problems that
		// are not in the file; only the limit itself is worth reporting.
		return &LoadError{Problems: []Problem{*l.exploded}}
	case len(l.problems) > 0:
		return &LoadError{Problems: sortProblems(l.problems)}
	}
	return nil
}

// load parses and decodes src. The flow it returns is only complete when
// no problems were found.
func (l *loader) load(src []byte) *Flow {
	root := l.parse(src)
	if root == nil {
		return nil
	}
	f := &Flow{Language: "en", States: make(map[StateName]*State)}
	l.flow(root, f)
	f.Languages = languages(f)
	l.checkRefs(f)
	l.checkVars()
	l.checkLanguageSets(f)
	return f
}

// parse returns the root node of the single YAML document in src, or nil
// after reporting why there is none. An empty file is an empty mapping, so
// that it gets the same problems as any flow missing everything.
func (l *loader) parse(src []byte) (root *yaml.Node) {
	defer func() {
		// The YAML parser is not ours; a bug in it must not take down a
		// server that loads flows uploaded by businesses.
		if r := recover(); r != nil {
			l.addAt(Pos{}, "the YAML parser failed: %s", strings.Join(strings.Fields(fmt.Sprint(r)), " "))
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	case err != nil:
		l.syntaxError(src, err)
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		l.syntaxError(src, err)
		return nil
	default:
		l.addAt(Pos{Line: next.Line, Col: next.Column}, "a flow file holds one YAML document; found a second one")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		// "---" alone, like an empty file.
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1, Column: 1}
	}
	return doc.Content[0]
}

// yamlErrorLine matches the position yaml puts in its syntax errors.
var yamlErrorLine = regexp.MustCompile(`^line (\d+): `)

// syntaxError reports a YAML parse error as one problem. yaml gives at most
// a line, and not always a right one, so this recovers what it can.
func (l *loader) syntaxError(src []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var pos Pos
	if m := yamlErrorLine.FindStringSubmatch(msg); m != nil {
		msg = msg[len(m[0]):]
		pos.Line, _ = strconv.Atoi(m[1])
		// Parser errors (as opposed to scanner errors) give the line
		// counting from 0.
		if strings.HasPrefix(msg, "did not find expected") || strings.HasPrefix(msg, "found duplicate") ||
			strings.HasPrefix(msg, "found incompatible") || strings.HasPrefix(msg, "found undefined") {
			pos.Line++
		}
	} else {
		pos = locateSyntaxError(src, msg)
	}
	// yaml places errors at the end of the input on the line after the
	// last one.
	pos.Line = min(pos.Line, lineCount(src))
	l.addAt(pos, "invalid YAML: %s", msg)
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
func locateSyntaxError(src []byte, msg string) Pos {
	if i := firstUnreadable(src); i >= 0 {
		return offsetPos(src, i)
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			return offsetPos(src, i)
		}
	}
	return Pos{Line: 1}
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
func offsetPos(src []byte, offset int) Pos {
	before := src[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return Pos{Line: line, Col: utf8.RuneCount(before[lineStart:]) + 1}
}
