package envelope

import (
	"maps"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// SendRequest is a business asking to message a customer, published on
// <prefix>.v1.send.<business> with Nats-Msg-Id set to MsgID(). The engine
// answers every request with a SendDecision (allowed or refused, never a
// silent drop) and, when allowed, an OutboundMessage.
//
//	{"v":1,"type":"send_request","id":"req-8f14e45f","business":"acme",
//	 "sender":"106540352242922","to":"+14155550100","kind":"template",
//	 "template":"order_shipped","topic":"order_updates","language":"en"}
//
// Required: id, business, to, kind ("template" or "text"); template when
// kind is "template", text when kind is "text". sender, topic, language and
// params (the template's variables, {"1":"Ana"} or {"name":"Ana"}) are
// optional.
type SendRequest struct {
	ID       string          `json:"id"` // the requester's id; repeats are ignored
	Business bot.BusinessID  `json:"business"`
	Sender   string          `json:"sender,omitempty"` // the business's address to send from; empty: its default
	To       bot.CustomerID  `json:"to"`
	Kind     bot.MessageKind `json:"kind"`
	Template string          `json:"template,omitempty"` // a template the business's flow declares
	Topic    flows.Topic     `json:"topic,omitempty"`    // must match the template's declared topic
	Language string          `json:"language,omitempty"`
	// Params fills the template's variables: keys "1", "2"… for
	// positional ones, or the variables' names.
	Params map[string]string `json:"params,omitempty"`
	Text   string            `json:"text,omitempty"` // kind "text": allowed only inside the 24-hour window
}

// MsgID is the Nats-Msg-Id to publish the request with: the engine's dedup
// id of the request, "send:" and its id (see bot.DedupID), so request ids
// cannot collide with provider message ids in the stream's duplicate
// window.
func (r SendRequest) MsgID() string { return bot.DedupID(bot.InputSendRequest, "", r.To, r.ID) }

// MarshalJSON writes the envelope with "v" and "type".
func (r SendRequest) MarshalJSON() ([]byte, error) {
	type body SendRequest
	return marshal(TypeSend, body(r))
}

// UnmarshalJSON decodes and validates, like DecodeSendRequest.
func (r *SendRequest) UnmarshalJSON(data []byte) error {
	v, err := DecodeSendRequest(data)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// DecodeSendRequest decodes and validates a send_request envelope.
func DecodeSendRequest(data []byte) (SendRequest, error) {
	if err := expectType(data, TypeSend); err != nil {
		return SendRequest{}, err
	}
	return decodeSendRequest(data)
}

func decodeSendRequest(data []byte) (SendRequest, error) {
	type body SendRequest
	var w body
	if err := unmarshal(TypeSend, data, &w); err != nil {
		return SendRequest{}, err
	}
	r := SendRequest(w)
	if err := r.Validate(); err != nil {
		return SendRequest{}, err
	}
	return r, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (r SendRequest) Validate() error {
	c := checker{typ: TypeSend}
	c.id("id", r.ID)
	c.required("business", string(r.Business))
	c.customer("to", r.To)
	c.messageKind(r.Kind, r.Template, r.Text)
	c.params("params", r.Params)
	return c.result()
}

// ToBot converts to the engine's SendRequest.
func (r SendRequest) ToBot() (bot.SendRequest, error) {
	if err := r.Validate(); err != nil {
		return bot.SendRequest{}, err
	}
	return bot.SendRequest{
		ID:       r.ID,
		Business: r.Business,
		Sender:   r.Sender,
		Customer: r.To,
		Kind:     r.Kind,
		Template: r.Template,
		Topic:    r.Topic,
		Language: r.Language,
		Params:   maps.Clone(r.Params),
		Text:     r.Text,
	}, nil
}
