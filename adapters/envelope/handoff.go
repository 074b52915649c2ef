package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
)

// HandoffRequest asks a human agent's queue to take a conversation over: a
// flow's handoff action stopped the bot for this customer. Published by the
// engine's outbox relay on <prefix>.v1.handoff.<business> with Nats-Msg-Id
// set to its id (the effect id).
//
//	{"v":1,"type":"handoff_request","id":"acme/in:meta:40d3f4e02db27d66:wamid.HBgL5/0","business":"acme",
//	 "customer":"+14155550100","sender":"106540352242922","queue":"front-desk",
//	 "flow":"clinic","state":"ask_reminders","vars":{"name":"Ana"},"at":"2026-01-01T09:31:00Z"}
//
// Required: id, business, customer, queue, at. The bot stays silent (but
// for STOP, START and HELP) until the customer service window closes.
type HandoffRequest struct {
	ID       string            `json:"id"`
	Business bot.BusinessID    `json:"business"`
	Customer bot.CustomerID    `json:"customer"`
	Sender   string            `json:"sender,omitempty"`
	Queue    string            `json:"queue"`
	Flow     string            `json:"flow,omitempty"`
	State    string            `json:"state,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	At       time.Time         `json:"at"`
}

// MarshalJSON writes the envelope with "v" and "type".
func (h HandoffRequest) MarshalJSON() ([]byte, error) {
	type body HandoffRequest
	return marshal(TypeHandoff, body(h))
}

// UnmarshalJSON decodes and validates, like DecodeHandoff.
func (h *HandoffRequest) UnmarshalJSON(data []byte) error {
	v, err := DecodeHandoff(data)
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// DecodeHandoff decodes and validates a handoff_request envelope.
func DecodeHandoff(data []byte) (HandoffRequest, error) {
	if err := expectType(data, TypeHandoff); err != nil {
		return HandoffRequest{}, err
	}
	return decodeHandoff(data)
}

func decodeHandoff(data []byte) (HandoffRequest, error) {
	type body HandoffRequest
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeHandoff, data, &w); err != nil {
		return HandoffRequest{}, err
	}
	h := HandoffRequest(w.body)
	c := checker{typ: TypeHandoff}
	h.At = c.timestamp("at", w.At)
	h.check(&c)
	if err := c.result(); err != nil {
		return HandoffRequest{}, err
	}
	return h, nil
}

// Validate reports the first problem, as an *Error.
func (h HandoffRequest) Validate() error {
	c := checker{typ: TypeHandoff}
	h.check(&c)
	return c.result()
}

func (h HandoffRequest) check(c *checker) {
	c.id("id", h.ID)
	c.required("business", string(h.Business))
	c.customer("customer", h.Customer)
	c.required("queue", h.Queue)
	c.present("at", h.At)
}
