package flows

import (
	"cmp"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
	for _, path := range []string{filepath.Join("testdata", "full.yaml")} {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	for _, src := range newSyntaxSeeds {
		f.Add([]byte(src))
	}
	f.Add([]byte(minimal))
	f.Add(generatedFullFlow(3))
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
	if len(f.Languages) == 0 || f.Languages[0] != f.Language || !slices.IsSorted(f.Languages[1:]) ||
		len(slices.Compact(slices.Clone(f.Languages[1:]))) != len(f.Languages)-1 || slices.Contains(f.Languages[1:], f.Language) {
		t.Errorf("languages %q with flow language %q", f.Languages, f.Language)
	}
	// Texts in other languages: by a valid language other than the flow's,
	// never blank, and trimmed.
	checkVariants := func(what string, texts map[string]string) {
		for lang, text := range texts {
			if !languageRe.MatchString(lang) || lang == f.Language || text == "" || text != strings.TrimSpace(text) {
				t.Errorf("%s in language %q = %q (flow language %q)", what, lang, text, f.Language)
			}
		}
	}
	checkVariants("help", f.HelpVariants)
	if f.Help != strings.TrimSpace(f.Help) || len(f.HelpVariants) > 0 && f.Help == "" {
		t.Errorf("help %q with variants %q", f.Help, f.HelpVariants)
	}
	for lang, m := range f.Messages.Variants {
		if m.Variants != nil || cmp.Or(m.Stopped, m.Restarted, m.NotStopped, m.ConfirmStop, m.StopDeclined) == "" {
			t.Errorf("messages in language %q = %+v", lang, m)
		}
		checkVariants("messages", map[string]string{lang: cmp.Or(m.Stopped, m.Restarted, m.NotStopped, m.ConfirmStop, m.StopDeclined)})
		for _, pair := range [][2]string{{m.Stopped, f.Messages.Stopped}, {m.Restarted, f.Messages.Restarted}, {m.NotStopped, f.Messages.NotStopped},
			{m.ConfirmStop, f.Messages.ConfirmStop}, {m.StopDeclined, f.Messages.StopDeclined}} {
			if pair[0] != "" && pair[1] == "" {
				t.Errorf("message in language %q has no wording in the flow's language: %+v", lang, f.Messages)
			}
		}
	}
	topicExists := func(name Topic) bool { _, ok := f.Topic(name); return ok }
	for _, tp := range f.Topics {
		if tp.Description == "" {
			t.Errorf("topic %q: no description", tp.Name)
		}
		checkVariants("description of topic "+string(tp.Name), tp.DescriptionVariants)
		if tp.FrequencyCap < 0 {
			t.Errorf("topic %q: frequency cap %d", tp.Name, tp.FrequencyCap)
		}
		for _, src := range tp.GrantedBy {
			if !slices.Contains(GrantSources, src) {
				t.Errorf("topic %q: granted by %q", tp.Name, src)
			}
		}
	}
	vars := knownVars(f)
	for _, name := range f.StateOrder {
		s := f.States[name]
		if s == nil || s.Name != name {
			t.Fatalf("state %q = %+v", name, s)
		}
		checkPrompt(t, f, s, vars)
		var ids []string
		for _, b := range s.Prompt.Buttons {
			ids = append(ids, b.ID)
		}
		if s.Prompt.List != nil {
			for _, r := range s.Prompt.List.Rows {
				ids = append(ids, r.ID)
			}
		}
		after, window := 0, 0
		for i, tr := range s.On {
			if tr.GotoFlow == "" && tr.Goto != "" && f.States[tr.Goto] == nil {
				t.Errorf("state %q transition %d: goto %q does not exist", name, i+1, tr.Goto)
			}
			if tr.GotoFlow != "" && tr.Goto == "" {
				t.Errorf("state %q transition %d: goto flow %q without a state", name, i+1, tr.GotoFlow)
			}
			if tr.Goto == "" && !tr.End && tr.Handoff == "" {
				t.Errorf("state %q transition %d goes nowhere", name, i+1)
			}
			if tr.Handoff != "" && (tr.Goto != "" || tr.End) {
				t.Errorf("state %q transition %d: handoff with goto %q or end %v", name, i+1, tr.Goto, tr.End)
			}
			if tr.OptIn != "" && !topicExists(tr.OptIn) {
				t.Errorf("state %q transition %d: opt_in topic %q does not exist", name, i+1, tr.OptIn)
			}
			if tr.OptOut != "" && tr.OptOut != TopicAll && !topicExists(tr.OptOut) {
				t.Errorf("state %q transition %d: opt_out topic %q does not exist", name, i+1, tr.OptOut)
			}
			message := tr.Button != "" || len(tr.Keywords) > 0 || tr.Regex != nil
			kinds := 0
			for _, k := range []bool{message, tr.Else, tr.After > 0, tr.BeforeWindowCloses > 0} {
				if k {
					kinds++
				}
			}
			if kinds != 1 {
				t.Errorf("state %q transition %d: %d kinds of trigger: %+v", name, i+1, kinds, tr)
			}
			if tr.IsTimer() && (tr.OptIn != "" || tr.Capture != "") {
				t.Errorf("state %q transition %d: timer with opt_in %q or capture %q", name, i+1, tr.OptIn, tr.Capture)
			}
			if tr.After > 0 {
				after++
			}
			if tr.BeforeWindowCloses > 0 {
				window++
				if tr.BeforeWindowCloses >= 24*time.Hour {
					t.Errorf("state %q transition %d: before_window_closes %v", name, i+1, tr.BeforeWindowCloses)
				}
			}
			if tr.Else && slices.ContainsFunc(s.On[i+1:], func(u Transition) bool { return !u.IsTimer() }) {
				t.Errorf("state %q: else in transition %d is not the last message transition", name, i+1)
			}
			if tr.Button != "" && !slices.Contains(ids, tr.Button) {
				t.Errorf("state %q transition %d: button %q does not exist", name, i+1, tr.Button)
			}
			for k, v := range tr.Set {
				if !varNameRe.MatchString(k) || k == VarBusiness || k == VarCustomer {
					t.Errorf("state %q transition %d: sets %q", name, i+1, k)
				}
				checkText(t, v, vars, "set value")
				if k == VarLanguage && !strings.Contains(v, "{{") && !slices.Contains(f.Languages, v) {
					t.Errorf("state %q transition %d: sets language %q", name, i+1, v)
				}
			}
			if tr.Capture != "" && (!varNameRe.MatchString(tr.Capture) || slices.Contains(BuiltinVars, tr.Capture)) {
				t.Errorf("state %q transition %d: captures %q", name, i+1, tr.Capture)
			}
		}
		if after > 1 || window > 1 {
			t.Errorf("state %q: %d after and %d before_window_closes transitions", name, after, window)
		}
	}
	for _, tpl := range f.Templates {
		if !topicExists(tpl.Topic) {
			t.Errorf("template %q: topic %q does not exist", tpl.Name, tpl.Topic)
		}
	}
}

// knownVars returns every variable a flow's texts may use.
func knownVars(f *Flow) map[string]bool {
	vars := make(map[string]bool)
	for _, v := range BuiltinVars {
		vars[v] = true
	}
	for v := range f.Vars {
		vars[v] = true
	}
	for _, s := range f.States {
		for _, tr := range s.On {
			for k := range tr.Set {
				vars[k] = true
			}
			if tr.Capture != "" {
				vars[tr.Capture] = true
			}
		}
	}
	return vars
}

// checkPrompt checks a state's prompt and its variants against WhatsApp's
// limits and each other.
func checkPrompt(t *testing.T, f *Flow, s *State, vars map[string]bool) {
	t.Helper()
	p := s.Prompt
	if p.Text == "" || len(p.Buttons) > maxButtons || len(p.Buttons) > 0 && p.List != nil {
		t.Fatalf("state %q prompt = %+v", s.Name, p)
	}
	checkText(t, p.Text, vars, "prompt")
	checkList(t, s.Name, p.List)
	for lang, v := range p.Variants {
		if lang == f.Language || !slices.Contains(f.Languages, lang) || v.Text == "" {
			t.Errorf("state %q: variant %q = %+v (languages %q)", s.Name, lang, v, f.Languages)
		}
		checkText(t, v.Text, vars, "variant")
		checkList(t, s.Name, v.List)
		if v.Buttons != nil && !sameSet(buttonIDs(v.Buttons), buttonIDs(p.Buttons)) {
			t.Errorf("state %q: variant %q buttons %q, prompt's %q", s.Name, lang, buttonIDs(v.Buttons), buttonIDs(p.Buttons))
		}
		if v.List != nil && (p.List == nil || !sameSet(rowIDs(v.List), rowIDs(p.List))) {
			t.Errorf("state %q: variant %q list %+v, prompt's %+v", s.Name, lang, v.List, p.List)
		}
		lp := p.ForLanguage(lang)
		if lp.Text != v.Text || len(lp.Buttons) != len(p.Buttons) || (lp.List == nil) != (p.List == nil) {
			t.Errorf("state %q: ForLanguage(%q) = %+v", s.Name, lang, lp)
		}
	}
}

func checkList(t *testing.T, state StateName, ls *List) {
	t.Helper()
	if ls == nil {
		return
	}
	if ls.Button == "" || len(ls.Rows) == 0 || len(ls.Rows) > maxRows {
		t.Errorf("state %q: list %+v", state, ls)
	}
	for _, r := range ls.Rows {
		if r.ID == "" || r.Title == "" {
			t.Errorf("state %q: row %+v", state, r)
		}
	}
}

// checkText checks that a text holds only well-formed placeholders of
// known variables.
func checkText(t *testing.T, text string, vars map[string]bool, what string) {
	t.Helper()
	got := Interpolate(text, func(name string) string {
		if !vars[name] {
			t.Errorf("%s %q uses unknown variable %q", what, text, name)
		}
		return "x"
	})
	if strings.Contains(got, "{{") {
		t.Errorf("%s %q holds a stray '{{' (%q)", what, text, got)
	}
}

func buttonIDs(bs []Button) []string {
	var ids []string
	for _, b := range bs {
		ids = append(ids, b.ID)
	}
	return ids
}

func rowIDs(ls *List) []string {
	var ids []string
	for _, r := range ls.Rows {
		ids = append(ids, r.ID)
	}
	return ids
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
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
