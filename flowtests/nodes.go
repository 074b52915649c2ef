package flowtests

import (
	"cmp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/yamlnode"
)

// This file holds the flowtest parser's problems and error type. Its
// generic YAML walking is package yamlnode, shared with the flows loader.

// LoadError is every problem found in a flowtest file: its own problems
// sorted by position, then those of the flow it names when that flow does
// not load (each with the flow file's name and position).
type LoadError struct {
	Problems []flows.Problem
}

// Error returns the problems one per line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each problem as an error, so errors.As can find a
// flows.Problem.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// field is one key: value pair of a mapping, and fieldMap a mapping with
// fixed keys; see package yamlnode.
type (
	field    = yamlnode.Field
	fieldMap = yamlnode.FieldMap
)

// parser holds what one Parse has found so far.
type parser struct {
	yamlnode.Doc
	file string
}

func posOf(n *yaml.Node) flows.Pos { return flows.Pos{Line: n.Line, Col: n.Column} }

// err returns the problems found, sorted by position, or nil.
func (p *parser) err() error {
	switch {
	case p.Exploded != nil:
		return &LoadError{Problems: []flows.Problem{p.problem(*p.Exploded)}}
	case len(p.Problems) > 0:
		ps := make([]flows.Problem, len(p.Problems))
		for i, pr := range p.Problems {
			ps[i] = p.problem(pr)
		}
		return &LoadError{Problems: sortProblems(ps)}
	}
	return nil
}

// problem gives pr the parser's file name.
func (p *parser) problem(pr yamlnode.Problem) flows.Problem {
	return flows.Problem{File: p.file, Pos: flows.Pos{Line: pr.Line, Col: pr.Col}, Msg: pr.Msg}
}

// sortProblems orders problems by position, keeping discovery order at the
// same position, and drops exact repeats (an alias used twice reports the
// problems of its anchor twice).
func sortProblems(ps []flows.Problem) []flows.Problem {
	slices.SortStableFunc(ps, func(a, b flows.Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	seen := make(map[flows.Problem]bool, len(ps))
	out := ps[:0]
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func isNull(n *yaml.Node) bool { return yamlnode.IsNull(n) }

// didYouMean returns "; did you mean 'x'?" for the candidate closest to
// name, or "" when none is close.
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" {
		return "; did you mean " + quote(best) + "?"
	}
	return ""
}

// closest and quote word suggestions and values like the flows loader.
func closest(name string, candidates []string) string { return flows.Closest(name, candidates) }

func quote(s string) string { return flows.Quote(s) }
