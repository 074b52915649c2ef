package flowtests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseLine feeds arbitrary lines to simulate's input reader: it must
// answer every line with a command or an error, never panic, and accept
// only what it can run.
func FuzzParseLine(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.in.jsonl"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			f.Add([]byte(line))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := ParseLine(line, 1)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		set := 0
		if cmd.inbound != nil {
			set++
			if cmd.inbound.ID == "" || (cmd.inbound.Text == "" && cmd.inbound.ButtonID == "" && !strings.Contains(string(line), `"text"`)) {
				t.Fatalf("accepted an inbound without id or content: %q", line)
			}
		}
		if cmd.send != nil {
			set++
		}
		if cmd.advance < 0 {
			t.Fatalf("accepted a negative advance: %q", line)
		}
		if set > 1 {
			t.Fatalf("two commands from one line: %q", line)
		}
	})
}
