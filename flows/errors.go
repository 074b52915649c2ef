package flows

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a flow file.
type Problem struct {
	File string
	Pos  Pos // zero Line or Col when YAML could not say where
	Msg  string
}

// Error formats the problem as "file:line:col: msg". Like go/token, it leaves
// out the parts of the position that are unknown (zero or empty).
func (p Problem) Error() string {
	where := p.File
	if p.Pos.Line > 0 {
		if where != "" {
			where += ":"
		}
		where += strconv.Itoa(p.Pos.Line)
		if p.Pos.Col > 0 {
			where += ":" + strconv.Itoa(p.Pos.Col)
		}
	}
	if where == "" {
		return p.Msg
	}
	return where + ": " + p.Msg
}

// LoadError is every problem found in a flow file, sorted by position.
type LoadError struct {
	Problems []Problem
}

// Error returns the problems one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem as an error, so errors.As can find a Problem.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// sortProblems orders problems by position, keeping discovery order for
// problems at the same position, and drops exact repeats (an alias used twice
// reports the problems of its anchor twice).
func sortProblems(ps []Problem) []Problem {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	seen := make(map[Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
