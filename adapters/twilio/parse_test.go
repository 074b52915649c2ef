package twilio

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

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// receivedAt is when the golden tests' webhooks arrive.
var receivedAt = time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)

func testAdapter(t testing.TB) *Adapter {
	t.Helper()
	a, err := New(Config{AccountSID: "ACa1cf578095ae75057426896c6bcd9b11", AuthToken: "test-auth-token"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// readForm reads a testdata body; a final newline an editor added is not
// part of it.
func readForm(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(data, []byte("\n"))
}

// render is the golden form of Parse's result: one JSON envelope per line,
// inbound messages, statuses, signals, events, dead letters; or the error.
func render(t *testing.T, b envelope.Batch, err error) []byte {
	t.Helper()
	var out bytes.Buffer
	if err != nil {
		line, _ := json.Marshal(map[string]string{"error": err.Error()})
		out.Write(line)
		out.WriteByte('\n')
		return out.Bytes()
	}
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
		line, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func TestParseGolden(t *testing.T) {
	a := testAdapter(t)
	files, err := filepath.Glob("testdata/*.form")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.form: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".form")
		t.Run(name, func(t *testing.T) {
			body := readForm(t, file)
			b, err := a.Parse(body, receivedAt)
			if strings.HasPrefix(name, "err_") != (err != nil) {
				t.Fatalf("Parse error = %v; cases named err_* and only they fail", err)
			}
			if err != nil {
				if !errors.Is(err, ErrBody) {
					t.Errorf("error %v does not wrap ErrBody", err)
				}
				if len(body) > 0 && strings.Contains(err.Error(), string(body)) {
					t.Errorf("error quotes the body")
				}
			}
			checkBatch(t, b, body)
			got := render(t, b, err)
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Parse(%s) differs from %s:\ngot:\n%s\nwant:\n%s", file, golden, got, want)
			}
		})
	}
}

// checkBatch checks what every batch must satisfy: at most one item (Twilio
// posts one message per request), every item valid and decodable again.
func checkBatch(t testing.TB, b envelope.Batch, body []byte) {
	t.Helper()
	if b.Len() > 1 {
		t.Fatalf("batch of %d items, want at most 1", b.Len())
	}
	for _, m := range b.Inbound {
		if err := m.Validate(); err != nil {
			t.Fatalf("invalid inbound: %v", err)
		}
		if m.Provider != ProviderName || !m.Timestamp.Equal(receivedAt) {
			t.Fatalf("inbound provider %q timestamp %v", m.Provider, m.Timestamp)
		}
	}
	for _, s := range b.Statuses {
		if err := s.Validate(); err != nil {
			t.Fatalf("invalid status: %v", err)
		}
		if s.Provider != ProviderName || s.CustomerOptedOut != (s.Signal == envelope.SignalOptedOut) {
			t.Fatalf("status provider %q opted out %v signal %q", s.Provider, s.CustomerOptedOut, s.Signal)
		}
	}
	for _, d := range b.DeadLetters {
		if err := d.Validate(); err != nil {
			t.Fatalf("invalid dead letter: %v", err)
		}
		if d.Item != string(body) {
			t.Fatalf("dead letter item is not the body")
		}
	}
	if len(b.Signals)+len(b.Events) > 0 {
		t.Fatalf("Twilio has no consent signals or provider events")
	}
	for _, v := range batchItems(b) {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %T: %v", v, err)
		}
		if _, err := envelope.Decode(data); err != nil {
			t.Fatalf("%T does not decode again: %v\n%s", v, err, data)
		}
	}
}

func batchItems(b envelope.Batch) []any {
	var items []any
	for _, v := range b.Inbound {
		items = append(items, v)
	}
	for _, v := range b.Statuses {
		items = append(items, v)
	}
	for _, v := range b.DeadLetters {
		items = append(items, v)
	}
	return items
}

// TestParseStatusKinds pins the status mapping table, and that the
// in-between statuses are ignored without error.
func TestParseStatusKinds(t *testing.T) {
	a := testAdapter(t)
	for twStatus, want := range map[string]string{
		"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
		"undelivered": "failed", "canceled": "failed", "SENT": "sent",
		"queued": "", "accepted": "", "scheduled": "", "sending": "", "receiving": "",
	} {
		body := "MessageSid=SM1&MessageStatus=" + twStatus + "&From=whatsapp:%2B14155550199&To=whatsapp:%2B14155550123"
		b, err := a.Parse([]byte(body), receivedAt)
		if err != nil {
			t.Fatalf("%s: %v", twStatus, err)
		}
		switch {
		case want == "" && b.Len() != 0:
			t.Errorf("%s: batch of %d, want empty", twStatus, b.Len())
		case want != "" && (len(b.Statuses) != 1 || b.Statuses[0].Status != want):
			t.Errorf("%s: got %+v, want status %s", twStatus, b, want)
		}
	}
}

// TestParseSignals: the error codes the engine acts on.
func TestParseSignals(t *testing.T) {
	a := testAdapter(t)
	for code, want := range map[string]string{"63016": envelope.SignalWindowClosed, "21610": envelope.SignalOptedOut, "63018": "", "30008": ""} {
		body := "MessageSid=SM1&MessageStatus=failed&ErrorCode=" + code + "&From=%2B14155550199&To=%2B14155550123"
		b, err := a.Parse([]byte(body), receivedAt)
		if err != nil || len(b.Statuses) != 1 {
			t.Fatalf("%s: %+v %v", code, b, err)
		}
		s := b.Statuses[0]
		if s.Signal != want || s.CustomerOptedOut != (want == envelope.SignalOptedOut) || s.ErrorCode != code {
			t.Errorf("%s: signal %q opted out %v code %q, want signal %q", code, s.Signal, s.CustomerOptedOut, s.ErrorCode, want)
		}
	}
}

// TestParseDefaultSender: a status callback that names no sender is
// reported for Config.DefaultSender.
func TestParseDefaultSender(t *testing.T) {
	body := []byte("ErrorCode=21610&MessageSid=SM1&MessageStatus=failed&To=%2B14155550123")
	b, err := testAdapter(t).Parse(body, receivedAt)
	if err != nil || len(b.DeadLetters) != 1 {
		t.Fatalf("without DefaultSender: %+v, %v; want a dead letter", b, err)
	}
	a, err := New(Config{AccountSID: testAccount, AuthToken: testToken, DefaultSender: "whatsapp:+14155550199"})
	if err != nil {
		t.Fatal(err)
	}
	b, err = a.Parse(body, receivedAt)
	if err != nil || len(b.Statuses) != 1 {
		t.Fatalf("with DefaultSender: %+v, %v", b, err)
	}
	if s := b.Statuses[0]; s.Sender != "+14155550199" || s.To != "+14155550123" || !s.CustomerOptedOut {
		t.Fatalf("status %+v", s)
	}
}
