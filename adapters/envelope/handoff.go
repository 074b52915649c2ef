package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
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
// Required: id, business, customer, queue, at. The customer was told a
// person takes over. The bot stays silent (but for STOP, START and HELP:
// the customer's other messages come as handoff_message) until an agent
// hands the conversation back (handoff_release) or the handoff times out,
// at until, which each message of the customer moves; then the bot
// resumes in state resume (handoff_ended).
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
	Until    time.Time         `json:"until,omitzero"`
	Resume   string            `json:"resume,omitempty"`
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
		At    *string `json:"at"`
		Until *string `json:"until"`
	}
	if err := unmarshal(TypeHandoff, data, &w); err != nil {
		return HandoffRequest{}, err
	}
	h := HandoffRequest(w.body)
	c := checker{typ: TypeHandoff}
	h.At = c.timestamp("at", w.At)
	h.Until = c.optionalTimestamp("until", w.Until)
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

// HandoffMessage is a customer's message during a handoff, for the agents:
// the bot does not answer it. Published by the engine's outbox relay on
// <prefix>.v1.handoff.<business> (after the handoff_request, in order) with
// Nats-Msg-Id set to its id (the effect id).
//
//	{"v":1,"type":"handoff_message","id":"acme/wamid.HBgL6/0","business":"acme",
//	 "customer":"+14155550100","sender":"106540352242922","queue":"front-desk",
//	 "inbound_id":"wamid.HBgL6","text":"hello? is anyone there?",
//	 "at":"2026-01-01T09:35:00Z","until":"2026-01-01T10:35:00Z"}
//
// Required: id, business, customer, queue, inbound_id, at. text is empty
// for a tap (button) or a message without text.
type HandoffMessage struct {
	ID        string         `json:"id"`
	Business  bot.BusinessID `json:"business"`
	Customer  bot.CustomerID `json:"customer"`
	Sender    string         `json:"sender,omitempty"`
	Queue     string         `json:"queue"`
	InboundID string         `json:"inbound_id"`
	Text      string         `json:"text,omitempty"`
	Button    *Button        `json:"button,omitempty"`
	At        time.Time      `json:"at"`
	Until     time.Time      `json:"until,omitzero"`
}

// MarshalJSON writes the envelope with "v" and "type".
func (m HandoffMessage) MarshalJSON() ([]byte, error) {
	type body HandoffMessage
	return marshal(TypeHandoffMessage, body(m))
}

