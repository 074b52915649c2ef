package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/<dir>/<name>.golden, or rewrites it
// with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

func indent(v any) string {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "marshal: " + err.Error()
	}
	return string(b)
}

// describeDecode renders the outcome of Decode for a golden file: the error,
// or the envelope re-encoded and its conversions to the engine's types.
func describeDecode(data []byte) string {
	var b strings.Builder
	v, err := Decode(data)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return fmt.Sprintf("error (not an *Error!): %v\n", err)
		}
		fmt.Fprintf(&b, "error: %v\nkind: %v\nfield: %s\nbad input: %v\n", err, e.Kind, e.Field, errors.Is(err, bot.ErrBadInput))
		return b.String()
	}
	fmt.Fprintf(&b, "decoded: %T\n%s\n", v, indent(v))
	switch m := v.(type) {
	case InboundMessage:
		in, err := m.ToBot()
		fmt.Fprintf(&b, "--- ToBot (err %v) ---\n%s\n", err, indent(in))
	case SendRequest:
		r, err := m.ToBot()
		fmt.Fprintf(&b, "--- ToBot (err %v) ---\n%s\n", err, indent(r))
	case DeliveryStatus:
		u, err := m.ToBot()
		fmt.Fprintf(&b, "--- ToBot (err %v) ---\n%s\n", err, indent(u))
		o, ok := m.ProviderOptOut()
		fmt.Fprintf(&b, "--- ProviderOptOut (%v) ---\n%s\n", ok, indent(o))
	case ConsentSignal:
		p, err := m.ToBot()
		fmt.Fprintf(&b, "--- ToBot (err %v) ---\n%s\n", err, indent(p))
	case ConsentChange:
		fmt.Fprintf(&b, "--- ToBot ---\n%s\n", indent(m.ToBot()))
	case HandoffRelease:
		r, err := m.ToBot()
		fmt.Fprintf(&b, "--- ToBot (err %v) ---\n%s\n", err, indent(r))
	}
	return b.String()
}

func TestDecodeGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/decode/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got := describeDecode(data)
			isErr := strings.HasPrefix(got, "error")
			if want := strings.HasPrefix(name, "err_"); isErr != want {
				t.Errorf("error = %v, want %v (files named err_* must fail, others decode):\n%s", isErr, want, got)
			}
			golden(t, strings.TrimSuffix(f, ".json")+".golden", []byte(got))
		})
	}
}

