package flowtests

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// FuzzParseFlowtest checks that Parse never panics, that a failure is a
// well-formed *LoadError, and that what it accepts is consistent and runs
// against the retail flow without panicking.
func FuzzParseFlowtest(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"examples/*" + Suffix, "testdata/broken/*.yaml", "testdata/report/*.yaml"} {
		files, _ := filepath.Glob(filepath.FromSlash(pattern))
		seeds = append(seeds, files...)
	}
	for _, file := range seeds {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	flowPath := filepath.Join("..", "flows", "examples", "retail.yaml")
	flowSrc, err := os.ReadFile(flowPath)
	if err != nil {
		f.Fatal(err)
	}
	flow, err := flows.Load(flowPath, flowSrc)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("fuzz"+Suffix, src)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if s.FlowPath == "" || len(s.Tests) == 0 {
			t.Fatalf("accepted a suite without flow or tests: %+v", s)
		}
		names := map[string]bool{}
		for _, tc := range s.Tests {
			if tc.Name == "" || names[tc.Name] || len(tc.Steps) == 0 {
				t.Fatalf("accepted test %+v", tc)
			}
			names[tc.Name] = true
			if _, err := bot.ParseCustomerID(string(tc.Customer)); err != nil {
				t.Fatalf("accepted customer %q: %v", tc.Customer, err)
			}
			input := false
			for _, st := range tc.Steps {
				if !slices.Contains(stepKinds, string(st.Kind)) {
					t.Fatalf("accepted step kind %q", st.Kind)
				}
				switch st.Kind {
				case StepUser, StepButton:
					input = true
				case StepBot, StepNoReply:
					if !input {
						t.Fatalf("accepted a reply check before any input in %q", tc.Name)
					}
				case StepWait:
					if st.Wait <= 0 {
						t.Fatalf("accepted wait %v", st.Wait)
					}
				}
			}
		}
		steps := 0
		for _, tc := range s.Tests {
			steps += len(tc.Steps)
		}
		if steps > 200 {
			// Aliases can repeat a few steps many times over; running
			// them all proves nothing more and makes fuzzing crawl.
			return
		}
		s.Flow, s.FlowSource = flow, flowSrc
		for i := range s.Tests {
			res := s.RunTest(context.Background(), &s.Tests[i])
			if f := res.Failure; f != nil && (f.Expected == "" || f.Got == "" || f.Step >= len(s.Tests[i].Steps)) {
				t.Fatalf("malformed failure %+v", f)
			}
		}
	})
}

// checkProblems checks that err lists problems sorted by position (the
// file's own), each a non-empty single line.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, want *LoadError: %v", err, err)
	}
	if len(le.Problems) == 0 {
		t.Fatal("LoadError without problems")
	}
	for i, p := range le.Problems {
		if p.Msg == "" || strings.ContainsAny(p.Msg, "\r\n") {
			t.Errorf("problem %d message %q is empty or not one line", i, p.Msg)
		}
		if i > 0 {
			prev := le.Problems[i-1].Pos
			if p.Pos.Line < prev.Line || p.Pos.Line == prev.Line && p.Pos.Col < prev.Col {
				t.Errorf("problem %d at %v comes after one at %v", i, p.Pos, prev)
			}
		}
	}
}
