package lint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/optinbot/optinbot/flows"
)

// The formats of Run.
const (
	FormatText = "text" // one finding per line: file:line:col: CODE severity: message (docs/lint.md#CODE)
	FormatJSON = "json" // one JSON object per line
)

// Exit statuses of Run.
const (
	ExitClean    = 0 // no findings, or only warnings
	ExitErrors   = 1 // at least one finding is an error
	ExitNotLoads = 2 // a file does not load (or read), or the format is unknown; wins over ExitErrors
)

// Run is `optinbot lint`: it loads each flow file, lints it and writes
// the findings to w, sorted by file and position, in format ("text", the
// default when empty, or "json"). A file that does not load has its load
// problems written instead: as flows writes them in text, as objects of
// code "load" in JSON. It returns ExitNotLoads if a file did not load,
// else ExitErrors if any finding is an error, else ExitClean.
func Run(w io.Writer, paths []string, format string) int {
	if format == "" {
		format = FormatText
	}
	if format != FormatText && format != FormatJSON {
		fmt.Fprintf(w, "lint: unknown format %q: use %s or %s\n", format, FormatText, FormatJSON)
		return ExitNotLoads
	}
	if len(paths) == 0 {
		fmt.Fprintln(w, "lint: no flow files given")
		return ExitNotLoads
	}
	p := &printer{w: w, json: format == FormatJSON}
	files := slices.Clone(paths)
	slices.Sort(files)
	status := ExitClean
	for _, path := range slices.Compact(files) {
		status = max(status, p.file(path))
	}
	if p.err != nil {
		return ExitNotLoads
	}
	return status
}

// printer writes Run's output, remembering the first write error.
type printer struct {
	w    io.Writer
	json bool
	err  error
}

// file lints one file and returns its exit status.
func (p *printer) file(path string) int {
	src, err := os.ReadFile(path)
	if err != nil {
		p.problem(flows.Problem{File: path, Msg: err.Error()})
		return ExitNotLoads
	}
	f, err := flows.Load(path, src)
	if err != nil {
		var le *flows.LoadError
		if !errors.As(err, &le) {
			p.problem(flows.Problem{File: path, Msg: err.Error()})
			return ExitNotLoads
		}
		for _, prob := range le.Problems {
			p.problem(prob)
		}
		return ExitNotLoads
	}
	status := ExitClean
	for _, fd := range Lint(f, src) {
		if fd.Severity == Error {
			status = ExitErrors
		}
		p.finding(fd)
	}
	return status
}

func (p *printer) finding(fd Finding) {
	if p.json {
		p.writeJSON(fd.jsonLine())
		return
	}
	p.line(fd.String())
}

func (p *printer) problem(prob flows.Problem) {
	if p.json {
		p.writeJSON(jsonLine{
			File: prob.File, Line: prob.Pos.Line, Col: prob.Pos.Col, Code: CodeLoadProblem,
			Severity: Error.String(), Message: prob.Msg, Doc: loadProblemDocument,
		})
		return
	}
	p.line(prob.Error())
}

func (p *printer) writeJSON(v any) {
	if p.err != nil {
		return
	}
	enc := json.NewEncoder(p.w)
	enc.SetEscapeHTML(false)
	p.err = enc.Encode(v)
}

func (p *printer) line(s string) {
	if p.err == nil {
		_, p.err = fmt.Fprintln(p.w, s)
	}
}