// TestDecodeErrors pins the kind and field of each rejection, so the golden
// files cannot drift into a vaguer error unnoticed.
func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		file  string
		kind  error
		field string
	}{
		{"err_bad_json", ErrSyntax, ""},
		{"err_not_object", ErrSyntax, ""},
		{"err_empty", ErrSyntax, ""},
		{"err_missing_version", ErrVersion, "v"},
		{"err_version_2", ErrVersion, "v"},
		{"err_version_string", ErrVersion, "v"},
		{"err_version_float", ErrVersion, "v"},
		{"err_missing_type", ErrMissing, "type"},
		{"err_type_number", ErrValue, "type"},
		{"err_unknown_type", ErrUnknownType, "type"},
		{"err_inbound_missing_id", ErrMissing, "id"},
		{"err_inbound_missing_from", ErrMissing, "from"},
		{"err_inbound_bad_from", ErrCustomer, "from"},
		{"err_inbound_from_no_plus", ErrCustomer, "from"},
		{"err_inbound_bad_timestamp", ErrTimestamp, "timestamp"},
		{"err_inbound_timestamp_no_zone", ErrTimestamp, "timestamp"},
		{"err_inbound_timestamp_unix", ErrValue, "timestamp"},
		{"err_inbound_missing_timestamp", ErrMissing, "timestamp"},
		{"err_inbound_id_number", ErrValue, "id"},
		{"err_inbound_id_newline", ErrValue, "id"},
		{"err_inbound_button_no_id", ErrMissing, "button.id"},
		{"err_inbound_error_empty", ErrMissing, "errors[1]"},
		{"err_inbound_button_string", ErrValue, "button"},
		{"err_send_bad_kind", ErrValue, "kind"},
		{"err_send_missing_template", ErrMissing, "template"},
		{"err_send_missing_text", ErrMissing, "text"},
		{"err_send_missing_business", ErrMissing, "business"},
		{"err_status_bad_status", ErrValue, "status"},
		{"err_status_opted_out_string", ErrValue, "customer_opted_out"},
		{"err_outbound_missing_to", ErrMissing, "to"},
		{"err_consent_bad_status", ErrValue, "status"},
		{"err_consent_bad_at", ErrTimestamp, "at"},
		{"err_decision_refused_no_reason", ErrMissing, "reason"},
		{"err_decision_allowed_with_reason", ErrValue, "reason"},
		{"err_notice_missing_kind", ErrMissing, "kind"},
		{"err_notice_bad_at", ErrTimestamp, "at"},
		{"err_notice_grant_refused_no_grant", ErrMissing, "grant"},
		{"err_grant_in_channel", ErrValue, "source"},
		{"err_signal_bad_signal", ErrValue, "signal"},
		{"err_status_bad_signal", ErrValue, "signal"},
		{"err_send_params_not_strings", ErrValue, "params"},
		{"err_outbound_params_empty_name", ErrValue, "params"},
		{"err_event_bad_event", ErrValue, "event"},
		{"err_deadletter_missing_reason", ErrMissing, "reason"},
		{"err_handoff_message_missing_inbound_id", ErrMissing, "inbound_id"},
		{"err_handoff_ended_missing_reason", ErrMissing, "reason"},
		{"err_release_missing_business", ErrMissing, "business"},
		{"err_release_bad_customer", ErrCustomer, "customer"},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.file] = true
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile("testdata/decode/" + tt.file + ".json")
			if err != nil {
				t.Fatal(err)
			}
			_, err = Decode(data)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Decode error = %v, want an *Error", err)
			}
			if !errors.Is(err, tt.kind) || !errors.Is(err, bot.ErrBadInput) {
				t.Errorf("error %q: kind %v, want %v and bot.ErrBadInput", err, e.Kind, tt.kind)
			}
			if e.Field != tt.field {
				t.Errorf("error %q: field %q, want %q", err, e.Field, tt.field)
			}
			if tt.field != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.field)) {
				t.Errorf("error %q does not name the field %q", err, tt.field)
			}
		})
	}
	files, _ := filepath.Glob("testdata/decode/err_*.json")
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !seen[name] {
			t.Errorf("%s has no entry in TestDecodeErrors", name)
		}
	}
}

// TestErrorsHideCustomerData: errors are logged, so they never hold a full
// phone number or the message text.
func TestErrorsHideCustomerData(t *testing.T) {
	for _, tt := range []struct{ file, secret string }{
		{"err_inbound_bad_from", "+1415555010099999"},
		{"err_inbound_bad_from", "hi"},
		{"err_inbound_from_no_plus", "14155550100"},
		{"err_inbound_bad_timestamp", "+14155550100"},
	} {
		data, _ := os.ReadFile("testdata/decode/" + tt.file + ".json")
		_, err := Decode(data)
		if err == nil {
			t.Fatalf("%s: no error", tt.file)
		}
		if strings.Contains(err.Error(), tt.secret) && !strings.Contains(err.Error(), `"`+tt.secret+`"`+" is not an RFC") {
			t.Errorf("%s: error %q reveals %q", tt.file, err, tt.secret)
		}
	}
}

