package compliance

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/memstore"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The flows of testdata, the properties each one violates (none for
// none) and Run's exit status.
var planted = []struct {
	file     string
	violates []Property
	code     int
}{
	// Without STOP, its spelled-out form "s t o p" is no near miss of
	// anything either: P7 too.
	{"stop_dropped.yaml", []Property{OptOutEndsAll, NearMissOptOut}, ExitFail},
	// An else transition that opts in takes "n" as well as "zzz".
	{"else_optin.yaml", []Property{TemplateNeedsYes, OnlyYesGrants}, ExitFail},
	{"help_handoff.yaml", []Property{HelpAnswered}, ExitFail},
	{"negative_optin.yaml", []Property{OnlyYesGrants, YesNeedsFreshRequest}, ExitFail},
	{"optout_dropped.yaml", []Property{NearMissOptOut}, ExitFail},
	{"cycle.yaml", nil, ExitPass},
	{"regex_unsampled.yaml", nil, ExitPass},
	{"authentication.yaml", nil, ExitPass},
}

func TestPlanted(t *testing.T) {
	for _, tc := range planted {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", tc.file)
			var out bytes.Buffer
			if code := Run(&out, []string{path}); code != tc.code {
				t.Errorf("Run exited %d, want %d:\n%s", code, tc.code, out.String())
			}
			checkGolden(t, strings.TrimSuffix(path, ".yaml")+".golden", out.String())

			f, src := load(t, path)
			vs := Check(f, src)
			var got []Property
			for _, v := range vs {
				got = append(got, v.Property)
				if len(v.Conversation) == 0 && v.Property != OptOutEndsAll {
					t.Errorf("%s: no conversation", v.Property)
				}
				if strings.Contains(v.Message, "not reproduced") {
					t.Errorf("%s: %s", v.Property, v.Message)
				}
			}
			if !slices.Equal(got, tc.violates) {
				t.Errorf("violations %v, want exactly %v", got, tc.violates)
			}
		})
	}
}

// TestPlantedPositions checks where lint would point.
func TestPlantedPositions(t *testing.T) {
	f, src := load(t, "testdata/else_optin.yaml")
	vs := Check(f, src)
	if len(vs) != 2 {
		t.Fatalf("violations: %+v", vs)
	}
	// The else transition of state ask that records the opt-in, for P3
	// and P6 alike.
	want := f.States["ask"].On[2].Pos
	for _, v := range vs {
		if v.State != "ask" || v.Pos != want || want.Line == 0 {
			t.Errorf("%s at state %q %v, want ask %v", v.Property, v.State, v.Pos, want)
		}
	}
	f, src = load(t, "testdata/help_handoff.yaml")
	vs = Check(f, src)
	if len(vs) != 1 || vs[0].State != "" || vs[0].Pos != (flows.Pos{}) {
		t.Errorf("P2 during handoff should be in no state: %+v", vs)
	}
}

// TestShippedFlows: every property holds in every shipped example flow,
// and the whole of it is explored.
func TestShippedFlows(t *testing.T) {
	names, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no shipped flows: %v", err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			src, err := fs.ReadFile(examples.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := flows.Load(name, src)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Explore(context.Background(), f, src, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			WriteReport(&out, name, rep)
			if len(rep.Violations) > 0 || rep.NodeCapped || rep.DepthCapped {
				t.Errorf("compliance of %s:\n%s", name, out.String())
			}
			if rep.States == 0 || rep.Nodes < 2 {
				t.Errorf("explored nothing: %s", out.String())
			}
		})
	}
	var out bytes.Buffer
	if code := Run(&out, []string{"../../flows/examples"}); code != ExitPass {
		t.Errorf("Run on the shipped flows exited %d:\n%s", code, out.String())
	}
}

