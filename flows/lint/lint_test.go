package lint

import (
	"bytes"
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
)

var update = flag.Bool("update", false, "rewrite the .golden files of testdata")

// TestGolden runs the linter on every flow in testdata and compares its
// output with the flow's .golden file. A file named CODE_*.yaml must make
// rule CODE fire; load_*.yaml must fail to load. Run
// `go test ./flows/lint -run TestGolden -update` to rewrite the golden
// files after changing a message, and review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no files in testdata")
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			status := Run(&out, []string{path}, FormatText)
			got := out.String()

			prefix, _, _ := strings.Cut(name, "_")
			switch {
			case prefix == "load":
				if status != ExitNotLoads {
					t.Errorf("status %d, want %d for a flow that does not load", status, ExitNotLoads)
				}
			case !strings.Contains(got, " "+prefix+" "):
				t.Errorf("rule %s does not fire", prefix)
				fallthrough
			default:
				want := ExitClean
				if strings.Contains(got, " error: ") {
					want = ExitErrors
				}
				if status != want {
					t.Errorf("status %d, want %d", status, want)
				}
			}

			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// TestEveryRuleHasFixtureAndDoc: every code has a fixture in testdata and a
// section in docs/lint.md under its anchor, and every finding's code is a
// rule's.
func TestEveryRuleHasFixtureAndDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", DocFile))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range Rules() {
		if i > 0 && r.Code <= rules[i-1].Code {
			t.Errorf("rule %s is out of order", r.Code)
		}
		fixtures, _ := filepath.Glob(filepath.Join("testdata", r.Code+"_*.yaml"))
		if len(fixtures) == 0 {
			t.Errorf("rule %s has no fixture testdata/%s_*.yaml", r.Code, r.Code)
		}
		if !bytes.Contains(doc, []byte(`<a id="`+r.Code+`"></a>`)) {
			t.Errorf("rule %s has no section in %s", r.Code, DocFile)
		}
	}
}

// TestExamplesLintClean: the shipped flows have no findings.
func TestExamplesLintClean(t *testing.T) {
	names, err := fs.Glob(examples.FS, "*.yaml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no example flows (%v)", err)
	}
	for _, name := range names {
		src, err := fs.ReadFile(examples.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := flows.Load(name, src)
		if err != nil {
			t.Fatalf("%s does not load:\n%v", name, err)
		}
		for _, fd := range Lint(f, src) {
			t.Errorf("%s", fd)
		}
		var out bytes.Buffer
		if status := Run(&out, []string{filepath.Join("..", "examples", name)}, FormatText); status != ExitClean || out.Len() > 0 {
			t.Errorf("Run %s = %d\n%s", name, status, out.String())
		}
	}
}

// TestWithoutSource: without the source, the same findings come at the
// nearest position the flow holds.
func TestWithoutSource(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "OB*.yaml"))
	for _, path := range files {
		f, src := load(t, path)
		with, without := Lint(f, src), Lint(f, nil)
		if len(with) != len(without) {
			t.Errorf("%s: %d findings with the source, %d without", path, len(with), len(without))
			continue
		}
		codes := func(fds []Finding) []string {
			var out []string
			for _, fd := range fds {
				out = append(out, fd.Code+" "+fd.Message)
			}
			slices.Sort(out)
			return out
		}
		if !slices.Equal(codes(with), codes(without)) {
			t.Errorf("%s: findings differ without the source:\n%v\n%v", path, codes(with), codes(without))
		}
		for _, fd := range without {
			if fd.Pos.Line == 0 && fd.Code != CodeDroppedOptOut {
				t.Errorf("%s: %s has no position without the source", path, fd)
			}
		}
	}
}

