package meta

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
)

var update = flag.Bool("update", false, "rewrite the golden files from the parser's output")

// receivedAt is the fixed arrival time of every test body.
var receivedAt = time.Date(2026, 1, 1, 9, 35, 0, 0, time.UTC)

// GoldenLines renders a parse result as the golden files hold it: one
// envelope per line (inbound, statuses, signals, events, dead letters), or
// "error: …" for a body that does not parse.
func goldenLines(t *testing.T, b envelope.Batch, err error) []byte {
	t.Helper()
	if err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	var out bytes.Buffer
	add := func(v any) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		out.Write(data)
		out.WriteByte('\n')
	}
	for _, v := range b.Inbound {
		add(v)
	}
	for _, v := range b.Statuses {
		add(v)
	}
	for _, v := range b.Signals {
		add(v)
	}
	for _, v := range b.Events {
		add(v)
	}
	for _, v := range b.DeadLetters {
		add(v)
	}
	return out.Bytes()
}

func TestParseGolden(t *testing.T) {
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
			b, perr := ParseBody(Name, body, receivedAt)
			checkBatch(t, b, perr)
			got := goldenLines(t, b, perr)
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

// checkBatch asserts the invariants of every parse: an error wraps ErrBody
// and comes with an empty batch; every item validates and round-trips
// through its decoder; message ids are unique.
func checkBatch(t *testing.T, b envelope.Batch, err error) {
	t.Helper()
	if err != nil {
		if !errors.Is(err, ErrBody) {
			t.Errorf("error %v does not wrap ErrBody", err)
		}
		if b.Len() != 0 {
			t.Errorf("error with %d items", b.Len())
		}
		return
	}
	seen := make(map[string]bool)
	check := func(kind, id string, v interface {
		Validate() error
	}) {
		if err := v.Validate(); err != nil {
			t.Errorf("%s %s does not validate: %v", kind, id, err)
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s %s: marshal: %v", kind, id, err)
		} else if _, err := envelope.Decode(data); err != nil {
			t.Errorf("%s %s does not decode: %v", kind, id, err)
		}
		if seen[kind+id] {
			t.Errorf("%s %s appears twice", kind, id)
		}
		seen[kind+id] = true
	}
	for _, v := range b.Inbound {
		check("inbound", v.MsgID(), v)
	}
	for _, v := range b.Statuses {
		check("status", v.MsgID(), v)
	}
	for _, v := range b.Signals {
		check("signal", v.MsgID(), v)
	}
	for _, v := range b.Events {
		check("event", v.MsgID(), v)
	}
	for _, v := range b.DeadLetters {
		check("dead", v.MsgID(), v)
		if v.Reason == "" {
			t.Errorf("dead letter %s without a reason", v.ID)
		}
	}
}

func TestParseProviderName(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "invalid_from_in_batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseBody("dialog360", body, receivedAt)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Inbound) == 0 || len(b.DeadLetters) == 0 {
		t.Fatalf("want inbound and dead letters, got %d and %d", len(b.Inbound), len(b.DeadLetters))
	}
	for _, m := range b.Inbound {
		if m.Provider != "dialog360" {
			t.Errorf("inbound %s: provider %q", m.ID, m.Provider)
		}
	}
	for _, d := range b.DeadLetters {
		if d.Provider != "dialog360" || !strings.HasPrefix(d.ID, "dialog360:") {
			t.Errorf("dead letter %s: provider %q", d.ID, d.Provider)
		}
	}
}

// An error never quotes the body.
func TestParseErrorOmitsBody(t *testing.T) {
	for _, body := range []string{
		`{"object":"whatsapp_business_account","entry":[{"id":"secret-1","changes":[{"field":"messages","value":{"messages":[{"text":{"body":"my secret text`,
		`secret-text-not-json`,
		`{"object":"whatsapp_business_account","entry":"secret-entry"}`,
		`{"object":"secret-object"}`,
		`{"object":"whatsapp_business_account","entry":[{"id":{"secret":1}}]}`,
	} {
		_, err := ParseBody(Name, []byte(body), receivedAt)
		if err == nil {
			t.Errorf("%.30s…: no error", body)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error quotes the body: %v", err)
		}
	}
}

func TestParseUnix(t *testing.T) {
	for _, tt := range []struct {
		raw    string
		number bool
		want   time.Time
		err    bool
	}{
		{`"1454119029"`, false, time.Date(2016, 1, 30, 1, 57, 9, 0, time.UTC), false},
		{`1731705721`, true, time.Unix(1731705721, 0).UTC(), false},
		{`"1767260005000"`, false, time.Date(2026, 1, 1, 9, 33, 25, 0, time.UTC), false},
		{`"253402300799"`, false, time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), false},
		{`"253402300800"`, false, time.Time{}, true},
		{`"999999999999999999"`, false, time.Time{}, true},
		{`"asdf"`, false, time.Time{}, true},
		{`"-1"`, false, time.Time{}, true},
		{`"0"`, false, time.Time{}, true},
		{`"1.5"`, false, time.Time{}, true},
		{`1e9`, true, time.Time{}, true},
		{`1731705721`, false, time.Time{}, true},
		{`""`, false, time.Time{}, true},
		{`null`, false, time.Time{}, true},
		{``, false, time.Time{}, true},
		{`true`, false, time.Time{}, true},
	} {
		got, err := parseUnix(json.RawMessage(tt.raw), tt.number)
		if (err != nil) != tt.err || !got.Equal(tt.want) {
			t.Errorf("parseUnix(%s) = %v, %v; want %v, error %v", tt.raw, got, err, tt.want, tt.err)
		}
	}
}