// TestEngineTestdataFlows explores the engine's full-feature flow (timers,
// lists, regex, handoff, variants, capture).
func TestEngineTestdataFlows(t *testing.T) {
	for _, path := range []string{"../../bot/testdata/full.yaml", "../../bot/testdata/two_topics.yaml"} {
		f, src := load(t, path)
		rep, err := Explore(context.Background(), f, src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Violations) > 0 {
			var out bytes.Buffer
			WriteReport(&out, path, rep)
			t.Errorf("%s", out.String())
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		code  int
		says  string
	}{
		{"no paths", nil, ExitNoLoad, "no flow files given"},
		{"missing", []string{"testdata/missing.yaml"}, ExitNoLoad, "testdata/missing.yaml: no such file or directory"},
		{"broken", []string{"testdata/broken/unknown_state.yaml"}, ExitNoLoad, "unknown state 'nowhere'"},
		{"broken and failing", []string{"testdata/broken/unknown_state.yaml", "testdata/stop_dropped.yaml"}, ExitNoLoad, "0 passed, 1 failed"},
		{"passing and failing", []string{"testdata/cycle.yaml", "testdata/stop_dropped.yaml"}, ExitFail, "1 passed, 1 failed"},
		{"passing", []string{"testdata/cycle.yaml"}, ExitPass, "1 passed, 0 failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := Run(&out, tc.paths); code != tc.code {
				t.Errorf("exit %d, want %d:\n%s", code, tc.code, out.String())
			}
			if !strings.Contains(out.String(), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, out.String())
			}
		})
	}
}

