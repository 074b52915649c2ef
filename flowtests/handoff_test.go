package flowtests

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestHandoffFailureReport runs handoff and release steps that fail on
// purpose and compares the report with the golden one.
func TestHandoffFailureReport(t *testing.T) {
	var out bytes.Buffer
	if code := Run(&out, []string{filepath.Join("testdata", "report", "handoff.yaml")}); code != ExitFail {
		t.Errorf("Run exited %d, want %d", code, ExitFail)
	}
	checkGolden(t, filepath.Join("testdata", "report", "handoff.golden"), out.String())
}