func TestTypedDecoders(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/decode/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	decoders := map[string]func([]byte) (any, error){
		TypeInbound:        func(b []byte) (any, error) { return DecodeInbound(b) },
		TypeSend:           func(b []byte) (any, error) { return DecodeSendRequest(b) },
		TypeStatus:         func(b []byte) (any, error) { return DecodeStatus(b) },
		TypeOutbound:       func(b []byte) (any, error) { return DecodeOutbound(b) },
		TypeConsent:        func(b []byte) (any, error) { return DecodeConsent(b) },
		TypeDecision:       func(b []byte) (any, error) { return DecodeDecision(b) },
		TypeNotice:         func(b []byte) (any, error) { return DecodeNotice(b) },
		TypeHandoff:        func(b []byte) (any, error) { return DecodeHandoff(b) },
		TypeGrant:          func(b []byte) (any, error) { return DecodeGrant(b) },
		TypeSignal:         func(b []byte) (any, error) { return DecodeSignal(b) },
		TypeEvent:          func(b []byte) (any, error) { return DecodeEvent(b) },
		TypeDeadLetter:     func(b []byte) (any, error) { return DecodeDeadLetter(b) },
		TypeHandoffMessage: func(b []byte) (any, error) { return DecodeHandoffMessage(b) },
		TypeHandoffEnded:   func(b []byte) (any, error) { return DecodeHandoffEnded(b) },
		TypeHandoffRelease: func(b []byte) (any, error) { return DecodeHandoffRelease(b) },
		TypeQualityAlert:   func(b []byte) (any, error) { return DecodeQualityAlert(b) },
	}
	samples := map[string]string{
		TypeInbound: "inbound_text", TypeSend: "send_template", TypeStatus: "status_opted_out",
		TypeOutbound: "outbound_text", TypeConsent: "consent", TypeDecision: "decision_refused",
		TypeNotice: "notice_held", TypeHandoff: "handoff", TypeGrant: "grant", TypeSignal: "signal_stop", TypeEvent: "event_quality", TypeDeadLetter: "deadletter",
		TypeHandoffMessage: "handoff_message", TypeHandoffEnded: "handoff_ended", TypeHandoffRelease: "handoff_release",
		TypeQualityAlert: "quality_alert",
	}
	if len(decoders) != len(Types) || len(samples) != len(Types) {
		t.Fatalf("%d decoders and %d samples for %d types", len(decoders), len(samples), len(Types))
	}
	for typ, decode := range decoders {
		for sampleType, sample := range samples {
			got, err := decode(read(sample))
			if typ == sampleType {
				want, derr := Decode(read(sample))
				if err != nil || derr != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("%s decoder on %s: %v, %v; Decode: %v, %v", typ, sample, got, err, want, derr)
				}
				continue
			}
			if !errors.Is(err, ErrWrongType) {
				t.Errorf("%s decoder on %s: error %v, want ErrWrongType", typ, sample, err)
			}
		}
		if _, err := decode([]byte(`{"v":1,"type":"reaction"}`)); !errors.Is(err, ErrUnknownType) {
			t.Errorf("%s decoder on an unknown type: error %v, want ErrUnknownType", typ, err)
		}
	}
}

// TestRoundTrip: every valid envelope re-encodes to JSON that decodes to
// the same value, with "v" and "type" first.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("testdata/decode/*.json")
	for _, f := range files {
		if strings.HasPrefix(filepath.Base(f), "err_") {
			continue
		}
		data, _ := os.ReadFile(f)
		v, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		enc, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: marshal: %v", f, err)
		}
		var h header
		_ = json.Unmarshal(enc, &h)
		if !bytes.HasPrefix(enc, []byte(fmt.Sprintf(`{"v":1,"type":%q,`, h.Type))) {
			t.Errorf("%s: encoding does not start with v and type: %s", f, enc)
		}
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("%s: decode re-encoded: %v\n%s", f, err, enc)
		}
		enc2, _ := json.Marshal(again)
		if !bytes.Equal(enc, enc2) {
			t.Errorf("%s: not stable:\n%s\n%s", f, enc, enc2)
		}
	}
}

// TestUnmarshalValidates: json.Unmarshal into an envelope type validates too.
func TestUnmarshalValidates(t *testing.T) {
	var m InboundMessage
	if err := json.Unmarshal([]byte(`{"v":1,"type":"inbound_message","id":"x"}`), &m); !errors.Is(err, ErrMissing) {
		t.Errorf("Unmarshal invalid: %v, want ErrMissing", err)
	}
	data, _ := os.ReadFile("testdata/decode/inbound_button.json")
	if err := json.Unmarshal(data, &m); err != nil || m.Button == nil || m.Button.ID != "optin_yes" {
		t.Errorf("Unmarshal valid: %v, %+v", err, m)
	}
	var list []SendDecision
	if err := json.Unmarshal([]byte(`[{"v":1,"type":"send_decision","id":"d","business":"b","customer":"+14155550100","kind":"text","allowed":true}]`), &list); err != nil || len(list) != 1 {
		t.Errorf("Unmarshal list: %v, %+v", err, list)
	}
}

