package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/optinbot/optinbot/bot"
)

// FuzzDecode: Decode never panics; it either returns an *Error matching
// bot.ErrBadInput, or an envelope that re-encodes to JSON that decodes to
// the same encoding.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/decode/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"v":1,"type":"inbound_message","button":null,"timestamp":null}`))
	f.Add([]byte(`{"v":1e0,"type":"send_decision"}`))
	f.Add([]byte(`{"v":1,"type":"customer_notice","at":null,"customer":"US.1"}`))
	f.Add([]byte(`{"v":1,"type":"send_request","params":{"":""}}`))
	f.Add([]byte(`{"v":1,"type":"dead_letter","received_at":"2026-01-01T00:00:00Z","item":"{}"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Decode(data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, bot.ErrBadInput) || e.Kind == nil {
				t.Fatalf("Decode error %v (%T) is not an *Error with a kind", err, err)
			}
			_ = err.Error()
			return
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode %T: %v", v, err)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v\n%s", v, err, enc)
		}
		enc2, err := json.Marshal(again)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("unstable encoding:\n%s\n%s", enc, enc2)
		}
		// The conversions accept whatever Decode accepted.
		switch m := v.(type) {
		case InboundMessage:
			if _, err := m.ToBot(); err != nil {
				t.Fatalf("ToBot of a decoded inbound: %v", err)
			}
		case SendRequest:
			if _, err := m.ToBot(); err != nil {
				t.Fatalf("ToBot of a decoded send request: %v", err)
			}
		case DeliveryStatus:
			if _, err := m.ToBot(); err != nil {
				t.Fatalf("ToBot of a decoded status: %v", err)
			}
			m.ProviderOptOut()
		case ConsentSignal:
			if _, err := m.ToBot(); err != nil {
				t.Fatalf("ToBot of a decoded signal: %v", err)
			}
		}
	})
}
