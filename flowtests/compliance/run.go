package compliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flowtests"
)

// Exit statuses of Run.
const (
	ExitPass   = 0 // every property holds in every flow
	ExitFail   = 1 // a property is violated
	ExitNoLoad = 2 // a flow could not be read or loaded, or the engine could not run it
)

// Run is `optinbot test --compliance FLOW…`: it explores each flow (a flow
// file, or a directory searched recursively for *.yaml and *.yml flows,
// leaving out *.flowtest.yaml and directories whose names start with ".")
// and writes to w, per flow, either
//
//	ok   FLOW: N states explored, M nodes, all properties hold
//
// or, for each property violated,
//
//	FLOW: P1 violated: what went wrong — shortest conversation:
//	  user: …
//	  bot: …
//
// then the flow's notes ("FLOW: note: …"), and last the line "N passed, N
// failed" (flows). It returns ExitNoLoad if a flow did not load (the others
// still run), else ExitFail if a property was violated, else ExitPass.
func Run(w io.Writer, paths []string) int {
	return RunOptions(w, paths, Options{})
}

// RunOptions is Run with exploration bounds.
func RunOptions(w io.Writer, paths []string, opts Options) int {
	if len(paths) == 0 {
		fmt.Fprintln(w, "compliance: no flow files given")
		return ExitNoLoad
	}
	code := ExitPass
	files, problems := flowFiles(paths)
	for _, p := range problems {
		fmt.Fprintln(w, p)
		code = ExitNoLoad
	}
	passed, failed := 0, 0
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", file, unwrapPath(err))
			code = ExitNoLoad
			continue
		}
		f, err := flows.Load(file, src)
		if err != nil {
			fmt.Fprintln(w, err)
			code = ExitNoLoad
			continue
		}
		rep, err := Explore(context.Background(), f, src, opts)
		if err != nil {
			fmt.Fprintf(w, "%s: the engine cannot run the flow: %v\n", file, err)
			code = ExitNoLoad
			continue
		}
		WriteReport(w, file, rep)
		if len(rep.Violations) == 0 {
			passed++
		} else {
			failed++
		}
	}
	if failed > 0 && code == ExitPass {
		code = ExitFail
	}
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
	return code
}

// WriteReport writes one flow's part of Run's output.
func WriteReport(w io.Writer, flow string, rep *Report) {
	var b strings.Builder
	if len(rep.Violations) == 0 {
		fmt.Fprintf(&b, "ok   %s: %s explored, %s, all properties hold\n", flow,
			plural(rep.States, "state", "states"), plural(rep.Nodes, "node", "nodes"))
	}
	for _, v := range rep.Violations {
		fmt.Fprintf(&b, "%s: %s violated: %s — shortest conversation:\n", flow, v.Property, v.Message)
		if len(v.Conversation) == 0 {
			b.WriteString("  (none: a fresh customer)\n")
		}
		for _, line := range v.Conversation {
			fmt.Fprintf(&b, "  %s\n", line)
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "%s: note: %s\n", flow, n)
	}
	io.WriteString(w, b.String())
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// flowFiles expands paths into flow files (*.yaml, *.yml but not
// flowtests), in order and without repeats.
func flowFiles(paths []string) (files, problems []string) {
	return flowtests.FindFiles(paths, func(name string) bool {
		return (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) && !strings.HasSuffix(name, flowtests.Suffix)
	}, "flow files (*.yaml)")
}

// unwrapPath drops the "open PATH:" of a *fs.PathError, whose path the
// caller prints already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
