package bot

import (
	"time"

	"github.com/optinbot/optinbot/flows"
)

// EffectKind says what an Effect asks the caller to do.
type EffectKind string

const (
	// EffectMessage: send an outbound message the guard allowed.
	EffectMessage EffectKind = "message"
	// EffectConsent: tell the business's systems a consent changed.
	EffectConsent EffectKind = "consent"
	// EffectRefused: the guard refused an outbound message; tell the
	// requester why. Never a silent drop.
	EffectRefused EffectKind = "refused"
	// EffectDelivery: a message's delivery status moved forward.
	EffectDelivery EffectKind = "delivery"
	// EffectNotice: a customer-level fact recorded without a consent
	// change (see Notice).
	EffectNotice EffectKind = "notice"
	// EffectHandoff: the flow handed the conversation to a human agent.
	EffectHandoff EffectKind = "handoff"
	// EffectHandoffMessage: the customer wrote during a handoff; the
	// message is for the agent, and the bot does not answer it.
	EffectHandoffMessage EffectKind = "handoff_message"
	// EffectHandoffEnded: a handoff ended (see HandoffEnded).
	EffectHandoffEnded EffectKind = "handoff_ended"
)

// Handoff asks a human agent's queue to take the conversation over.
type Handoff struct {
	Queue string            `json:"queue"`
	Flow  string            `json:"flow"`
	State string            `json:"state"` // the state the customer was in
	Vars  map[string]string `json:"vars,omitempty"`
	At    time.Time         `json:"at"`
	// Until is when the bot resumes unless an agent hands the
	// conversation back first; each message of the customer moves it.
	Until time.Time `json:"until,omitzero"`
	// Resume is the state the bot resumes in.
	Resume string `json:"resume,omitempty"`
}

// HandoffMessage is a customer's message during a handoff, for the agent.
type HandoffMessage struct {
	Queue       string    `json:"queue"`
	InboundID   string    `json:"inbound_id"` // the provider message id
	Text        string    `json:"text,omitempty"`
	ButtonID    string    `json:"button_id,omitempty"` // a tapped button or list row
	ButtonTitle string    `json:"button_title,omitempty"`
	At          time.Time `json:"at"`             // the provider's timestamp
	Until       time.Time `json:"until,omitzero"` // the handoff's timeout, moved by this message
}

// HandoffEndReason says why a handoff ended.
type HandoffEndReason string

const (
	// HandoffReleased: an agent handed the conversation back.
	HandoffReleased HandoffEndReason = "released"
	// HandoffTimedOut: the handoff's timeout passed with no hand back.
	HandoffTimedOut HandoffEndReason = "timeout"
	// HandoffOptedOut: the customer opted out (STOP), or the provider
	// reported they did: the conversation ended and the agents must stop.
	HandoffOptedOut HandoffEndReason = "opted_out"
)

// HandoffEnded says a handoff ended and where the bot resumed.
type HandoffEnded struct {
	Queue  string           `json:"queue"`
	Reason HandoffEndReason `json:"reason"`
	// Resume is the state the bot resumed in; "" when the conversation
	// ended (an opt-out).
	Resume string    `json:"resume,omitempty"`
	Agent  string    `json:"agent,omitempty"` // who handed back, when the release said
	At     time.Time `json:"at"`
}

// Reason is why the policy guard refused a message.
type Reason string

const (
	// ReasonOptedOut: the customer's STOP stands.
	ReasonOptedOut Reason = "opted_out"
	// ReasonProviderBlocked: the provider reported that the customer
	// stopped the business's messages in WhatsApp: all of them (Twilio
	// 21610, an opted-out signal) or the template's topic (Meta 131050 or
	// user_preferences, a marketing stop). Only the customer can undo it,
	// by writing in the chat.
	ReasonProviderBlocked Reason = "provider_blocked"
	// ReasonNoConsent: the customer never opted in to the template's topic,
	// or declined it.
	ReasonNoConsent    Reason = "no_consent"
	ReasonWindowClosed Reason = "window_closed"
	ReasonFrequencyCap Reason = "frequency_cap"
	// ReasonHeld: the provider reported the customer unreachable (blocked
	// or left WhatsApp); business-initiated messages wait until they write.
	ReasonHeld Reason = "held_undeliverable"
	// ReasonSuppressed: the customer was erased without a standing
	// opt-in and is on the business's suppression list; only their own
	// opt-in in the chat lifts it.
	ReasonSuppressed Reason = "suppressed"
)

// Reasons lists every Reason, in the guard's order (see Caps.Check).
var Reasons = []Reason{ReasonSuppressed, ReasonOptedOut, ReasonProviderBlocked, ReasonHeld, ReasonNoConsent, ReasonWindowClosed, ReasonFrequencyCap}

// Effect is one thing the engine decided, for the caller to carry out after
// the turn is committed. Its ID is derived from the input's id and the
// effect's position in the turn, so a replayed turn yields the same ids and
// a publisher can deduplicate by them.
//
//	{"id":"acme/in:meta:40d3f4e02db27d66:wamid.1/1","kind":"message","business":"acme","customer":"+14155550100",
//	 "sender":"+15550001111","in_reply_to":"wamid.1",
//	 "message":{"kind":"text","text":"Hi! …","buttons":[{"id":"optin_yes","title":"Yes please"}]}}
type Effect struct {
	ID        string        `json:"id"`
	Kind      EffectKind    `json:"kind"`
	Business  BusinessID    `json:"business"`
	Customer  CustomerID    `json:"customer"`
	Sender    string        `json:"sender,omitempty"`
	InReplyTo string        `json:"in_reply_to,omitempty"` // the inbound message answered
	RequestID string        `json:"request_id,omitempty"`  // the send request answered
	Message   *Message      `json:"message,omitempty"`     // EffectMessage
	Consent   *ConsentEvent `json:"consent,omitempty"`     // EffectConsent
	Refusal   *Refusal      `json:"refusal,omitempty"`     // EffectRefused
	Delivery  *Delivery     `json:"delivery,omitempty"`    // EffectDelivery
	Notice    *Notice       `json:"notice,omitempty"`      // EffectNotice
	Handoff   *Handoff      `json:"handoff,omitempty"`     // EffectHandoff
	// HandoffMessage: EffectHandoffMessage; HandoffEnded: EffectHandoffEnded.
	HandoffMessage *HandoffMessage `json:"handoff_message,omitempty"`
	HandoffEnded   *HandoffEnded   `json:"handoff_ended,omitempty"`
}

// Message is an outbound message.
type Message struct {
	Kind     MessageKind    `json:"kind"`
	Text     string         `json:"text,omitempty"`
	Buttons  []Button       `json:"buttons,omitempty"`
	List     *List          `json:"list,omitempty"` // a list message instead of buttons
	Template string         `json:"template,omitempty"`
	Language string         `json:"language,omitempty"`
	Topic    flows.Topic    `json:"topic,omitempty"`
	Category flows.Category `json:"category,omitempty"`
	// Params fills a template's variables: "1", "2"… or their names.
	Params map[string]string `json:"params,omitempty"`
}

// Button is a quick-reply button of an outbound message.
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// List is a list message: a button that opens at most 10 rows.
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

// Refusal says which message the guard refused and why.
type Refusal struct {
	Kind     MessageKind `json:"kind"`
	Reason   Reason      `json:"reason"`
	Template string      `json:"template,omitempty"`
	Topic    flows.Topic `json:"topic,omitempty"`
}
