package envelope

import (
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// OutboundMessage is a message the policy guard allowed, published by the
// engine's outbox relay on <prefix>.v1.outbound.<sender> with Nats-Msg-Id
// set to its id. A provider adapter sends it (and should use id as its own
// idempotency key: the outbox guarantees at-least-once publication, the
// stream's duplicate window makes it once within the window).
//
//	{"v":1,"type":"outbound_message","id":"acme/in:meta:40d3f4e02db27d66:wamid.HBgL1/1","business":"acme",
//	 "sender":"106540352242922","to":"+14155550100","in_reply_to":"wamid.HBgL1",
//	 "kind":"text","text":"Great! Which updates would you like?",
//	 "buttons":[{"id":"orders","title":"Order updates"},{"id":"promos","title":"Offers"}]}
//
//	{"v":1,"type":"outbound_message","id":"acme/send:req-8f14e45f/0","business":"acme",
//	 "sender":"106540352242922","to":"+14155550100","request_id":"req-8f14e45f",
//	 "kind":"template","template":"order_shipped","language":"en",
//	 "topic":"order_updates","category":"utility"}
//
// Required: id, business, to, kind; template when kind is "template", text
// when kind is "text". params holds a template's variables ("1", "2"… or
// their names), as the send request gave them. in_reply_to is set on a reply to an inbound message,
// request_id on a message a send request asked for. sender is empty only
// when neither the request nor the business named one.
type OutboundMessage struct {
	ID        string          `json:"id"` // the outbox effect id: stable across republication
	Business  bot.BusinessID  `json:"business"`
	Sender    string          `json:"sender"`
	To        bot.CustomerID  `json:"to"`
	InReplyTo string          `json:"in_reply_to,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
	Kind      bot.MessageKind `json:"kind"`
	Text      string          `json:"text,omitempty"`
	Buttons   []Button        `json:"buttons,omitempty"` // quick replies, at most 3
	List      *List           `json:"list,omitempty"`    // a list message: a button opening at most 10 rows
	Template  string          `json:"template,omitempty"`
	Language  string          `json:"language,omitempty"`
	Topic     flows.Topic     `json:"topic,omitempty"`
	Category  flows.Category  `json:"category,omitempty"`
	// Params fills the template's variables: "1", "2"… or their names.
	Params map[string]string `json:"params,omitempty"`
}

// MarshalJSON writes the envelope with "v" and "type".
func (m OutboundMessage) MarshalJSON() ([]byte, error) {
	type body OutboundMessage
	return marshal(TypeOutbound, body(m))
}

// UnmarshalJSON decodes and validates, like DecodeOutbound.
func (m *OutboundMessage) UnmarshalJSON(data []byte) error {
	v, err := DecodeOutbound(data)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DecodeOutbound decodes and validates an outbound_message envelope.
func DecodeOutbound(data []byte) (OutboundMessage, error) {
	if err := expectType(data, TypeOutbound); err != nil {
		return OutboundMessage{}, err
	}
	return decodeOutbound(data)
}

func decodeOutbound(data []byte) (OutboundMessage, error) {
	type body OutboundMessage
	var w body
	if err := unmarshal(TypeOutbound, data, &w); err != nil {
		return OutboundMessage{}, err
	}
	m := OutboundMessage(w)
	if err := m.Validate(); err != nil {
		return OutboundMessage{}, err
	}
	return m, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (m OutboundMessage) Validate() error {
	c := checker{typ: TypeOutbound}
	c.id("id", m.ID)
	c.required("business", string(m.Business))
	c.customer("to", m.To)
	c.messageKind(m.Kind, m.Template, m.Text)
	for _, b := range m.Buttons {
		c.button("buttons", b)
	}
	c.params("params", m.Params)
	return c.result()
}

// List is a list message: the label of the button that opens it, and its
// rows (at most 10). A row's id comes back as the inbound message's
// button.id when the customer picks it.
type List struct {
	Button string    `json:"button"`
	Rows   []ListRow `json:"rows"`
}

// ListRow is one choice of a list message.
type ListRow struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}
