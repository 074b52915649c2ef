package envelope

import (
	"strings"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// SendDecision is the policy guard's answer, published by the engine's outbox
// relay on <prefix>.v1.decision.<business> with Nats-Msg-Id set to its id.
// Every send request gets one: allowed (the OutboundMessage follows on the
// outbound subject; the decision's id is the message's id plus
// "/decision") or refused with a reason. A reply to an inbound message that
// the guard refused gets one too, with in_reply_to set.
//
//	{"v":1,"type":"send_decision","id":"acme/send:req-9/0","request_id":"req-9",
//	 "business":"acme","customer":"+14155550100","kind":"template",
//	 "template":"spring_sale","topic":"promotions","allowed":false,"reason":"opted_out"}
//
// Required: id, business, customer, kind; reason when allowed is false, and
// only then. The reasons are bot.Reasons: suppressed, opted_out,
// provider_blocked, held_undeliverable, no_consent, window_closed and
// frequency_cap; more may be added within version 1, so a reader treats
// an unknown reason as a refusal.
type SendDecision struct {
	ID        string          `json:"id"`
	RequestID string          `json:"request_id,omitempty"`
	Business  bot.BusinessID  `json:"business"`
	Customer  bot.CustomerID  `json:"customer"`
	Kind      bot.MessageKind `json:"kind"`
	Template  string          `json:"template,omitempty"`
	Topic     flows.Topic     `json:"topic,omitempty"`
	Allowed   bool            `json:"allowed"`
	Reason    bot.Reason      `json:"reason,omitempty"`
	InReplyTo string          `json:"in_reply_to,omitempty"`
}

// MarshalJSON writes the envelope with "v" and "type".
func (d SendDecision) MarshalJSON() ([]byte, error) {
	type body SendDecision
	return marshal(TypeDecision, body(d))
}

// UnmarshalJSON decodes and validates, like DecodeDecision.
func (d *SendDecision) UnmarshalJSON(data []byte) error {
	v, err := DecodeDecision(data)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DecodeDecision decodes and validates a send_decision envelope.
func DecodeDecision(data []byte) (SendDecision, error) {
	if err := expectType(data, TypeDecision); err != nil {
		return SendDecision{}, err
	}
	return decodeDecision(data)
}

func decodeDecision(data []byte) (SendDecision, error) {
	type body SendDecision
	var w body
	if err := unmarshal(TypeDecision, data, &w); err != nil {
		return SendDecision{}, err
	}
	d := SendDecision(w)
	if err := d.Validate(); err != nil {
		return SendDecision{}, err
	}
	return d, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (d SendDecision) Validate() error {
	c := checker{typ: TypeDecision}
	c.id("id", d.ID)
	c.required("business", string(d.Business))
	c.customer("customer", d.Customer)
	c.oneOf("kind", string(d.Kind), kinds()...)
	if d.Allowed {
		if d.Reason != "" {
			c.fail("reason", ErrValue, "must be empty when allowed is true")
		}
	} else {
		// Any reason is accepted, so the engine may add one without a
		// version bump; a reader treats a reason it does not know as a
		// refusal all the same.
		if d.Reason == "" {
			c.fail("reason", ErrMissing, "missing or empty: a refusal has a reason (%s)", reasonList())
		}
	}
	return c.result()
}

// reasonList is bot.Reasons for a message: "opted_out, …, frequency_cap".
func reasonList() string {
	names := make([]string, len(bot.Reasons))
	for i, r := range bot.Reasons {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}
