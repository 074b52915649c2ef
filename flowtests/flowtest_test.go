package flowtests

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestShippedFlows runs every *.flowtest.yaml under this directory (the
// tests of the shipped flows, in examples/) through Run, as `optinbot test
// flowtests` does, and fails on any failure.
func TestShippedFlows(t *testing.T) {
	files, problems := Files([]string{"."})
	if len(problems) > 0 || len(files) == 0 {
		t.Fatalf("no flowtests found: %v", problems)
	}
	for _, file := range files {
		t.Run(filepath.ToSlash(file), func(t *testing.T) {
			var out bytes.Buffer
			code := Run(&out, []string{file})
			if code != ExitPass {
				t.Fatalf("Run exited %d:\n%s", code, out.String())
			}
			if !regexp.MustCompile(`(?m)^[1-9][0-9]* passed, 0 failed\n\z`).Match(out.Bytes()) {
				t.Fatalf("no test ran, or the summary is off:\n%s", out.String())
			}
			t.Log("\n" + out.String())
		})
	}
}

// TestParseProblems loads every flowtest in testdata/broken, each of which
// must fail, and compares the problems with the file's .golden (go test
// -run TestParseProblems -update rewrites them; review the diff).
func TestParseProblems(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in testdata/broken: %v", err)
	}
	t.Chdir(filepath.Join("testdata", "broken")) // problems name the files as the user would
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			_, err := Load(name)
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load = %v, want a *LoadError", err)
			}
			got := err.Error() + "\n"
			checkGolden(t, strings.TrimSuffix(name, ".yaml")+".golden", got)
		})
	}
}

// TestFailureReport runs flowtests that fail on purpose and compares Run's
// report with the golden one.
func TestFailureReport(t *testing.T) {
	var out bytes.Buffer
	code := Run(&out, []string{filepath.Join("testdata", "report", "failing.yaml")})
	if code != ExitFail {
		t.Errorf("Run exited %d, want %d", code, ExitFail)
	}
	checkGolden(t, filepath.Join("testdata", "report", "failing.golden"), out.String())
}

func TestRunExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		paths []string
		code  int
		want  string // a line of the output
	}{
		{"passing file", []string{"examples/retail_guard.flowtest.yaml"}, ExitPass, "5 passed, 0 failed"},
		{"a file twice runs once", []string{"examples/retail_guard.flowtest.yaml", "examples/../examples/retail_guard.flowtest.yaml"}, ExitPass, "5 passed, 0 failed"},
		{"failing file", []string{"testdata/report/failing.yaml"}, ExitFail, "1 passed, 11 failed"},
		{"file that does not load", []string{"testdata/broken/values.yaml"}, ExitNoLoad, "0 passed, 0 failed"},
		{"load failure beats test failure", []string{"testdata/report/failing.yaml", "testdata/broken/empty.yaml"}, ExitNoLoad, "1 passed, 11 failed"},
		{"missing path", []string{"testdata/nowhere"}, ExitNoLoad, "testdata/nowhere: no such file or directory"},
		{"directory without flowtests", []string{"testdata/broken"}, ExitNoLoad, "testdata/broken: no *.flowtest.yaml files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := Run(&out, tc.paths); code != tc.code {
				t.Errorf("Run exited %d, want %d\n%s", code, tc.code, out.String())
			}
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			found := false
			for _, l := range lines {
				found = found || l == tc.want
			}
			if !found {
				t.Errorf("output lacks the line %q:\n%s", tc.want, out.String())
			}
			if last := lines[len(lines)-1]; !regexp.MustCompile(`^\d+ passed, \d+ failed$`).MatchString(last) {
				t.Errorf("last line %q is not the summary", last)
			}
		})
	}
}

// TestRunDirectory checks that a directory is searched recursively for
// *.flowtest.yaml only, skipping hidden directories.
func TestRunDirectory(t *testing.T) {
	dir := t.TempDir()
	flow, err := filepath.Abs(filepath.Join("..", "flows", "examples", "retail.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel, src string) {
		t.Helper()
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ok := "flow: " + flow + "\ntests:\n  - name: NAME\n    steps:\n      - user: hi\n      - state: welcome\n"
	write("a.flowtest.yaml", strings.Replace(ok, "NAME", "top", 1))
	write("sub/deeper/b.flowtest.yaml", strings.Replace(ok, "NAME", "nested", 1))
	write("sub/c.yaml", "not: a flowtest")
	write(".hidden/d.flowtest.yaml", "broken: [")
	var out bytes.Buffer
	if code := Run(&out, []string{dir}); code != ExitPass {
		t.Fatalf("Run exited %d:\n%s", code, out.String())
	}
	if want := "ok   top\nok   nested\n2 passed, 0 failed\n"; out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
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