func TestRunDirectory(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/cycle.yaml", filepath.Join(dir, "a.yaml"))
	copyFile(t, "testdata/else_optin.yaml", filepath.Join(dir, "sub", "b.yml"))
	copyFile(t, "testdata/stop_dropped.yaml", filepath.Join(dir, ".hidden", "c.yaml"))
	if err := os.WriteFile(filepath.Join(dir, "a.flowtest.yaml"), []byte("not: a flow"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Run(&out, []string{dir, filepath.Join(dir, "a.yaml")}); code != ExitFail {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	s := out.String()
	if strings.Count(s, "a.yaml") != 1 || !strings.Contains(s, "b.yml: P3 violated") || strings.Contains(s, "c.yaml") ||
		!strings.HasSuffix(s, "1 passed, 1 failed\n") {
		t.Errorf("output:\n%s", s)
	}
	empty := t.TempDir()
	out.Reset()
	if code := Run(&out, []string{empty}); code != ExitNoLoad || !strings.Contains(out.String(), "no flow files") {
		t.Errorf("empty directory: exit %d:\n%s", code, out.String())
	}
}

// TestCaps: the exploration ends at its caps and says so.
func TestCaps(t *testing.T) {
	f, src := load(t, "testdata/cycle.yaml")
	full, err := Explore(context.Background(), f, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if full.NodeCapped || full.DepthCapped || full.States != 3 {
		t.Errorf("full exploration: %+v", full)
	}
	rep, err := Explore(context.Background(), f, src, Options{MaxNodes: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.NodeCapped || rep.Nodes != 5 || !hasNote(rep, "node cap") {
		t.Errorf("node cap 5: %+v", rep)
	}
	rep, err = Explore(context.Background(), f, src, Options{MaxDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.DepthCapped || rep.Nodes >= full.Nodes || !hasNote(rep, "depth cap") {
		t.Errorf("depth cap 2: %+v", rep)
	}
	var out bytes.Buffer
	if code := RunOptions(&out, []string{"testdata/cycle.yaml"}, Options{MaxNodes: 5}); code != ExitPass ||
		!strings.Contains(out.String(), "note: exploration stopped at 5 conversation states") {
		t.Errorf("exit %d:\n%s", code, out.String())
	}
}

// TestSnapshotStoreAgrees replays the path to every node of the test flows
// on a fresh engine over memstore and compares the conversation and the
// consent with what the explorer's snapshot store held.
func TestSnapshotStoreAgrees(t *testing.T) {
	paths := []string{"testdata/cycle.yaml", "testdata/help_handoff.yaml", "testdata/else_optin.yaml",
		"../../bot/testdata/full.yaml", "../../flows/examples/retail.yaml"}
	ctx := context.Background()
	for _, file := range paths {
		f, src := load(t, file)
		x, err := newExplorer(ctx, f, src, Options{})
		if err != nil {
			t.Fatal(err)
		}
		nodes := 0
		x.visit = func(n *node) {
			nodes++
			if nodes%7 != 1 && n.depth > 3 {
				return // a sample of the deeper nodes keeps the test quick
			}
			e, err := newEngine(ctx, f, src, memstore.New())
			if err != nil {
				t.Fatal(err)
			}
			w := &walker{x: x, e: e, grants: map[flows.Topic]grant{}}
			if w.sess, err = e.session(ctx); err != nil {
				t.Fatal(err)
			}
			for _, c := range path(n) {
				for _, s := range c.steps {
					if _, err := w.do(s); err != nil {
						t.Fatal(err)
					}
				}
			}
			if got, want := x.key(w.sess, w.grants), x.key(n.sess, n.grants); got != want {
				t.Errorf("%s: node %q replays to %q", file, want, got)
			}
			if a, b := jsonOf(t, w.sess.Conversation), jsonOf(t, n.sess.Conversation); a != b {
				t.Errorf("%s: conversation differs on replay:\n%s\n%s", file, a, b)
			}
			if !e.now.Equal(n.world.now) {
				t.Errorf("%s: clock %v on replay, %v explored", file, e.now, n.world.now)
			}
		}
		if _, err := x.explore(); err != nil {
			t.Fatal(err)
		}
		if nodes < 5 {
			t.Errorf("%s: only %d nodes", file, nodes)
		}
	}
}

// TestRedeliveryProbe: the duplicate probe really redelivers (the engine
// ignores it), and a second message with a new id is not ignored.
func TestRedeliveryProbe(t *testing.T) {
	f, src := load(t, "../../flows/examples/retail.yaml")
	ctx := context.Background()
	e, err := newEngine(ctx, f, src, memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	x := &explorer{ctx: ctx, f: f, e: e}
	w := &walker{x: x, e: e, grants: map[flows.Topic]grant{}}
	if _, err := w.do(step{kind: stepText, text: "hi", id: "m1"}); err != nil {
		t.Fatal(err)
	}
	if msg, err := x.tryRedeliver(w); err != nil || msg != "" {
		t.Errorf("redelivery: %q, %v", msg, err)
	}
	effects, err := w.do(step{kind: stepText, text: "hi", id: "m2"})
	if err != nil || len(effects) == 0 {
		t.Errorf("a new message had no effects: %v", err)
	}
}

func TestRegexSamples(t *testing.T) {
	for _, expr := range []string{
		`(?i)^\s*(y+e+s+|s+i+)\s*!*$`,
		`^\s*([1-9]|1[0-9])\s*$`,
		`(?i)^\s*(yes|si|sí)([\s,.!]|$)`,
		`^[0-9]+$`,
		`^[^0-9]{3}$`,
		`^\d{4}-\d{2}-\d{2}$`,
		`order #?[A-Z]{2}\d{6}`,
		`^(?:\+|00)[1-9][0-9 ]{6,14}$`,
		`\bSTOP\b`,
		`^.{5,}$`,
		`^\p{Greek}+$`,
		`^[\x{1F600}-\x{1F64F}]$`,
		`x{3,1000}`,
	} {
		samples := RegexSamples(regexpMust(t, expr))
		if len(samples) == 0 {
			t.Errorf("no sample for %s", expr)
			continue
		}
		for _, s := range samples {
			if strings.TrimSpace(s) == "" || strings.ContainsRune(s, 0) {
				t.Errorf("sample %q of %s", s, expr)
			}
		}
	}
	for _, expr := range []string{`a\bb`, `^$`, `^\s*$`, `[^\x00-\x{10FFFF}]`, `$a`} {
		if samples := RegexSamples(regexpMust(t, expr)); len(samples) > 0 {
			t.Errorf("samples %q for %s, which no real message matches", samples, expr)
		}
	}
	// The sample of full.yaml's regex reaches it rather than the keyword
	// transition before it.
	f, src := load(t, "../../bot/testdata/full.yaml")
	x, err := newExplorer(context.Background(), f, src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := f.States["ask_reminders"]
	s, ok := x.regexSample(st, 0)
	if !ok || !st.On[0].Regex.MatchString(s) || x.e.biz.Keywords.Match(s).Kind != bot.KeywordNone {
		t.Errorf("sample %q, %v", s, ok)
	}
}

func FuzzRegexSamples(f *testing.F) {
	for _, s := range []string{`(?i)^\s*(yes|si)\s*$`, `a\bb`, `[^a-z]+`, `x{2,5}y?`, `(a|b|c)*d`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		re, err := regexpCompile(expr)
		if err != nil {
			return
		}
		for _, s := range RegexSamples(re) {
			if !re.MatchString(s) {
				t.Fatalf("sample %q does not match %s", s, expr)
			}
		}
	})
}

func load(t testing.TB, path string) (*flows.Flow, []byte) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := flows.Load(path, src)
	if err != nil {
		t.Fatal(err)
	}
	return f, src
}

func hasNote(r *Report, s string) bool {
	for _, n := range r.Notes {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, src, 0o644); err != nil {
		t.Fatal(err)
	}
}

func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}
