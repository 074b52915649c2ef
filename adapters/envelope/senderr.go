package envelope

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnauthorized is what a provider adapter's webhook check returns (wrapped)
// when a request is unsigned, wrongly signed or carries the wrong secret:
// the webhook server answers 401 and logs the request without its body.
var ErrUnauthorized = errors.New("unauthorized webhook request")

// SendError is a provider API's refusal of an outbound message, classified
// by the provider's client so the sender knows what to do: retry (with
// RetryAfter when the provider said how long), or give up and report the
// failure, with the Signal it carries for the engine (window_closed,
// undeliverable, deferred, stop_marketing, opted_out).
type SendError struct {
	Provider   string
	Code       string // the provider's error code, as a string
	Message    string // the provider's message; never holds the message text we sent
	HTTPStatus int
	Retryable  bool
	RetryAfter time.Duration
	Signal     string
}

func (e *SendError) Error() string {
	s := fmt.Sprintf("%s refused the message: code %s", e.Provider, e.Code)
	if e.HTTPStatus != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Retryable {
		s += " [retryable]"
	}
	return s
}
