package envelope

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/optinbot/optinbot/bot"
)

// Version is the envelope version this package writes and reads.
const Version = 1

// The envelope types.
const (
	TypeInbound  = "inbound_message"
	TypeSend     = "send_request"
	TypeOutbound = "outbound_message"
	TypeStatus   = "delivery_status"
	TypeConsent  = "consent_change"
	TypeDecision = "send_decision"
	TypeNotice   = "customer_notice"
	TypeHandoff  = "handoff_request"
	TypeGrant    = "consent_grant"
	// The rest of a handoff: the customer's messages for the agents, its
	// end, and an agent handing the conversation back.
	TypeHandoffMessage = "handoff_message"
	TypeHandoffEnded   = "handoff_ended"
	TypeHandoffRelease = "handoff_release"
	// Adapter-side envelopes.
	TypeSignal     = "consent_signal"
	TypeEvent      = "provider_event"
	TypeDeadLetter = "dead_letter"
	// The engine's alerts.
	TypeQualityAlert = "quality_alert"
)

// Types lists every envelope type, in documentation order.
var Types = []string{TypeInbound, TypeSend, TypeStatus, TypeOutbound, TypeConsent, TypeDecision,
	TypeNotice, TypeHandoff, TypeHandoffMessage, TypeHandoffEnded, TypeHandoffRelease, TypeGrant,
	TypeSignal, TypeEvent, TypeDeadLetter, TypeQualityAlert}

// header is what every envelope starts with. Embedded in the MarshalJSON
// wrappers so "v" and "type" come first.
type header struct {
	V    int    `json:"v"`
	Type string `json:"type"`
}

// Button is a quick-reply button: tapped (InboundMessage) or offered
// (OutboundMessage).
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Decode reads any envelope and returns it by value: an InboundMessage,
// SendRequest, DeliveryStatus, OutboundMessage, ConsentChange,
// SendDecision, CustomerNotice, HandoffRequest, HandoffMessage,
// HandoffEnded, HandoffRelease, ConsentGrantEnvelope, ConsentSignal,
// ProviderEvent, DeadLetter or QualityAlert.
// The error is an *Error.
func Decode(data []byte) (any, error) {
	typ, err := decodeHeader(data)
	if err != nil {
		return nil, err
	}
	switch typ {
	case TypeInbound:
		return decodeInbound(data)
	case TypeSend:
		return decodeSendRequest(data)
	case TypeStatus:
		return decodeStatus(data)
	case TypeOutbound:
		return decodeOutbound(data)
	case TypeConsent:
		return decodeConsent(data)
	case TypeDecision:
		return decodeDecision(data)
	case TypeHandoff:
		return decodeHandoff(data)
	case TypeHandoffMessage:
		return decodeHandoffMessage(data)
	case TypeHandoffEnded:
		return decodeHandoffEnded(data)
	case TypeHandoffRelease:
		return decodeHandoffRelease(data)
	case TypeGrant:
		return decodeGrant(data)
	case TypeNotice:
		return decodeNotice(data)
	case TypeSignal:
		return decodeSignal(data)
	case TypeEvent:
		return decodeEvent(data)
	case TypeDeadLetter:
		return decodeDeadLetter(data)
	case TypeQualityAlert:
		return decodeQualityAlert(data)
	}
	return nil, fieldErr("", "type", ErrUnknownType, "unknown type %q: want one of %s", typ, strings.Join(Types, ", "))
}

// decodeHeader checks that data is a JSON object of version 1 and returns its
// type, which it does not check against the known ones.
func decodeHeader(data []byte) (string, error) {
	var h struct {
		V    json.RawMessage `json:"v"`
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(data, &h); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return "", fieldErr("", "", ErrSyntax, "malformed JSON at byte %d: %v", syn.Offset, syn)
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field == "" {
			return "", fieldErr("", "", ErrSyntax, "an envelope is a JSON object, not a JSON %s", ute.Value)
		}
		return "", fieldErr("", "", ErrSyntax, "malformed JSON: %v", err)
	}
	if len(h.V) == 0 || bytes.Equal(h.V, []byte("null")) {
		return "", fieldErr("", "v", ErrVersion, "missing: every envelope has \"v\":%d", Version)
	}
	var v int
	if err := json.Unmarshal(h.V, &v); err != nil {
		return "", fieldErr("", "v", ErrVersion, "must be the integer %d, got %s", Version, clip(string(h.V), 20))
	}
	if v != Version {
		return "", fieldErr("", "v", ErrVersion, "version %d is not supported: this decoder reads version %d only", v, Version)
	}
	if len(h.Type) == 0 || bytes.Equal(h.Type, []byte("null")) {
		return "", fieldErr("", "type", ErrMissing, "missing: want one of %s", strings.Join(Types, ", "))
	}
	var typ string
	if err := json.Unmarshal(h.Type, &typ); err != nil {
		return "", fieldErr("", "type", ErrValue, "must be a string, got %s", clip(string(h.Type), 20))
	}
	if typ == "" {
		return "", fieldErr("", "type", ErrMissing, "empty: want one of %s", strings.Join(Types, ", "))
	}
	return typ, nil
}

