package flows

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"

	"github.com/optinbot/optinbot/flows/yamlnode"
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
	l := &loader{file: file}
	l.Doc = yamlnode.Doc{
		// Enough for any flow written by hand, whatever its aliases, and
		// far below what makes loading slow.
		MaxVisits: 100_000 + 4*len(src),
		Quote:     quote,
		Closest:   closest,
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
	yamlnode.Doc // problems found; see yamlnode.Doc.Resolve for Exploded
	file         string

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
	case l.Exploded != nil:
		// Past the limit aliases read as empty, which causes problems that
		// are not in the file; only the limit itself is worth reporting.
		return &LoadError{Problems: []Problem{l.problem(*l.Exploded)}}
	case len(l.Problems) > 0:
		ps := make([]Problem, len(l.Problems))
		for i, p := range l.Problems {
			ps[i] = l.problem(p)
		}
		return &LoadError{Problems: sortProblems(ps)}
	}
	return nil
}

// problem gives p the loader's file name.
func (l *loader) problem(p yamlnode.Problem) Problem {
	return Problem{File: l.file, Pos: Pos{Line: p.Line, Col: p.Col}, Msg: p.Msg}
}

// load parses and decodes src. The flow it returns is only complete when
// no problems were found.
func (l *loader) load(src []byte) *Flow {
	root := l.Parse(src, "flow file")
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