// UnmarshalJSON decodes and validates, like DecodeHandoffMessage.
func (m *HandoffMessage) UnmarshalJSON(data []byte) error {
	v, err := DecodeHandoffMessage(data)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DecodeHandoffMessage decodes and validates a handoff_message envelope.
func DecodeHandoffMessage(data []byte) (HandoffMessage, error) {
	if err := expectType(data, TypeHandoffMessage); err != nil {
		return HandoffMessage{}, err
	}
	return decodeHandoffMessage(data)
}

func decodeHandoffMessage(data []byte) (HandoffMessage, error) {
	type body HandoffMessage
	var w struct {
		body
		At    *string `json:"at"`
		Until *string `json:"until"`
	}
	if err := unmarshal(TypeHandoffMessage, data, &w); err != nil {
		return HandoffMessage{}, err
	}
	m := HandoffMessage(w.body)
	c := checker{typ: TypeHandoffMessage}
	m.At = c.timestamp("at", w.At)
	m.Until = c.optionalTimestamp("until", w.Until)
	m.check(&c)
	if err := c.result(); err != nil {
		return HandoffMessage{}, err
	}
	return m, nil
}

// Validate reports the first problem, as an *Error.
func (m HandoffMessage) Validate() error {
	c := checker{typ: TypeHandoffMessage}
	m.check(&c)
	return c.result()
}

func (m HandoffMessage) check(c *checker) {
	c.id("id", m.ID)
	c.required("business", string(m.Business))
	c.customer("customer", m.Customer)
	c.required("queue", m.Queue)
	c.id("inbound_id", m.InboundID)
	if m.Button != nil {
		c.button("button", *m.Button)
	}
	c.present("at", m.At)
}

// HandoffEnded says a handoff ended: an agent handed back (released), its
// timeout passed (timeout), or the customer opted out (opted_out: the
// agents must stop writing too). Published by the engine's outbox relay
// on <prefix>.v1.handoff.<business> with Nats-Msg-Id set to its id.
//
//	{"v":1,"type":"handoff_ended","id":"acme/release:rel-8812/0","business":"acme",
//	 "customer":"+14155550100","sender":"106540352242922","queue":"front-desk",
//	 "reason":"released","resume":"ask_reminders","agent":"maria","at":"2026-01-01T09:50:00Z"}
//
// Required: id, business, customer, queue, reason (an open list), at.
// resume is the state the bot resumed in, empty after an opt-out.
type HandoffEnded struct {
	ID       string         `json:"id"`
	Business bot.BusinessID `json:"business"`
	Customer bot.CustomerID `json:"customer"`
	Sender   string         `json:"sender,omitempty"`
	Queue    string         `json:"queue"`
	Reason   string         `json:"reason"`
	Resume   string         `json:"resume,omitempty"`
	Agent    string         `json:"agent,omitempty"`
	At       time.Time      `json:"at"`
}

// MarshalJSON writes the envelope with "v" and "type".
func (e HandoffEnded) MarshalJSON() ([]byte, error) {
	type body HandoffEnded
	return marshal(TypeHandoffEnded, body(e))
}

// UnmarshalJSON decodes and validates, like DecodeHandoffEnded.
func (e *HandoffEnded) UnmarshalJSON(data []byte) error {
	v, err := DecodeHandoffEnded(data)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// DecodeHandoffEnded decodes and validates a handoff_ended envelope.
func DecodeHandoffEnded(data []byte) (HandoffEnded, error) {
	if err := expectType(data, TypeHandoffEnded); err != nil {
		return HandoffEnded{}, err
	}
	return decodeHandoffEnded(data)
}

func decodeHandoffEnded(data []byte) (HandoffEnded, error) {
	type body HandoffEnded
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeHandoffEnded, data, &w); err != nil {
		return HandoffEnded{}, err
	}
	e := HandoffEnded(w.body)
	c := checker{typ: TypeHandoffEnded}
	e.At = c.timestamp("at", w.At)
	e.check(&c)
	if err := c.result(); err != nil {
		return HandoffEnded{}, err
	}
	return e, nil
}

// Validate reports the first problem, as an *Error.
func (e HandoffEnded) Validate() error {
	c := checker{typ: TypeHandoffEnded}
	e.check(&c)
	return c.result()
}

func (e HandoffEnded) check(c *checker) {
	c.id("id", e.ID)
	c.required("business", string(e.Business))
	c.customer("customer", e.Customer)
	c.required("queue", e.Queue)
	c.required("reason", e.Reason) // an open list: released, timeout, opted_out
	c.present("at", e.At)
}

// HandoffRelease is an agent, or the business's help desk, handing a
// conversation back to the bot. Published by the business's systems on
// <prefix>.v1.release.<business> with Nats-Msg-Id set to MsgID().
//
//	{"v":1,"type":"handoff_release","id":"rel-8812","business":"acme",
//	 "customer":"+14155550100","state":"ask_reminders","agent":"maria"}
//
// Required: id, business, customer. state, optional, is the state of the
// flow the bot resumes in instead of the handoff's own; agent, optional,
// who handed back (it comes back in handoff_ended). The engine tells the
// customer and resumes the flow; a release for a customer whose
// conversation is not handed off is refused as bad input (terminated,
// logged), and a repeated id changes nothing.
type HandoffRelease struct {
	ID       string         `json:"id"`
	Business bot.BusinessID `json:"business"`
	Customer bot.CustomerID `json:"customer"`
	State    string         `json:"state,omitempty"`
	Agent    string         `json:"agent,omitempty"`
}

// MsgID is the Nats-Msg-Id to publish the release with.
func (r HandoffRelease) MsgID() string {
	return bot.DedupID(bot.InputHandoffRelease, "", bot.CustomerID(r.Customer), r.ID)
}

// MarshalJSON writes the envelope with "v" and "type".
func (r HandoffRelease) MarshalJSON() ([]byte, error) {
	type body HandoffRelease
	return marshal(TypeHandoffRelease, body(r))
}

// UnmarshalJSON decodes and validates, like DecodeHandoffRelease.
func (r *HandoffRelease) UnmarshalJSON(data []byte) error {
	v, err := DecodeHandoffRelease(data)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// DecodeHandoffRelease decodes and validates a handoff_release envelope.
func DecodeHandoffRelease(data []byte) (HandoffRelease, error) {
	if err := expectType(data, TypeHandoffRelease); err != nil {
		return HandoffRelease{}, err
	}
	return decodeHandoffRelease(data)
}

func decodeHandoffRelease(data []byte) (HandoffRelease, error) {
	type body HandoffRelease
	var w body
	if err := unmarshal(TypeHandoffRelease, data, &w); err != nil {
		return HandoffRelease{}, err
	}
	r := HandoffRelease(w)
	if err := r.Validate(); err != nil {
		return HandoffRelease{}, err
	}
	return r, nil
}

// Validate reports the first problem, as an *Error.
func (r HandoffRelease) Validate() error {
	c := checker{typ: TypeHandoffRelease}
	c.id("id", r.ID)
	c.required("business", string(r.Business))
	c.customer("customer", r.Customer)
	return c.result()
}

// ToBot converts to the engine's HandoffRelease. Its id is the release's
// own: the engine dedupes it as "release:" + id.
func (r HandoffRelease) ToBot() (bot.HandoffRelease, error) {
	if err := r.Validate(); err != nil {
		return bot.HandoffRelease{}, err
	}
	return bot.HandoffRelease{ID: r.ID, Business: r.Business, Customer: r.Customer,
		State: flows.StateName(r.State), Agent: r.Agent}, nil
}