// expectType decodes the header and checks the type is want.
func expectType(data []byte, want string) error {
	typ, err := decodeHeader(data)
	if err != nil {
		return err
	}
	if typ != want {
		if !known(typ) {
			return fieldErr(want, "type", ErrUnknownType, "unknown type %q: want %q", typ, want)
		}
		return fieldErr(want, "type", ErrWrongType, "is %q, want %q", typ, want)
	}
	return nil
}

func known(typ string) bool {
	for _, t := range Types {
		if t == typ {
			return true
		}
	}
	return false
}

// unmarshal decodes the body of an envelope whose header was checked, and
// turns a JSON type mismatch into an *Error naming the field.
func unmarshal(typ string, data []byte, v any) error {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		// The decoders embed the envelope as "body" to override a field.
		field := strings.TrimPrefix(ute.Field, "body.")
		return fieldErr(typ, field, ErrValue, "must be a JSON %s, got a JSON %s", jsonKind(ute.Type), ute.Value)
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fieldErr(typ, "", ErrSyntax, "malformed JSON at byte %d: %v", syn.Offset, syn)
	}
	return fieldErr(typ, "", ErrSyntax, "%v", err)
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "object"
	}
	return "string"
}

// checker collects the first validation error of one envelope.
type checker struct {
	typ string
	err *Error
}

func (c *checker) fail(field string, kind error, format string, args ...any) {
	if c.err == nil {
		c.err = fieldErr(c.typ, field, kind, format, args...)
	}
}

// required checks a string field is present.
func (c *checker) required(field, value string) {
	if value == "" {
		c.fail(field, ErrMissing, "missing or empty")
	}
}

// id checks a required identifier: present, and usable as a NATS header
// value (Nats-Msg-Id), so no control characters.
func (c *checker) id(field, value string) {
	c.required(field, value)
	if strings.IndexFunc(value, unicode.IsControl) >= 0 {
		c.fail(field, ErrValue, "must not contain control characters")
	}
}

// customer checks a required customer id and returns it parsed. The error
// shows the id redacted only.
func (c *checker) customer(field string, value bot.CustomerID) bot.CustomerID {
	if value == "" {
		c.fail(field, ErrMissing, "missing or empty: want an E.164 number like +14155550100 or a WhatsApp user id like US.1234")
		return ""
	}
	id, err := bot.ParseCustomerID(string(value))
	if err != nil {
		c.fail(field, ErrCustomer, "%s is not a customer id: want an E.164 number (+ and 7 to 15 digits, a possible number for its country code) or a WhatsApp user id like US.1234", value.Redacted())
		return ""
	}
	return id
}

// oneOf checks an enumerated field.
func (c *checker) oneOf(field, value string, allowed ...string) {
	if value == "" {
		c.fail(field, ErrMissing, "missing or empty: want one of %s", strings.Join(allowed, ", "))
		return
	}
	for _, a := range allowed {
		if value == a {
			return
		}
	}
	c.fail(field, ErrValue, "%q is not one of %s", clip(value, 40), strings.Join(allowed, ", "))
}

// timestamp parses a required RFC 3339 field read as a raw string.
func (c *checker) timestamp(field string, raw *string) time.Time {
	if raw == nil || *raw == "" {
		c.fail(field, ErrMissing, "missing or empty: want an RFC 3339 time like 2026-01-01T00:00:00Z")
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, *raw)
	if err != nil {
		c.fail(field, ErrTimestamp, "%q is not an RFC 3339 time like 2026-01-01T00:00:00Z", clip(*raw, 40))
		return time.Time{}
	}
	return t
}

// optionalTimestamp parses an optional RFC 3339 field read as a raw string;
// absent or empty is the zero time.
func (c *checker) optionalTimestamp(field string, raw *string) time.Time {
	if raw == nil || *raw == "" {
		return time.Time{}
	}
	return c.timestamp(field, raw)
}

// present checks a required time set in Go (Validate on a built value).
func (c *checker) present(field string, t time.Time) {
	if t.IsZero() {
		c.fail(field, ErrMissing, "missing: want an RFC 3339 time like 2026-01-01T00:00:00Z")
	}
}

func (c *checker) button(field string, b Button) {
	c.required(field+".id", b.ID)
}

// params checks template variables: every name is non-empty.
func (c *checker) params(field string, p map[string]string) {
	for k := range p {
		if k == "" {
			c.fail(field, ErrValue, "a template variable has an empty name")
		}
	}
}

func (c *checker) result() error {
	if c.err == nil {
		return nil
	}
	return c.err
}

func kinds() []string { return []string{string(bot.KindTemplate), string(bot.KindText)} }

// messageKind checks kind and the field it requires.
func (c *checker) messageKind(kind bot.MessageKind, template, text string) {
	c.oneOf("kind", string(kind), kinds()...)
	switch kind {
	case bot.KindTemplate:
		c.required("template", template)
	case bot.KindText:
		c.required("text", text)
	}
}

// clip shortens a quoted value in an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// marshal writes an envelope with its header first.
func marshal(typ string, body any) ([]byte, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	h := fmt.Sprintf(`{"v":%d,"type":%q`, Version, typ)
	if len(b) == 2 { // "{}"
		return []byte(h + "}"), nil
	}
	return append([]byte(h+","), b[1:]...), nil
}
