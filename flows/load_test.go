package flows

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// minimal is the smallest flow that loads.
const minimal = "business: Acme\nstates:\n  welcome:\n    prompt: Hi\n"

func mustLoad(t *testing.T, file, src string) *Flow {
	t.Helper()
	f, err := Load(file, []byte(src))
	if err != nil {
		t.Fatalf("Load(%q) failed:\n%v", file, err)
	}
	return f
}

// problems loads src, which must fail, and returns its problems' messages
// ("line:col: msg", without the file name).
func problems(t *testing.T, src string) []string {
	t.Helper()
	f, err := Load("", []byte(src))
	if err == nil {
		t.Fatalf("Load succeeded, want problems; flow: %+v", f)
	}
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, want *LoadError: %v", err, err)
	}
	var out []string
	for _, p := range le.Problems {
		out = append(out, p.Error())
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	f := mustLoad(t, "flows/demo.v2.yaml", minimal)
	checks := []struct {
		what      string
		got, want any
	}{
		{"File", f.File, "flows/demo.v2.yaml"},
		{"Name", f.Name, "demo.v2"},
		{"Version", f.Version, Version([]byte(minimal))},
		{"Business", f.Business, "Acme"},
		{"Language", f.Language, "en"},
		{"Start", f.Start, StateName("welcome")},
		{"StateOrder", len(f.StateOrder), 1},
		{"Keywords", f.Keywords == nil, true},
		{"Topics", len(f.Topics), 0},
		{"prompt", f.States["welcome"].Prompt.Text, "Hi"},
		{"state pos", f.States["welcome"].Pos, Pos{Line: 3, Col: 3}},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

// everything is a flow using every key of the original language.
const everything = `
name: shop
business: " Acme "
language: de
help: |
  Write HELP.
messages:
  stopped: Bye from {business}
  restarted: Welcome back
  not_stopped: You were not stopped
keywords:
  de:
    opt_out: [stopp, " abmelden "]
    polite: [danke]
  en:
    help: [info]
topics:
  news:
    category: marketing
    description: news about the shop
  orders:
    category: utility
    description: order updates
templates:
  - name: weekly
    topic: news
  - name: weekly
    language: en_US
    topic: news
start: ask
states:
  first:
    prompt: First
  ask:
    prompt:
      text: "  Want news?  "
      buttons:
        - id: yes
          title: " Ja "
        - id: no-thanks
          title: Nein
    on:
      - button: yes
        keywords: [" JA ", klar]
        opt_in: news
        goto: done
      - button: no-thanks
        opt_out: all
        end: true
      - else: true
        goto: ask
  done:
    prompt: Danke
`

func TestLoadEverything(t *testing.T) {
	f := mustLoad(t, "x.yaml", everything)
	if f.Name != "shop" || f.Business != "Acme" || f.Language != "de" || f.Help != "Write HELP." {
		t.Errorf("header = %q %q %q %q", f.Name, f.Business, f.Language, f.Help)
	}
	if want := (Messages{Stopped: "Bye from {business}", Restarted: "Welcome back", NotStopped: "You were not stopped"}); !reflect.DeepEqual(f.Messages, want) {
		t.Errorf("Messages = %+v, want %+v", f.Messages, want)
	}
	de := f.Keywords["de"]
	if !slices.Equal(de.OptOut, []string{"stopp", "abmelden"}) || !slices.Equal(de.Polite, []string{"danke"}) || de.OptIn != nil || de.Help != nil {
		t.Errorf("Keywords[de] = %+v", de)
	}
	if !slices.Equal(f.Keywords["en"].Help, []string{"info"}) {
		t.Errorf("Keywords[en] = %+v", f.Keywords["en"])
	}
	if len(f.Topics) != 2 || f.Topics[0].Name != "news" || f.Topics[1].Category != CategoryUtility || f.Topics[0].Pos != (Pos{18, 3}) {
		t.Errorf("Topics = %+v", f.Topics)
	}
	if len(f.Templates) != 2 || f.Templates[0].Language != "de" || f.Templates[1].Language != "en_US" || f.Templates[0].Topic != "news" {
		t.Errorf("Templates = %+v", f.Templates)
	}
	if f.Start != "ask" || !slices.Equal(f.StateOrder, []StateName{"first", "ask", "done"}) {
		t.Errorf("Start = %q, StateOrder = %v", f.Start, f.StateOrder)
	}
	ask := f.States["ask"]
	if ask.Prompt.Text != "Want news?" || len(ask.Prompt.Buttons) != 2 || ask.Prompt.Buttons[0] != (Button{"yes", "Ja", Pos{38, 11}}) {
		t.Errorf("ask prompt = %+v", ask.Prompt)
	}
	want := []Transition{
		{Button: "yes", Keywords: []string{"JA", "klar"}, OptIn: "news", Goto: "done", Pos: Pos{43, 9}},
		{Button: "no-thanks", OptOut: TopicAll, End: true, Pos: Pos{47, 9}},
		{Else: true, Goto: "ask", Pos: Pos{50, 9}},
	}
	if len(ask.On) != len(want) {
		t.Fatalf("ask.On = %+v", ask.On)
	}
	for i := range want {
		if !reflect.DeepEqual(ask.On[i], want[i]) {
			t.Errorf("transition %d = %+v, want %+v", i+1, ask.On[i], want[i])
		}
	}
	if _, ok := f.Topic("orders"); !ok {
		t.Error(`Topic("orders") not found`)
	}
	if tpl, ok := f.Template("weekly"); !ok || tpl.Language != "de" {
		t.Errorf(`Template("weekly") = %+v, %v`, tpl, ok)
	}
}

// TestLoadProblems checks single rules; testdata/broken has the full
// messages of many more.
func TestLoadProblems(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every problem, in order
	}{
		{
			name: "did you mean a state key",
			src:  minimal + "    promt: Hi\n",
			want: []string{"5:5: unknown key 'promt' in state 'welcome'; did you mean 'prompt'?"},
		},
		{
			name: "unknown key far from any known one lists the allowed ones",
			src:  minimal + "    colour: red\n",
			want: []string{"5:5: unknown key 'colour' in state 'welcome'; allowed keys are prompt, on"},
		},
		{
			name: "missing business",
			src:  "states:\n  a:\n    prompt: Hi\n",
			want: []string{"1:1: missing business name (add business: with the name customers know)"},
		},
		{
			name: "unknown goto with suggestion",
			src:  minimal + "    on:\n      - else: true\n        goto: welcme\n",
			want: []string{"7:15: unknown state 'welcme' in goto; did you mean 'welcome'?"},
		},
		{
			name: "unknown opt_in topic without topics",
			src:  minimal + "    on:\n      - else: true\n        opt_in: news\n        end: true\n",
			want: []string{"7:17: unknown topic 'news' in opt_in; the flow declares no topics"},
		},
		{
			name: "button naming another state's button",
			src: `business: Acme
states:
  a:
    prompt: {text: Hi, buttons: [{id: ok, title: OK}]}
    on: [{button: ok, goto: b}]
  b:
    prompt: Hi
    on: [{button: ok, goto: a}]
`,
			want: []string{"8:19: unknown button 'ok' in transition 1 of state 'b'; the prompt of state 'b' has no buttons or list rows"},
		},
		{
			name: "keywords compare trimmed and case-insensitively",
			src:  minimal + "    on:\n      - keywords: [Yes]\n        end: true\n      - keywords: [\" yES \"]\n        end: true\n",
			want: []string{"8:20: keyword 'yES' is already used by transition 1 of state 'welcome'"},
		},
		{
			name: "same keyword twice in one transition is harmless",
			src:  minimal + "    on:\n      - keywords: [yes, YES]\n        end: true\n      - else: true\n        bogus: 1\n        end: true\n",
			want: []string{"9:9: unknown key 'bogus' in transition 2 of state 'welcome'; allowed keys are button, keywords, regex, else, after, before_window_closes, goto, end, opt_in, opt_out, set, capture, handoff"},
		},
		{
			name: "syntax error",
			src:  "business: Acme\nstates: [\n",
			want: []string{"2: invalid YAML: did not find expected node content"},
		},
		{
			name: "invalid UTF-8 is located",
			src:  "business: Acme\nstates:\n  a:\n    prompt: caf\xe9\n",
			want: []string{"4:16: invalid YAML: incomplete UTF-8 octet sequence"},
		},
		{
			name: "control character is located",
			src:  "business: Ac\x01me\n",
			want: []string{"1:13: invalid YAML: control characters are not allowed"},
		},
		{
			name: "merge keys are rejected",
			src:  "business: Acme\nbase: &b {prompt: Hi}\nstates:\n  a:\n    <<: *b\n",
			want: []string{
				"2:1: unknown key 'base' at the top level; did you mean 'name'?",
				"4:3: missing prompt in state 'a'",
				"5:5: merge keys (<<) are not supported; found one in state 'a'",
			},
		},
		{
			name: "long prompt with buttons",
			src:  "business: Acme\nstates:\n  a:\n    prompt:\n      text: " + strings.Repeat("x", 1025) + "\n      buttons: [{id: ok, title: OK}]\n",
			want: []string{"5:13: prompt text of state 'a' is 1025 characters long; WhatsApp allows at most 1024 in a message with buttons"},
		},
		{
			name: "long prompt",
			src:  "business: Acme\nstates:\n  a:\n    prompt: " + strings.Repeat("é", 4097) + "\n",
			want: []string{"4:13: prompt text of state 'a' is 4097 characters long; WhatsApp allows at most 4096"},
		},
		{
			name: "values are quoted so a message stays on one line",
			src:  "business: Acme\nstates:\n  \"a\\nb\":\n    prompt: Hi\n",
			want: []string{`3:3: invalid state name "a\nb": use letters, digits, '_' and '-', starting with a letter`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadErrorType(t *testing.T) {
	_, err := Load("bad.yaml", []byte("states: {}\nbogus: 1\n"))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, want *LoadError", err)
	}
	want := "bad.yaml:1:1: missing business name (add business: with the name customers know)\n" +
		"bad.yaml:1:1: no states: a flow needs at least one state\n" +
		"bad.yaml:2:1: unknown key 'bogus' at the top level; allowed keys are name, business, language, help, opt_in_expiry, messages, handoff, keywords, vars, fragments, topics, templates, start, states"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	var p Problem
	if !errors.As(err, &p) || p.Pos != (Pos{1, 1}) || p.File != "bad.yaml" {
		t.Errorf("errors.As(Problem) = %+v", p)
	}
	if n := len(le.Unwrap()); n != 3 {
		t.Errorf("Unwrap() has %d errors, want 3", n)
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{"f.yaml", Pos{3, 7}, "bad"}, "f.yaml:3:7: bad"},
		{Problem{"f.yaml", Pos{3, 0}, "bad"}, "f.yaml:3: bad"},
		{Problem{"f.yaml", Pos{}, "bad"}, "f.yaml: bad"},
		{Problem{"", Pos{3, 7}, "bad"}, "3:7: bad"},
		{Problem{"", Pos{}, "bad"}, "bad"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestAliases(t *testing.T) {
	src := `business: Acme
states:
  a:
    prompt: Hi
    on:
      - keywords: &yes [yes, y]
        goto: b
  b:
    prompt: Bye
    on:
      - keywords: *yes
        end: true
`
	f := mustLoad(t, "aliases.yaml", src)
	if got := f.States["b"].On[0].Keywords; !slices.Equal(got, []string{"yes", "y"}) {
		t.Errorf("aliased keywords = %q", got)
	}
}

// TestAliasBomb checks that aliases naming huge trees ("billion laughs")
// fail fast with one problem instead of exhausting time and memory.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("business: Acme\nkw: &k [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("w")
	}
	b.WriteString("]\nt: &t {keywords: *k, end: true}\non: &on [")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*t")
	}
	b.WriteString("]\ns: &s {prompt: Hi, on: *on}\nstates:\n")
	for i := range 200 {
		b.WriteString("  s" + strings.Repeat("x", i) + ": *s\n")
	}
	start := time.Now()
	got := problems(t, b.String())
	if len(got) != 1 || !strings.Contains(got[0], "aliases expand to too much content") {
		t.Errorf("problems = %d, first %q; want only the alias limit", len(got), got[0])
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestRecursiveAlias(t *testing.T) {
	for _, src := range []string{
		"business: Acme\nstates: &s\n  a: *s\n",
		"business: Acme\nstates:\n  a: &a\n    prompt: Hi\n    on: [*a]\n",
		"business: &b [*b]\nstates: {a: {prompt: Hi}}\n",
	} {
		problems(t, src) // must return, not loop or panic
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != "mine" || f.File != path {
		t.Errorf("Name = %q, File = %q", f.Name, f.File)
	}
	_, err = LoadFile(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v, want a not-exist error", err)
	}
}

func TestVersion(t *testing.T) {
	// The version is stored with every conversation; it must never change
	// for the same bytes.
	if got, want := Version([]byte(minimal)), "aa6895f663f5"; got != want {
		t.Errorf("Version = %q, want %q", got, want)
	}
	a := mustLoad(t, "a.yaml", minimal)
	b := mustLoad(t, "b.yaml", minimal)
	c := mustLoad(t, "a.yaml", minimal+"# a comment changes the bytes\n")
	if a.Version != b.Version {
		t.Errorf("same bytes, versions %q and %q", a.Version, b.Version)
	}
	if a.Version == c.Version {
		t.Errorf("different bytes, same version %q", a.Version)
	}
}
