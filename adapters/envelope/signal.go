package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
)

// ConsentSignal is a consent preference the customer set in WhatsApp itself
// (Meta's user_preferences webhook), published by a provider adapter on
// <prefix>.v1.signal.<sender> with Nats-Msg-Id set to MsgID().
//
//	{"v":1,"type":"consent_signal","id":"up:106540352242922:+14155550100:1767260000:stop",
//	 "provider":"meta","sender":"106540352242922","customer":"+14155550100",
//	 "signal":"stop_marketing","timestamp":"2026-01-01T09:33:20Z","detail":"User requested to stop marketing messages"}
//
// Required: id, provider, sender, customer, signal (stop_marketing or
// resume_marketing), timestamp. A stop is a provider opt-out of the
// business's marketing topics; a resume is recorded but re-grants nothing.
type ConsentSignal struct {
	ID        string         `json:"id"`
	Provider  string         `json:"provider"`
	Sender    string         `json:"sender"`
	Customer  bot.CustomerID `json:"customer"`
	Signal    string         `json:"signal"`
	Timestamp time.Time      `json:"timestamp"`
	Detail    string         `json:"detail,omitempty"`
}

// The consent signals.
const (
	ConsentStopMarketing   = "stop_marketing"
	ConsentResumeMarketing = "resume_marketing"
)

// MsgID is the Nats-Msg-Id to publish the signal with: "signal:" and its id.
func (s ConsentSignal) MsgID() string { return "signal:" + s.ID }

// MarshalJSON writes the envelope with "v" and "type".
func (s ConsentSignal) MarshalJSON() ([]byte, error) {
	type body ConsentSignal
	return marshal(TypeSignal, body(s))
}

// UnmarshalJSON decodes and validates, like DecodeSignal.
func (s *ConsentSignal) UnmarshalJSON(data []byte) error {
	v, err := DecodeSignal(data)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// DecodeSignal decodes and validates a consent_signal envelope.
func DecodeSignal(data []byte) (ConsentSignal, error) {
	if err := expectType(data, TypeSignal); err != nil {
		return ConsentSignal{}, err
	}
	return decodeSignal(data)
}

func decodeSignal(data []byte) (ConsentSignal, error) {
	type body ConsentSignal
	var w struct {
		body
		Timestamp *string `json:"timestamp"`
	}
	if err := unmarshal(TypeSignal, data, &w); err != nil {
		return ConsentSignal{}, err
	}
	s := ConsentSignal(w.body)
	c := checker{typ: TypeSignal}
	s.Timestamp = c.timestamp("timestamp", w.Timestamp)
	s.check(&c)
	if err := c.result(); err != nil {
		return ConsentSignal{}, err
	}
	return s, nil
}

// Validate reports the first problem, as an *Error.
func (s ConsentSignal) Validate() error {
	c := checker{typ: TypeSignal}
	s.check(&c)
	return c.result()
}

func (s ConsentSignal) check(c *checker) {
	c.id("id", s.ID)
	c.required("provider", s.Provider)
	c.required("sender", s.Sender)
	c.customer("customer", s.Customer)
	c.oneOf("signal", s.Signal, ConsentStopMarketing, ConsentResumeMarketing)
	c.present("timestamp", s.Timestamp)
}

// ToBot converts to the engine's MarketingPreference: Stop is true for
// stop_marketing, false for resume_marketing. Its ID is MsgID(), so a
// redelivered signal is recognised. Business is left empty: the caller
// resolves it from Sender.
func (s ConsentSignal) ToBot() (bot.MarketingPreference, error) {
	if err := s.Validate(); err != nil {
		return bot.MarketingPreference{}, err
	}
	return bot.MarketingPreference{
		ID:       s.MsgID(),
		Sender:   s.Sender,
		Customer: s.Customer,
		Stop:     s.Signal == ConsentStopMarketing,
		At:       s.Timestamp,
		Detail:   s.Detail,
	}, nil
}
