package lint

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

// FuzzLint lints every flow that loads: Lint must not panic, must report
// only known codes at positions inside the file, and must find the same
// things without the source.
func FuzzLint(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	files = append(files, filepath.Join("..", "testdata", "full.yaml"))
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	retail, err := fs.ReadFile(examples.FS, examples.Retail)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(retail)
	codes := make([]string, 0, len(rules))
	for _, r := range rules {
		codes = append(codes, r.Code)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		fl, err := flows.Load("fuzz.yaml", src)
		if err != nil {
			return
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		with := Lint(fl, src)
		for _, fd := range with {
			if !slices.Contains(codes, fd.Code) || fd.File != "fuzz.yaml" || fd.Pos.Line > lines || fd.Message == "" {
				t.Errorf("bad finding %s", fd)
			}
		}
		if without := Lint(fl, nil); len(without) != len(with) {
			t.Errorf("%d findings with the source, %d without", len(with), len(without))
		}
	})
}
