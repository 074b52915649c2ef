package compliance

import (
	"regexp"
	"testing"
)

func regexpMust(t *testing.T, expr string) *regexp.Regexp {
	t.Helper()
	re, err := regexp.Compile(expr)
	if err != nil {
		t.Fatal(err)
	}
	return re
}

func regexpCompile(expr string) (*regexp.Regexp, error) { return regexp.Compile(expr) }