func load(t *testing.T, path string) (*flows.Flow, []byte) {
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

// lintString loads a flow from YAML and returns its findings' codes.
func lintString(t *testing.T, src string) []string {
	t.Helper()
	f, err := flows.Load("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("does not load:\n%v", err)
	}
	var codes []string
	for _, fd := range Lint(f, []byte(src)) {
		codes = append(codes, fd.Code+" "+fd.Severity.String())
	}
	return codes
}

// flow returns a clean flow with the given ask prompt, ask transitions
// and extra top-level YAML.
func flow(prompt, on, extra string) string {
	return `business: Café Olé
` + extra + `
topics:
  order_updates:
    category: utility
    description: updates about your orders (confirmation and delivery)
templates:
  - name: shipped
    topic: order_updates
states:
  ask:
    prompt: "` + prompt + `"
    on:
` + on + `
  subscribed:
    prompt: Thanks!
`
}

const yesOn = `      - keywords: [yes]
        opt_in: order_updates
        goto: subscribed
      - else: true
        end: true`

func TestRules(t *testing.T) {
	const good = "Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or STOP at any time."
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"clean", flow(good, yesOn, ""), nil},
		{"accents and case", flow("UPDATES ABOUT YOUR ORDERS (confirmation and delivery) from CAFÉ OLÉ on Whats\u00adApp? Reply YES, or ＳＴＯＰ.", yesOn, ""), nil},
		{"business inside a word", flow("Updates about your orders from Cafe Oles on WhatsApp? Reply YES, or STOP.", yesOn, ""),
			[]string{"OB001 error"}},
		{"no request, no check", flow("Hello", `      - else: true
        end: true`, ""), []string{"OB007 error", "OB009 warning"}},
		{"everything missing", flow("Reply YES.", yesOn, ""),
			[]string{"OB001 error", "OB002 error", "OB003 error", "OB004 error"}},
		{"opt-out word of the flow language", flow("Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or BAJA.", yesOn, "language: es"), nil},
		{"opt-out word of an inactive language", flow("Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or BAJA.", yesOn, ""),
			[]string{"OB004 error"}},
		{"multi-word opt-out", flow("Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or OPT-OUT.", yesOn, ""), nil},
		{"keywords kept", flow(good, yesOn, "keywords:\n  en:\n    opt_out: [stop, Stop All, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, OPT OUT, BYE]"), nil},
		{"opt-out word moved to another language", flow(good, yesOn, "keywords:\n  en:\n    opt_out: [STOP, STOPALL, STOP ALL, UNSUBSCRIBE, END, QUIT, REVOKE, OPTOUT, OPT OUT]\n  nl:\n    opt_out: [CANCEL]"), nil},
		{"only opt_in replaced", flow(good, yesOn, "keywords:\n  en:\n    opt_in: [RESUME]"), nil},
		{"es drops ALTO", flow(good, yesOn, "keywords:\n  es:\n    opt_out: [PARAR, BAJA, CANCELAR]"), []string{"OB005 warning"}},
		{"STOP dropped, STOP ALL kept", flow("Updates about your orders from Cafe Ole on WhatsApp? Reply YES, or STOP ALL.", yesOn, "keywords:\n  en:\n    opt_out: [STOP ALL]"),
			[]string{"OB005 error", "OB005 warning"}},
		{"keyword with polite words", flow(good, `      - keywords: [yes, stop please, don't stop, cancel my order, info]
        opt_in: order_updates
        goto: subscribed`, ""), []string{"OB006 error", "OB006 error"}},
		{"flow's own opt-out keyword", flow(good, `      - keywords: [yes, bye]
        opt_in: order_updates
        goto: subscribed`, "keywords:\n  en:\n    opt_out: [STOP, STOPALL, STOP ALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT, OPT OUT, BYE]"), []string{"OB006 error"}},
		{"removed keyword is free", flow(good, `      - keywords: [yes, help]
        opt_in: order_updates
        goto: subscribed`, "keywords:\n  en:\n    help: [INFO]"), nil},
		{"resting start", flow(good, `      - keywords: [yes]
        opt_in: order_updates
        goto: ask
      - else: true
        goto: ask`, ""), []string{"OB009 warning"}},
		{"leads to a resting state", flow(good, `      - keywords: [yes]
        opt_in: order_updates
        goto: subscribed
      - else: true
        goto: ask`, ""), nil},
		{"self loop without end", flow(good, `      - keywords: [yes]
        opt_in: order_updates
        goto: ask
      - else: true
        goto: trap
  trap:
    prompt: Trapped
    on:
      - else: true
        goto: ask`, ""), []string{"OB009 warning", "OB010 warning", "OB010 warning"}},
		{"topic alias", strings.Replace(flow("Novedades de tus pedidos from Cafe Ole on WhatsApp? Reply YES, or STOP at any time.", yesOn, ""),
			"description: updates about your orders (confirmation and delivery)",
			"description: updates about your orders (confirmation and delivery)\n    aliases: [novedades de tus pedidos]", 1), nil},
		{"business as a variable", flow("Updates about your orders from {{business}} on WhatsApp? Reply YES, or STOP at any time.", yesOn, ""), nil},
		{"other variables count as nothing", flow("Updates about your orders from {{customer}} on {{channel}}? Reply YES, or STOP at any time.", yesOn, "vars: {channel: WhatsApp}"),
			[]string{"OB001 error", "OB002 error"}},
		{"granted outside the chat", strings.Replace(flow("Hello", `      - else: true
        end: true`, ""), "category: utility", "category: utility\n    granted_by: [web]", 1), []string{"OB009 warning"}},
		{"variants' languages are active", strings.Replace(flow(good, yesOn, ""), `    prompt: "`+good+`"`,
			`    prompt:
      text: "`+good+`"
      variants:
        de: "Updates about your orders von Cafe Ole auf WhatsApp? Antworten Sie JA."
        es: "Updates about your orders de Café Olé por WhatsApp? Responde SÍ o BAJA."`, 1),
			[]string{"OB004 error"}},
		{"keyword global in a variant's language", strings.Replace(flow(good, `      - keywords: [yes, alto]
        opt_in: order_updates
        goto: subscribed`, ""), `    prompt: "`+good+`"`, `    prompt:
      text: "`+good+`"
      variants:
        es: "Updates about your orders de Café Olé por WhatsApp? Responde SÍ o ALTO."`, 1),
			[]string{"OB006 error"}},
		{"cross-flow goto and handoff end the conversation", flow(good, `      - keywords: [yes]
        opt_in: order_updates
        goto: loop
      - else: true
        goto: other/start
  loop:
    prompt: Loop
    on:
      - keywords: [human]
        handoff: support
      - else: true
        goto: ask`, ""), []string{"OB009 warning"}},
		{"unreachable grant", flow(good, `      - keywords: [yes]
        goto: subscribed
      - else: true
        end: true
  other:
    prompt: "`+good+`"
    on:
      - keywords: [yes]
        opt_in: order_updates
        end: true`, ""), []string{"OB007 error", "OB009 warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lintString(t, tt.src)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("findings %q, want %q\n%s", got, tt.want, tt.src)
			}
		})
	}
}

