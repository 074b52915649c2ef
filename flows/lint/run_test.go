package lint

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/flows"
)

const (
	warningsOnly = "testdata/OB009_unreachable.yaml"
	withErrors   = "testdata/OB001_no_business.yaml"
	notLoading   = "testdata/load_broken.yaml"
	retail       = "../examples/retail.yaml"
)

func TestRunStatus(t *testing.T) {
	tests := []struct {
		name   string
		paths  []string
		format string
		want   int
	}{
		{"clean", []string{retail}, "", ExitClean},
		{"warnings only", []string{warningsOnly, retail}, FormatText, ExitClean},
		{"errors", []string{warningsOnly, withErrors}, FormatText, ExitErrors},
		{"errors json", []string{withErrors}, FormatJSON, ExitErrors},
		{"does not load", []string{notLoading}, FormatText, ExitNotLoads},
		{"does not load wins", []string{withErrors, notLoading, retail}, FormatJSON, ExitNotLoads},
		{"missing file", []string{"testdata/missing.yaml", withErrors}, FormatText, ExitNotLoads},
		{"no files", nil, FormatText, ExitNotLoads},
		{"unknown format", []string{retail}, "xml", ExitNotLoads},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if got := Run(&out, tt.paths, tt.format); got != tt.want {
				t.Errorf("Run = %d, want %d\n%s", got, tt.want, out.String())
			}
		})
	}
}

// TestRunLoadProblems: a file that does not load has its load problems
// printed as flows formats them, among the findings of the other files,
// sorted by file.
func TestRunLoadProblems(t *testing.T) {
	var out bytes.Buffer
	Run(&out, []string{withErrors, notLoading}, FormatText)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var problems []string
	for _, l := range lines {
		if strings.HasPrefix(l, notLoading+":") {
			problems = append(problems, l)
		}
	}
	_, err := load0(notLoading)
	if err == nil {
		t.Fatal("load_broken.yaml loads")
	}
	if want := strings.Split(err.Error(), "\n"); !slices.Equal(problems, want) {
		t.Errorf("load problems printed:\n%s\nwant:\n%s", strings.Join(problems, "\n"), err)
	}
	if !slices.IsSorted(fileOf(lines)) {
		t.Errorf("output not sorted by file:\n%s", out.String())
	}

	out.Reset()
	Run(&out, []string{"testdata/missing.yaml"}, FormatText)
	if !strings.HasPrefix(out.String(), "testdata/missing.yaml: open testdata/missing.yaml: ") {
		t.Errorf("missing file: %q", out.String())
	}
}

func load0(path string) (*flows.Flow, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return flows.Load(path, src)
}

func posOf(l jsonLine) flows.Pos { return flows.Pos{Line: l.Line, Col: l.Col} }

func fileOf(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i], _, _ = strings.Cut(l, ":")
	}
	return out
}

// TestRunJSON: one object per line, with exactly the documented keys, and
// the same findings as the text format.
func TestRunJSON(t *testing.T) {
	paths := []string{withErrors, warningsOnly, notLoading, "testdata/OB006_global_keyword.yaml"}
	var text, js bytes.Buffer
	Run(&text, paths, FormatText)
	Run(&js, paths, FormatJSON)
	textLines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
	jsonLines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	if len(textLines) != len(jsonLines) {
		t.Fatalf("%d text lines, %d JSON lines", len(textLines), len(jsonLines))
	}
	keys := []string{"code", "col", "doc", "file", "line", "message", "severity"}
	for i, l := range jsonLines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, l)
		}
		var got []string
		for k := range m {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, keys) {
			t.Errorf("line %d has keys %v, want %v", i+1, got, keys)
		}
		var fd jsonLine
		if err := json.Unmarshal([]byte(l), &fd); err != nil {
			t.Fatal(err)
		}
		var want string
		if fd.Code == CodeLoadProblem {
			want = where(fd.File, posOf(fd)) + fd.Message
			if fd.Severity != "error" || fd.Doc != loadProblemDocument {
				t.Errorf("line %d: load problem %s", i+1, l)
			}
		} else {
			want = where(fd.File, posOf(fd)) + fd.Code + " " + fd.Severity + ": " + fd.Message + " (" + fd.Doc + ")"
			if fd.Doc != DocFile+"#"+fd.Code {
				t.Errorf("line %d: doc %q", i+1, fd.Doc)
			}
		}
		if textLines[i] != want {
			t.Errorf("line %d:\ntext %s\njson %s", i+1, textLines[i], l)
		}
	}
	if !strings.Contains(js.String(), `"code":"load"`) || !strings.Contains(js.String(), `"severity":"warning"`) {
		t.Errorf("JSON output lacks a load problem or a warning:\n%s", js.String())
	}
}

func TestRunDeduplicatesAndSorts(t *testing.T) {
	var a, b bytes.Buffer
	Run(&a, []string{withErrors, warningsOnly}, FormatText)
	Run(&b, []string{warningsOnly, withErrors, warningsOnly}, FormatText)
	if a.String() != b.String() {
		t.Errorf("output depends on the order of the paths:\n%s\n%s", a.String(), b.String())
	}
}
