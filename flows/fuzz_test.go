package flows

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows/examples"
)

// FuzzLoad checks that Load never panics, that a loaded flow is consistent
// (everything it names exists) and that a failure is a well-formed
// *LoadError.
func FuzzLoad(f *testing.F) {
	names, _ := fs.Glob(examples.FS, "*.yaml")
	for _, name := range names {
		src, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	broken, _ := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	for _, path := range broken {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, src []byte) {
		flow, err := Load("fuzz.yaml", src)
		if err != nil {
			checkLoadError(t, err)
			return
		}
		checkInvariants(t, flow)
	})
}

// checkInvariants checks what every loaded flow guarantees its users.
func checkInvariants(t *testing.T, f *Flow) {
	t.Helper()
	if f.Business == "" || len(f.Version) != 12 || !languageRe.MatchString(f.Language) {
		t.Errorf("business %q, version %q, language %q", f.Business, f.Version, f.Language)
	}
	if len(f.States) == 0 || len(f.StateOrder) != len(f.States) {
		t.Fatalf("%d states, %d in order", len(f.States), len(f.StateOrder))
	}
	if _, ok := f.States[f.Start]; !ok {
		t.Errorf("start state %q does not exist", f.Start)
	}
	topicExists := func(name Topic) bool { _, ok := f.Topic(name); return ok }
	for _, name := range f.StateOrder {
		s := f.States[name]
		if s == nil || s.Name != name || s.Prompt.Text == "" || len(s.Prompt.Buttons) > maxButtons {
			t.Fatalf("state %q = %+v", name, s)
		}
		for i, tr := range s.On {
			if tr.Goto != "" && f.States[tr.Goto] == nil {
				t.Errorf("state %q transition %d: goto %q does not exist", name, i+1, tr.Goto)
			}
			if tr.Goto == "" && !tr.End {
				t.Errorf("state %q transition %d goes nowhere", name, i+1)
			}
			if tr.OptIn != "" && !topicExists(tr.OptIn) {
				t.Errorf("state %q transition %d: opt_in topic %q does not exist", name, i+1, tr.OptIn)
			}
			if tr.OptOut != "" && tr.OptOut != TopicAll && !topicExists(tr.OptOut) {
				t.Errorf("state %q transition %d: opt_out topic %q does not exist", name, i+1, tr.OptOut)
			}
			if tr.Else == (tr.Button != "" || len(tr.Keywords) > 0) {
				t.Errorf("state %q transition %d: else %v with button %q keywords %q", name, i+1, tr.Else, tr.Button, tr.Keywords)
			}
			if tr.Else && i != len(s.On)-1 {
				t.Errorf("state %q: else in transition %d is not last", name, i+1)
			}
			if tr.Button != "" && !slices.ContainsFunc(s.Prompt.Buttons, func(b Button) bool { return b.ID == tr.Button }) {
				t.Errorf("state %q transition %d: button %q does not exist", name, i+1, tr.Button)
			}
		}
	}
	for _, tpl := range f.Templates {
		if !topicExists(tpl.Topic) {
			t.Errorf("template %q: topic %q does not exist", tpl.Name, tpl.Topic)
		}
	}
}

// checkLoadError checks that err lists problems sorted by position, each a
// non-empty single line.
func checkLoadError(t *testing.T, err error) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, want *LoadError: %v", err, err)
	}
	if len(le.Problems) == 0 {
		t.Fatal("LoadError without problems")
	}
	for i, p := range le.Problems {
		if p.Msg == "" || strings.ContainsAny(p.Msg, "\r\n") {
			t.Errorf("problem %d message %q is empty or not one line", i, p.Msg)
		}
		if i > 0 {
			prev := le.Problems[i-1].Pos
			if p.Pos.Line < prev.Line || p.Pos.Line == prev.Line && p.Pos.Col < prev.Col {
				t.Errorf("problem %d at %v comes after one at %v", i, p.Pos, prev)
			}
		}
	}
}