func TestFindingString(t *testing.T) {
	fd := Finding{File: "a.yaml", Pos: flows.Pos{Line: 3, Col: 5}, Code: "OB001", Severity: Error, Message: "m"}
	if got, want := fd.String(), "a.yaml:3:5: OB001 error: m (docs/lint.md#OB001)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	fd.Pos, fd.Severity = flows.Pos{}, Warning
	if got, want := fd.String(), "a.yaml: OB001 warning: m (docs/lint.md#OB001)"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	b, err := json.Marshal(Finding{File: "a.yaml", Pos: flows.Pos{Line: 1, Col: 2}, Code: "OB008", Severity: Warning, Message: "m"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"file":"a.yaml","line":1,"col":2,"code":"OB008","severity":"warning","message":"m","doc":"docs/lint.md#OB008"}`
	if string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
}

// TestGrantSourcesInSync: the sources flows accepts in granted_by are
// bot's consent sources but for in_channel, the chat itself, and cli, which
// only erases. flows cannot import bot, so this test keeps the two lists in
// step.
func TestGrantSourcesInSync(t *testing.T) {
	var want []string
	for _, src := range bot.Sources {
		if src != bot.SourceInChannel && src != bot.SourceCLI {
			want = append(want, string(src))
		}
	}
	got := slices.Clone(flows.GrantSources)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("flows.GrantSources = %q, bot.Sources without in_channel = %q", got, want)
	}
}

// TestFullLanguageLintClean: the loader's flow using every feature of the
// language has no findings.
func TestFullLanguageLintClean(t *testing.T) {
	f, src := load(t, filepath.Join("..", "testdata", "full.yaml"))
	for _, fd := range Lint(f, src) {
		t.Errorf("%s", fd)
	}
}
