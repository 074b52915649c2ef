package dialog360

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/meta"
)

var update = flag.Bool("update", false, "rewrite the golden files from the parser's output")

var receivedAt = time.Date(2026, 1, 1, 10, 5, 0, 0, time.UTC)

// goldenLines renders a parse result as the golden files hold it: one
// envelope per line (inbound, statuses, signals, events, dead letters), or
// "error: …".
func goldenLines(t *testing.T, b envelope.Batch, err error) []byte {
	t.Helper()
	if err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	var out bytes.Buffer
	var items []any
	for _, v := range b.Inbound {
		items = append(items, v)
	}
	for _, v := range b.Statuses {
		items = append(items, v)
	}
	for _, v := range b.Signals {
		items = append(items, v)
	}
	for _, v := range b.Events {
		items = append(items, v)
	}
	for _, v := range b.DeadLetters {
		items = append(items, v)
	}
	for _, v := range items {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		if _, err := envelope.Decode(data); err != nil {
			t.Errorf("%s does not decode: %v", data, err)
		}
		out.Write(data)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func TestParseGolden(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b, perr := a.Parse(body, receivedAt)
			if perr != nil && !errors.Is(perr, meta.ErrBody) {
				t.Errorf("error %v does not wrap meta.ErrBody", perr)
			}
			got := goldenLines(t, b, perr)
			if perr == nil && !bytes.Contains(got, []byte(`"provider":"dialog360"`)) {
				t.Errorf("no envelope names provider dialog360")
			}
			golden := strings.TrimSuffix(file, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the parse result:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
