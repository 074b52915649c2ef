package flowtests

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Suffix is how flowtest files are named; Run looks for it in directories.
const Suffix = ".flowtest.yaml"

// Exit codes of Run.
const (
	ExitPass   = 0 // every test passed
	ExitFail   = 1 // a test failed
	ExitNoLoad = 2 // a file or directory could not be read, or a file does not load
)

// Run runs the flowtests at paths and writes a report to w: "ok   NAME" for
// each passing test, a failure report for each failing one, the problems of
// each file that does not load, and last the line "N passed, N failed".
// A path is a flowtest file (whatever its name) or a directory, searched
// recursively for *.flowtest.yaml (skipping directories whose names start
// with "."); no paths means ".". It returns ExitPass, ExitFail, or ExitNoLoad
// when anything could not be read or loaded (the loadable files still run).
func Run(w io.Writer, paths []string) int {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	code := ExitPass
	files, problems := Files(paths)
	for _, p := range problems {
		fmt.Fprintln(w, p)
		code = ExitNoLoad
	}
	ctx := context.Background()
	passed, failed := 0, 0
	for _, file := range files {
		suite, err := Load(file)
		if err != nil {
			fmt.Fprintln(w, err)
			code = ExitNoLoad
			continue
		}
		for i := range suite.Tests {
			res := suite.RunTest(ctx, &suite.Tests[i])
			if res.Passed() {
				passed++
				fmt.Fprintf(w, "ok   %s\n", res.Test.Name)
				continue
			}
			failed++
			writeFailure(w, suite, res)
		}
	}
	if failed > 0 && code == ExitPass {
		code = ExitFail
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return code
}

// writeFailure reports a failed test:
//
//	FAIL NAME
//	  FILE:LINE: step N, bot: /order updates/
//	  conversation so far:
//	    user: Hi
//	    bot: …
//	  expected: a reply matching /order updates/
//	  got:      bot: …
func writeFailure(w io.Writer, s *Suite, res Result) {
	f := res.Failure
	var b strings.Builder
	fmt.Fprintf(&b, "FAIL %s\n", res.Test.Name)
	where := fmt.Sprintf("%s:%d", s.File, f.Pos.Line)
	if f.Step >= 0 {
		fmt.Fprintf(&b, "  %s: step %d, %s\n", where, f.Step+1, res.Test.Steps[f.Step])
	} else {
		fmt.Fprintf(&b, "  %s: at the end of the test\n", where)
	}
	if len(f.Conversation) == 0 {
		b.WriteString("  conversation so far: none\n")
	} else {
		b.WriteString("  conversation so far:\n")
		for _, line := range f.Conversation {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	fmt.Fprintf(&b, "  expected: %s\n", f.Expected)
	fmt.Fprintf(&b, "  got:      %s\n", f.Got)
	io.WriteString(w, b.String())
}

// Files expands paths into the flowtest files to run, in order and without
// repeats: a file is taken as it is, a directory is searched recursively
// for *.flowtest.yaml. It returns a problem line for each path that cannot
// be read and each directory that holds no flowtest.
func Files(paths []string) (files []string, problems []string) {
	return FindFiles(paths, func(name string) bool { return strings.HasSuffix(name, Suffix) }, "*"+Suffix+" files")
}

// FindFiles expands paths into files, in order and without repeats: a file
// is taken as it is; a directory is searched recursively (skipping hidden
// directories) for the files whose name match accepts. what names them in
// the problem reported for a directory that holds none.
func FindFiles(paths []string, match func(name string) bool, what string) (files []string, problems []string) {
	seen := map[string]bool{}
	add := func(path string) {
		key := filepath.Clean(path)
		if abs, err := filepath.Abs(path); err == nil {
			key = abs
		}
		if !seen[key] {
			seen[key] = true
			files = append(files, path)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", root, unwrapPath(err)))
			continue
		}
		if !info.IsDir() {
			add(root)
			continue
		}
		found := 0
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", path, unwrapPath(err)))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if path != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if match(d.Name()) {
				found++
				add(path)
			}
			return nil
		})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", root, err))
		}
		if found == 0 {
			problems = append(problems, fmt.Sprintf("%s: no %s", root, what))
		}
	}
	return files, problems
}
