package envelope

import (
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
)

// InboundMessage is a customer's message, published by a provider adapter on
// <prefix>.v1.inbound.<sender> with Nats-Msg-Id set to MsgID() (the
// engine's dedup id of the message: provider, customer and message id), so
// a webhook the provider retries is stored once, and another customer's
// message with the same id is not taken for it.
//
//	{"v":1,"type":"inbound_message","id":"wamid.HBgL1","provider":"meta",
//	 "sender":"106540352242922","from":"+14155550100",
//	 "timestamp":"2026-01-01T09:30:00Z","text":"Yes please",
//	 "button":{"id":"optin_yes","title":"Yes please"},"contact_name":"Ana"}
//
// Required: id, provider, sender, from, timestamp. text is empty for a
// message without text (media, location…), which flows treat as "anything
// else"; button is present when the customer tapped a quick reply. errors
// (optional, since v1) are the errors the provider reported with the
// message, such as Meta's 131051 on a message of a type it does not
// support:
//
//	"kind":"unsupported","errors":[{"code":"131051","title":"Unsupported message type",
//	 "details":"Message type is not currently supported"}]
type InboundMessage struct {
	ID       string `json:"id"`       // the provider's message id
	Provider string `json:"provider"` // "meta", "twilio", …
	// Sender is the business's address the customer wrote to: Meta's
	// phone_number_id, the Twilio number… The engine resolves the business
	// from it.
	Sender string `json:"sender"`
	// From is the customer: an E.164 number "+14155550100" or a WhatsApp
	// business-scoped user id "US.1234".
	From        bot.CustomerID `json:"from"`
	Timestamp   time.Time      `json:"timestamp"` // the provider's; opens the 24-hour window
	Text        string         `json:"text"`
	Button      *Button        `json:"button,omitempty"`
	ContactName string         `json:"contact_name,omitempty"` // the customer's profile name; not used by the engine

	// Kind says what the customer sent; empty means "text". One of the
	// Kind* constants. For media the caption is in Text as well as in
	// Media.Caption, so flows can match it.
	Kind     string    `json:"kind,omitempty"`
	Media    *Media    `json:"media,omitempty"`    // image, audio, video, document, sticker
	Location *Location `json:"location,omitempty"` // location
	Contacts []Contact `json:"contacts,omitempty"` // contacts
	Reaction *Reaction `json:"reaction,omitempty"` // reaction: to which message, which emoji ("" = removed)
	// ReplyTo is the provider id of the message the customer answered
	// (Meta's context.id, Twilio's OriginalRepliedMessageSid).
	ReplyTo string `json:"reply_to,omitempty"`
	// Phone is the customer's E.164 number when From is a WhatsApp user id
	// and the provider also gave a number.
	Phone string `json:"phone,omitempty"`
	// Errors are the errors the provider reported with the message (Meta's
	// errors[] of an "unsupported" message, Twilio's ErrorCode): optional,
	// added within v1, so readers that predate it ignore it.
	Errors []ProviderError `json:"errors,omitempty"`
}

// ProviderError is an error a provider reported with an inbound message:
// its code as a string whatever the provider's type ("131051", "63021"), its
// title, and the provider's longer explanation when it gives one. At least
// one of code and title is set.
type ProviderError struct {
	Code    string `json:"code,omitempty"`
	Title   string `json:"title,omitempty"`
	Details string `json:"details,omitempty"`
}

// The kinds of inbound message.
const (
	KindText        = "text"
	KindButton      = "button"      // a quick-reply or template button; Button is set
	KindInteractive = "interactive" // an interactive button_reply or list_reply; Button is set
	KindReaction    = "reaction"
	KindImage       = "image"
	KindAudio       = "audio"
	KindVideo       = "video"
	KindDocument    = "document"
	KindSticker     = "sticker"
	KindLocation    = "location"
	KindContacts    = "contacts"
	KindUnsupported = "unsupported"
)

// InboundKinds lists every Kind.
var InboundKinds = []string{KindText, KindButton, KindInteractive, KindReaction, KindImage, KindAudio, KindVideo,
	KindDocument, KindSticker, KindLocation, KindContacts, KindUnsupported}

