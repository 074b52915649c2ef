package envelope

import (
	"errors"
	"fmt"

	"github.com/optinbot/optinbot/bot"
)

// The kinds of decoding error. Every *Error wraps exactly one of them (and
// bot.ErrBadInput); test with errors.Is.
var (
	ErrSyntax      = errors.New("malformed JSON")
	ErrVersion     = errors.New("unsupported version")
	ErrUnknownType = errors.New("unknown type")
	ErrWrongType   = errors.New("wrong type")
	ErrMissing     = errors.New("missing required field")
	ErrTimestamp   = errors.New("bad timestamp")
	ErrCustomer    = errors.New("bad customer id")
	ErrValue       = errors.New("bad value")
)

// Error is why an envelope was rejected. Its message names the envelope type
// and the field, never quotes message text, and shows a customer id only
// redacted, so it is safe to log at any level.
type Error struct {
	Type   string // the envelope's type, when known
	Field  string // the JSON field, dotted for nested ones ("button.id"); empty for the whole document
	Kind   error  // ErrSyntax, ErrVersion, …
	Detail string // why
}

func (e *Error) Error() string {
	s := "envelope"
	if e.Type != "" {
		s += " " + e.Type
	}
	if e.Field != "" {
		s += fmt.Sprintf(": field %q", e.Field)
	}
	return s + ": " + e.Detail
}

// Unwrap lets errors.Is match both the error's Kind and bot.ErrBadInput: an
// envelope that does not decode can never succeed.
func (e *Error) Unwrap() []error { return []error{e.Kind, bot.ErrBadInput} }

func fieldErr(typ, field string, kind error, format string, args ...any) *Error {
	return &Error{Type: typ, Field: field, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