// TestValidateBuiltValues: values built in Go are checked like decoded ones.
func TestValidateBuiltValues(t *testing.T) {
	if err := (InboundMessage{ID: "x", Provider: "meta", Sender: "1", From: "+14155550100"}).Validate(); !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), `"timestamp"`) {
		t.Errorf("inbound without timestamp: %v", err)
	}
	if _, err := (SendRequest{ID: "r", Business: "acme", To: "+1", Kind: bot.KindText, Text: "x"}).ToBot(); !errors.Is(err, ErrCustomer) {
		t.Errorf("send request with bad customer: %v", err)
	}
	if err := (DeliveryStatus{}).Validate(); !errors.Is(err, ErrMissing) {
		t.Errorf("empty status: %v", err)
	}
	if _, ok := (DeliveryStatus{Status: StatusRead}).ProviderOptOut(); ok {
		t.Error("ProviderOptOut without customer_opted_out returned true")
	}
}

// TestConsentChangeMirrorsConsentEvent: the envelope carries every field of
// bot.ConsentEvent under the same JSON name, and converts both ways.
func TestConsentChangeMirrorsConsentEvent(t *testing.T) {
	tags := func(typ reflect.Type) map[string]string {
		m := map[string]string{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			m[strings.Split(f.Tag.Get("json"), ",")[0]] = f.Type.String()
		}
		return m
	}
	ev, ch := tags(reflect.TypeFor[bot.ConsentEvent]()), tags(reflect.TypeFor[ConsentChange]())
	if !reflect.DeepEqual(ev, ch) {
		t.Errorf("ConsentChange fields %v\nbot.ConsentEvent fields %v", ch, ev)
	}
	data, _ := os.ReadFile("testdata/decode/consent.json")
	c, err := DecodeConsent(data)
	if err != nil {
		t.Fatal(err)
	}
	if back := ConsentChangeOf(c.ToBot()); !reflect.DeepEqual(back, c) {
		t.Errorf("round trip through bot.ConsentEvent: %+v != %+v", back, c)
	}
	// The envelope's JSON is the event's JSON plus v and type.
	evJSON, _ := json.Marshal(c.ToBot())
	var a, b map[string]any
	_ = json.Unmarshal(evJSON, &a)
	_ = json.Unmarshal(data, &b)
	delete(b, "v")
	delete(b, "type")
	if !reflect.DeepEqual(a, b) {
		t.Errorf("consent_change minus v/type != bot.ConsentEvent JSON:\n%v\n%v", a, b)
	}
}

func TestFromEffectGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/effects/*.json")
	if len(files) == 0 {
		t.Fatal("no effect test files")
	}
	subjects := Subjects{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			var e bot.Effect
			if err := json.Unmarshal(data, &e); err != nil {
				t.Fatal(err)
			}
			pubs, err := FromEffect(e)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, p := range pubs {
				// Every published envelope decodes.
				v, err := Decode(p.Data)
				if err != nil {
					t.Errorf("published %s does not decode: %v\n%s", p.Type, err, p.Data)
				}
				if fmt.Sprintf("%T", v) == "" {
					t.Fail()
				}
				fmt.Fprintf(&b, "subject: %s\nmsg_id: %s\ntype: %s\n%s\n\n", p.Subject(subjects), p.MsgID, p.Type, p.Data)
			}
			golden(t, strings.TrimSuffix(f, ".json")+".golden", []byte(b.String()))
		})
	}
}

func TestFromEffectErrors(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 31, 0, 0, time.UTC)
	for _, e := range []bot.Effect{
		{ID: "e1", Kind: bot.EffectMessage},
		{ID: "e2", Kind: bot.EffectConsent},
		{ID: "e3", Kind: bot.EffectRefused},
		{ID: "e4", Kind: "teleport"},
		{Kind: bot.EffectRefused, Refusal: &bot.Refusal{Kind: bot.KindText, Reason: bot.ReasonOptedOut}},
		{ID: "e5", Kind: bot.EffectDelivery},
		{ID: "e6", Kind: bot.EffectNotice},
		// Payloads whose envelope would not decode: no sender, no time,
		// an unknown status; a notice without kind.
		{ID: "e7", Kind: bot.EffectDelivery, Business: "acme", Customer: "+14155550100",
			Delivery: &bot.Delivery{MessageID: "w1", Status: bot.StatusRead, At: at}},
		{ID: "e8", Kind: bot.EffectDelivery, Business: "acme", Customer: "+14155550100", Sender: "1065",
			Delivery: &bot.Delivery{MessageID: "w1", Status: "bounced", At: at}},
		{ID: "e9", Kind: bot.EffectNotice, Business: "acme", Customer: "+14155550100", Notice: &bot.Notice{At: at}},
		{ID: "e10", Kind: bot.EffectNotice, Business: "acme", Customer: "+14155550100", Notice: &bot.Notice{Kind: bot.NoticeHeld}},
		{ID: "e11", Kind: bot.EffectHandoff},
		{ID: "e12", Kind: bot.EffectHandoffMessage},
		{ID: "e13", Kind: bot.EffectHandoffEnded},
		// A forwarded message without its inbound id; an end without reason.
		{ID: "e14", Kind: bot.EffectHandoffMessage, Business: "acme", Customer: "+14155550100",
			HandoffMessage: &bot.HandoffMessage{Queue: "q", At: at}},
		{ID: "e15", Kind: bot.EffectHandoffEnded, Business: "acme", Customer: "+14155550100",
			HandoffEnded: &bot.HandoffEnded{Queue: "q", At: at}},
	} {
		if pubs, err := FromEffect(e); err == nil {
			t.Errorf("FromEffect(%+v) = %v, want an error", e, pubs)
		}
	}
}

// TestSignalsMatchEngine: the signal and status values adapters write are
// the engine's own.
func TestSignalsMatchEngine(t *testing.T) {
	want := []string{bot.SignalWindowClosed, bot.SignalUndeliverable, bot.SignalDeferred, bot.SignalStopMarketing, bot.SignalOptedOut}
	if !reflect.DeepEqual(Signals, want) {
		t.Errorf("envelope.Signals %v, bot signals %v", Signals, want)
	}
	for _, pair := range [][2]string{{StatusSent, bot.StatusSent}, {StatusDelivered, bot.StatusDelivered},
		{StatusRead, bot.StatusRead}, {StatusFailed, bot.StatusFailed}} {
		if pair[0] != pair[1] {
			t.Errorf("status %q != bot's %q", pair[0], pair[1])
		}
	}
}

// TestStatusToBot: the engine's update carries every field, the signal
// wins over customer_opted_out, and a legacy opt-out without signal
// becomes opted_out.
func TestStatusToBot(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 31, 0, 0, time.UTC)
	s := DeliveryStatus{ID: "wamid.1", Sender: "1065", To: "+14155550100", Status: StatusFailed, Timestamp: at,
		ErrorCode: "131049", ErrorTitle: "limited", Signal: SignalDeferred, OutboundID: "acme/w/0", Provider: "meta", CustomerOptedOut: true}
	u, err := s.ToBot()
	want := bot.DeliveryUpdate{ID: "status:wamid.1:failed", MessageID: "wamid.1", OutboundID: "acme/w/0", Sender: "1065",
		Customer: "+14155550100", Status: StatusFailed, At: at, ErrorCode: "131049", ErrorTitle: "limited", Signal: SignalDeferred}
	if err != nil || !reflect.DeepEqual(u, want) {
		t.Errorf("ToBot = %+v, %v\nwant %+v", u, err, want)
	}
	s.Signal = ""
	if u, _ := s.ToBot(); u.Signal != SignalOptedOut {
		t.Errorf("legacy opt-out: signal %q, want opted_out", u.Signal)
	}
	s.CustomerOptedOut = false
	if u, _ := s.ToBot(); u.Signal != "" {
		t.Errorf("plain failure: signal %q", u.Signal)
	}
	if _, err := (DeliveryStatus{ID: "x"}).ToBot(); !errors.Is(err, ErrMissing) {
		t.Errorf("invalid status: %v", err)
	}
}

func TestSignalToBot(t *testing.T) {
	at := time.Date(2026, 1, 1, 9, 31, 0, 0, time.UTC)
	s := ConsentSignal{ID: "up:1", Provider: "meta", Sender: "1065", Customer: "+14155550100", Signal: ConsentStopMarketing, Timestamp: at, Detail: "d"}
	p, err := s.ToBot()
	want := bot.MarketingPreference{ID: "signal:up:1", Sender: "1065", Customer: "+14155550100", Stop: true, At: at, Detail: "d"}
	if err != nil || !reflect.DeepEqual(p, want) {
		t.Errorf("ToBot = %+v, %v", p, err)
	}
	s.Signal = ConsentResumeMarketing
	if p, _ := s.ToBot(); p.Stop {
		t.Error("resume_marketing gave Stop")
	}
	if _, err := (ConsentSignal{ID: "x"}).ToBot(); !errors.Is(err, ErrMissing) {
		t.Errorf("invalid signal: %v", err)
	}
}

// TestParamsPassThrough: template variables go from the request to the
// engine and from the engine's message to the outbound envelope, copied.
func TestParamsPassThrough(t *testing.T) {
	r := SendRequest{ID: "r", Business: "acme", To: "+14155550100", Kind: bot.KindTemplate, Template: "t",
		Params: map[string]string{"1": "Ana"}}
	br, err := r.ToBot()
	if err != nil || !reflect.DeepEqual(br.Params, r.Params) {
		t.Fatalf("ToBot params %v, %v", br.Params, err)
	}
	br.Params["1"] = "changed"
	if r.Params["1"] != "Ana" {
		t.Error("ToBot shares the params map")
	}
	msg := &bot.Message{Kind: bot.KindTemplate, Template: "t", Params: map[string]string{"name": "Ana"}}
	pubs, err := FromEffect(bot.Effect{ID: "acme/send:r/0", Kind: bot.EffectMessage, Business: "acme", Customer: "+14155550100",
		Sender: "1065", Message: msg})
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeOutbound(pubs[0].Data)
	if err != nil || !reflect.DeepEqual(out.Params, msg.Params) {
		t.Errorf("outbound params %v, %v", out.Params, err)
	}
}

// TestSubjectKindsCovered: every envelope type has a subject kind in IN or
// OUT, and no kind is in both.
func TestSubjectKindsCovered(t *testing.T) {
	seen := map[SubjectKind]string{}
	for _, k := range InKinds {
		seen[k] = "in"
	}
	for _, k := range OutKinds {
		if seen[k] != "" {
			t.Errorf("kind %s in both streams", k)
		}
		seen[k] = "out"
	}
	for _, k := range []SubjectKind{SubjectInbound, SubjectSend, SubjectStatus, SubjectSignal, SubjectOutbound, SubjectConsent,
		SubjectDecision, SubjectDelivery, SubjectNotice, SubjectEvent, SubjectDeadLetter, SubjectHandoff, SubjectGrant, SubjectRelease, SubjectAlert} {
		if seen[k] == "" {
			t.Errorf("kind %s is in no stream", k)
		}
	}
}

// TestHandoffReleaseToBot: a hand back carries its id, business, customer,
// state and agent to the engine; Nats-Msg-Id is release: + id, and the
// engine dedupes it under the same id.
func TestHandoffReleaseToBot(t *testing.T) {
	r := HandoffRelease{ID: "rel-1", Business: "acme", Customer: "+14155550100", State: "menu", Agent: "maria"}
	got, err := r.ToBot()
	want := bot.HandoffRelease{ID: "rel-1", Business: "acme", Customer: "+14155550100", State: "menu", Agent: "maria"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ToBot = %+v, %v", got, err)
	}
	if r.MsgID() != "release:rel-1" {
		t.Errorf("MsgID = %q", r.MsgID())
	}
	if _, err := (HandoffRelease{ID: "x", Business: "acme"}).ToBot(); !errors.Is(err, ErrMissing) {
		t.Errorf("release without customer: %v", err)
	}
	if got := (Subjects{}).Release("acme"); got != "optinbot.v1.release.acme" {
		t.Errorf("release subject %q", got)
	}
}