// Media is an attachment: the provider's media id (Meta) or URL (Twilio).
type Media struct {
	ID       string `json:"id,omitempty"`
	URL      string `json:"url,omitempty"`
	MimeType string `json:"mime_type,omitempty"`
	SHA256   string `json:"sha256,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`
}

// Location is a shared location.
type Location struct {
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	Name      string  `json:"name,omitempty"`
	Address   string  `json:"address,omitempty"`
}

// Contact is a shared contact card, reduced to a name and numbers.
type Contact struct {
	Name   string   `json:"name,omitempty"`
	Phones []string `json:"phones,omitempty"`
}

// Reaction is an emoji reaction to a message.
type Reaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji,omitempty"`
}

// MsgID is the Nats-Msg-Id to publish the message with: the engine's dedup
// id of the message, "in:<provider>:<customer digest>:<id>" (see
// bot.DedupID). A provider's message id is unique only per provider, and
// one that a source makes up may repeat across customers.
func (m InboundMessage) MsgID() string {
	return bot.DedupID(bot.InputInbound, m.Provider, m.From, m.ID)
}

// MarshalJSON writes the envelope with "v" and "type".
func (m InboundMessage) MarshalJSON() ([]byte, error) {
	type body InboundMessage
	return marshal(TypeInbound, body(m))
}

// UnmarshalJSON decodes and validates, like DecodeInbound.
func (m *InboundMessage) UnmarshalJSON(data []byte) error {
	v, err := DecodeInbound(data)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// DecodeInbound decodes and validates an inbound_message envelope.
func DecodeInbound(data []byte) (InboundMessage, error) {
	if err := expectType(data, TypeInbound); err != nil {
		return InboundMessage{}, err
	}
	return decodeInbound(data)
}

func decodeInbound(data []byte) (InboundMessage, error) {
	type body InboundMessage
	var w struct {
		body
		Timestamp *string `json:"timestamp"`
	}
	if err := unmarshal(TypeInbound, data, &w); err != nil {
		return InboundMessage{}, err
	}
	m := InboundMessage(w.body)
	c := checker{typ: TypeInbound}
	m.Timestamp = c.timestamp("timestamp", w.Timestamp)
	m.check(&c)
	if err := c.result(); err != nil {
		return InboundMessage{}, err
	}
	return m, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (m InboundMessage) Validate() error {
	c := checker{typ: TypeInbound}
	m.check(&c)
	return c.result()
}

func (m InboundMessage) check(c *checker) {
	c.id("id", m.ID)
	c.required("provider", m.Provider)
	c.required("sender", m.Sender)
	c.customer("from", m.From)
	c.present("timestamp", m.Timestamp)
	if m.Button != nil {
		c.button("button", *m.Button)
	}
	if m.Kind != "" {
		c.oneOf("kind", m.Kind, InboundKinds...)
	}
	for i, e := range m.Errors {
		if e.Code == "" && e.Title == "" {
			c.fail(fmt.Sprintf("errors[%d]", i), ErrMissing, "neither code nor title is set")
		}
	}
}

// ToBot converts to the engine's Inbound. Business is left empty: the
// caller resolves it from Sender.
func (m InboundMessage) ToBot() (bot.Inbound, error) {
	if err := m.Validate(); err != nil {
		return bot.Inbound{}, err
	}
	in := bot.Inbound{
		ID:        m.ID,
		Provider:  m.Provider,
		Sender:    m.Sender,
		Customer:  m.From,
		Timestamp: m.Timestamp,
		Text:      m.Text,
		Reaction:  m.Kind == KindReaction,
		// The provider could not pass on what the customer sent: no
		// text for a flow to answer, even if some came along.
		Unsupported: m.Kind == KindUnsupported,
	}
	for _, e := range m.Errors {
		in.ProviderErrors = append(in.ProviderErrors, bot.ProviderError{Code: e.Code, Title: e.Title, Details: e.Details})
	}
	if m.Button != nil {
		in.ButtonID = m.Button.ID
		in.ButtonTitle = m.Button.Title
	}
	return in, nil
}
