package envelope

import (
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// The delivery statuses.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// DeliveryStatus is a provider's status for an outbound message, published
// by a provider adapter on <prefix>.v1.status.<sender> with Nats-Msg-Id set
// to MsgID().
//
//	{"v":1,"type":"delivery_status","id":"wamid.HBgL2","sender":"106540352242922",
//	 "to":"+14155550100","status":"failed","timestamp":"2026-01-01T09:31:00Z",
//	 "error_code":"131050","error_title":"User stopped marketing messages",
//	 "customer_opted_out":true,"topics":["promotions"]}
//
// Required: id, sender, to, status (sent, delivered, read or failed),
// timestamp. error_code is a string whatever the provider's type ("131050",
// "63016"). signal is what the error means for the customer, mapped by the
// adapter (see the Signal* constants); the engine acts on it (ToBot). An
// adapter that cannot map signals may set customer_opted_out instead, which
// the engine reads as signal opted_out; topics is informational.
//
// The engine publishes the statuses that move a message forward, for the
// business's systems, as the same envelope with business set on
// <prefix>.v1.delivery.<business> (Nats-Msg-Id: the effect id).
type DeliveryStatus struct {
	ID               string         `json:"id"` // the provider id of the outbound message
	Sender           string         `json:"sender"`
	To               bot.CustomerID `json:"to"`
	Status           string         `json:"status"`
	Timestamp        time.Time      `json:"timestamp"`
	ErrorCode        string         `json:"error_code,omitempty"`
	ErrorTitle       string         `json:"error_title,omitempty"`
	CustomerOptedOut bool           `json:"customer_opted_out"`
	Topics           []flows.Topic  `json:"topics,omitempty"`

	Provider string `json:"provider,omitempty"`
	// Signal is what the error code means for the customer, mapped by the
	// adapter: one of the Signal* constants, or empty.
	Signal string `json:"signal,omitempty"`
	// OutboundID is optinbot's id of the outbound message (the outbox
	// effect id), when the adapter knows it: always on the statuses a
	// sender publishes itself.
	OutboundID string `json:"outbound_id,omitempty"`
	// Business is the business id. Empty on the statuses adapters publish
	// (the engine resolves it from sender); set on the ones the engine
	// publishes on <prefix>.v1.delivery.<business>.
	Business bot.BusinessID `json:"business,omitempty"`
}

// The signals a delivery status may carry.
const (
	// SignalWindowClosed: the customer service window is closed (Meta
	// 131047, Twilio 63016): no free-form message until they write again.
	SignalWindowClosed = "window_closed"
	// SignalUndeliverable: the customer may have blocked the business or
	// left WhatsApp (Meta 131026): hold sends until they write again.
	SignalUndeliverable = "undeliverable"
	// SignalDeferred: the provider limited marketing messages to this
	// customer (Meta 131049): try again later, not at once.
	SignalDeferred = "deferred"
	// SignalStopMarketing: the customer stopped marketing messages (Meta
	// 131050): a provider opt-out of the business's marketing topics.
	SignalStopMarketing = "stop_marketing"
	// SignalOptedOut: the customer opted out of every message (Twilio
	// 21610): a provider opt-out of every topic.
	SignalOptedOut = "opted_out"
)

// Signals lists every Signal.
var Signals = []string{SignalWindowClosed, SignalUndeliverable, SignalDeferred, SignalStopMarketing, SignalOptedOut}

// MsgID is the Nats-Msg-Id to publish the status with: "status:", the
// provider message id, ":" and the status, as one message has several
// statuses.
func (s DeliveryStatus) MsgID() string { return "status:" + s.ID + ":" + s.Status }

// MarshalJSON writes the envelope with "v" and "type".
func (s DeliveryStatus) MarshalJSON() ([]byte, error) {
	type body DeliveryStatus
	return marshal(TypeStatus, body(s))
}

// UnmarshalJSON decodes and validates, like DecodeStatus.
func (s *DeliveryStatus) UnmarshalJSON(data []byte) error {
	v, err := DecodeStatus(data)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// DecodeStatus decodes and validates a delivery_status envelope.
func DecodeStatus(data []byte) (DeliveryStatus, error) {
	if err := expectType(data, TypeStatus); err != nil {
		return DeliveryStatus{}, err
	}
	return decodeStatus(data)
}

func decodeStatus(data []byte) (DeliveryStatus, error) {
	type body DeliveryStatus
	var w struct {
		body
		Timestamp *string `json:"timestamp"`
	}
	if err := unmarshal(TypeStatus, data, &w); err != nil {
		return DeliveryStatus{}, err
	}
	s := DeliveryStatus(w.body)
	c := checker{typ: TypeStatus}
	s.Timestamp = c.timestamp("timestamp", w.Timestamp)
	s.check(&c)
	if err := c.result(); err != nil {
		return DeliveryStatus{}, err
	}
	return s, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (s DeliveryStatus) Validate() error {
	c := checker{typ: TypeStatus}
	s.check(&c)
	return c.result()
}

func (s DeliveryStatus) check(c *checker) {
	c.id("id", s.ID)
	c.required("sender", s.Sender)
	c.customer("to", s.To)
	c.oneOf("status", s.Status, StatusSent, StatusDelivered, StatusRead, StatusFailed)
	c.present("timestamp", s.Timestamp)
	if s.Signal != "" {
		c.oneOf("signal", s.Signal, Signals...)
	}
	for i, t := range s.Topics {
		if t == "" {
			c.fail("topics", ErrValue, "topic %d is empty", i)
		}
	}
}

// ToBot converts to the engine's DeliveryUpdate. Its ID is MsgID(), so a
// redelivered status is recognised; MessageID is the provider's message
// id. Business is s.Business, usually empty: the caller resolves it from
// Sender.
//
// Signal is the status's signal. A status that sets customer_opted_out
// without a signal (an adapter written before signals) becomes
// SignalOptedOut, a provider opt-out of every topic: topics is not carried
// over, and the engine errs on the side of not messaging.
func (s DeliveryStatus) ToBot() (bot.DeliveryUpdate, error) {
	if err := s.Validate(); err != nil {
		return bot.DeliveryUpdate{}, err
	}
	signal := s.Signal
	if signal == "" && s.CustomerOptedOut {
		signal = SignalOptedOut
	}
	return bot.DeliveryUpdate{
		ID:         s.MsgID(),
		MessageID:  s.ID,
		OutboundID: s.OutboundID,
		Business:   s.Business,
		Sender:     s.Sender,
		Customer:   s.To,
		Status:     s.Status,
		At:         s.Timestamp,
		ErrorCode:  s.ErrorCode,
		ErrorTitle: s.ErrorTitle,
		Signal:     signal,
	}, nil
}

// ProviderOptOut returns the opt-out the status reports, and true, when
// customer_opted_out is set. Business is left empty: the caller resolves it
// from Sender. The opt-out's ID is the status's MsgID(), so a redelivered
// status is recognised.
//
// The Consumer no longer uses it: every status goes to the engine as a
// DeliveryUpdate (ToBot), which derives opt-outs from its signal.
func (s DeliveryStatus) ProviderOptOut() (bot.ProviderOptOut, bool) {
	if !s.CustomerOptedOut {
		return bot.ProviderOptOut{}, false
	}
	reason := strings.TrimSpace(s.ErrorCode + " " + s.ErrorTitle)
	if reason == "" {
		reason = "provider reported opt-out"
	}
	return bot.ProviderOptOut{
		ID:       s.MsgID(),
		Sender:   s.Sender,
		Customer: s.To,
		At:       s.Timestamp,
		Topics:   append([]flows.Topic(nil), s.Topics...),
		Reason:   reason,
	}, true
}
