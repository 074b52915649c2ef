package bot

import (
	"time"

	"github.com/optinbot/optinbot/flows"
)

// BusinessID identifies a business: a short slug such as "acme".
type BusinessID string

// Channel is the messaging channel a consent applies to. optinbot records
// WhatsApp consent only; an opt-in collected elsewhere is recorded with the
// Source it came from, but always for this channel.
const Channel = "whatsapp"

// ConsentStatus is a customer's permission for one topic.
type ConsentStatus string

const (
	OptedIn  ConsentStatus = "opted_in"
	OptedOut ConsentStatus = "opted_out"
	// Resumed records that the customer turned marketing messages back on
	// in the WhatsApp app. It is evidence, not permission: it re-grants
	// nothing (only the customer's own YES or START in the chat does), so
	// a topic's current consent is its latest opted_in or opted_out event.
	Resumed ConsentStatus = "resumed"
)

// ConsentStatuses lists every status a ledger event may carry.
var ConsentStatuses = []ConsentStatus{OptedIn, OptedOut, Resumed, CustomerErased}

// Grants reports whether the status decides a topic's consent (opted_in
// or opted_out), as opposed to a record that changes nothing (Resumed).
func (s ConsentStatus) Grants() bool { return s == OptedIn || s == OptedOut }

// Source says where a consent event was collected.
type Source string

const (
	SourceInChannel     Source = "in_channel"
	SourceSignup        Source = "signup"
	SourceSMSCampaign   Source = "sms_campaign"
	SourceEmailCampaign Source = "email_campaign"
	SourceWeb           Source = "web"
	SourceLiveChat      Source = "live_chat"
	SourceProvider      Source = "provider"
	SourceAPI           Source = "api"
)

// Sources lists every Source the ledger holds.
var Sources = []Source{SourceInChannel, SourceSignup, SourceSMSCampaign, SourceEmailCampaign,
	SourceWeb, SourceLiveChat, SourceProvider, SourceAPI, SourceCLI}

// ConsentEvent is one append-only entry of the consent ledger, with the
// evidence of what caused it.
//
//	{"id":"acme/in:meta:40d3f4e02db27d66:wamid.1/0","customer":"+14155550100","business":"acme","channel":"whatsapp",
//	 "topic":"order_updates","category":"utility","status":"opted_in","source":"in_channel",
//	 "trigger":"button optin_yes","inbound_id":"wamid.1","inbound_text":"Yes",
//	 "prompt":"Acme Outfitters here on WhatsApp…","flow":"retail","flow_version":"3f2a9c1b7d0e",
//	 "at":"2026-01-01T00:00:00Z"}
type ConsentEvent struct {
	ID       string     `json:"id"`
	Customer CustomerID `json:"customer"`
	Business BusinessID `json:"business"`
	// Sender is the business's sender address (phone number) the customer
	// wrote to, or the message was to come from; "" when no message was
	// involved (a grant from another channel).
	Sender      string         `json:"sender,omitempty"`
	Channel     string         `json:"channel"`
	Topic       flows.Topic    `json:"topic"`
	Category    flows.Category `json:"category"`
	Status      ConsentStatus  `json:"status"`
	Source      Source         `json:"source"`
	Trigger     string         `json:"trigger"`      // what matched: "keyword STOP", "button optin_yes", "provider 131050"
	InboundID   string         `json:"inbound_id"`   // the provider message id that caused it
	InboundText string         `json:"inbound_text"` // the customer's words, as received
	Prompt      string         `json:"prompt"`       // the exact text the customer had been shown
	// Language is the language of the prompt the customer was shown.
	Language    string `json:"language,omitempty"`
	FlowName    string `json:"flow"`
	FlowVersion string `json:"flow_version"`
	// ProviderAt is when the provider received the customer's message (or
	// reported the signal); zero when no provider was involved.
	ProviderAt time.Time `json:"provider_at,omitzero"`
	// At is when the engine recorded the event.
	At time.Time `json:"at"`
	// PrevHash and Hash link the event into its business's hash chain
	// (see ChainHash); the store sets them when it appends the event.
	PrevHash string `json:"prev_hash,omitempty"`
	Hash     string `json:"hash,omitempty"`
	// PIISalt and PIIDigestHex carry the personal data into the chain
	// (see PIIDigest); erasing a customer removes the salt.
	PIISalt      string `json:"pii_salt,omitempty"`
	PIIDigestHex string `json:"pii_digest,omitempty"`
}

// StopRecord is a customer's latest STOP while it stands (until they opt in
// again). Restorable holds the topics that START may re-grant: those active
// just before a keyword STOP; a stop reported by the provider restores nothing.
type StopRecord struct {
	At         time.Time     `json:"at"`
	ByProvider bool          `json:"by_provider"`
	Restorable []flows.Topic `json:"restorable"`
	Prompt     string        `json:"prompt"` // the STOP confirmation: the prompt on record for START
}

// Conversation is the per-(business, customer) state the engine keeps
// between turns.
type Conversation struct {
	FlowName      string          `json:"flow"`
	FlowVersion   string          `json:"flow_version"` // kept until the conversation ends
	State         flows.StateName `json:"state"`        // "" when no conversation is active
	LastPrompt    string          `json:"last_prompt"`  // the exact text last shown to the customer
	LastInboundAt time.Time       `json:"last_inbound_at"`
	Stop          *StopRecord     `json:"stop,omitempty"` // nil unless a STOP stands
	// PromptExpires is when an answer to the current state's prompt stops
	// counting as consent: when the customer service window it was sent
	// in closes, or sooner by the flow's opt_in_expiry. A prompt the guard
	// refused expires as it is made; zero means expired.
	PromptExpires time.Time `json:"prompt_expires,omitzero"`
	// WindowClosedAt is when the provider reported the customer service
	// window closed (Meta 131047, Twilio 63016): it stays closed until an
	// inbound message newer than this.
	WindowClosedAt time.Time `json:"window_closed_at,omitzero"`
	// HeldSince is when the provider reported the customer unreachable
	// (Meta 131026); zero when not held. An inbound message clears it.
	HeldSince time.Time `json:"held_since,omitzero"`
	// Vars are the conversation's variables (set and capture actions, and
	// "language" for the customer's language).
	Vars map[string]string `json:"vars,omitempty"`
	// Timers are the flow timers pending for the current state.
	Timers []Timer `json:"timers,omitempty"`
	// Handoff is the queue of the human agent the conversation was handed
	// to; the bot stays silent (but for global keywords) until it ends.
	// The handoff's timer (in Timers, with Handoff set) says when and where
	// the bot resumes.
	Handoff string `json:"handoff,omitempty"`
	// StopAsked is the question whether the customer wants to stop, while
	// it waits for their answer: asked when a message looked like an
	// opt-out without being a certain one ("stop it", "basta"). Their next
	// message answers it or goes on with the flow; either way it lapses,
	// and so it does when the bot sends anything else.
	StopAsked *StopQuestion `json:"stop_asked,omitempty"`
}

// StopQuestion is a pending question whether the customer wants to stop
// every message of the business. It changes neither consent nor the flow.
type StopQuestion struct {
	At time.Time `json:"at"`
	// Text is the customer's message that looked like an opt-out.
	Text string `json:"text"`
	// Prompt is the question as sent: the prompt on record if the
	// customer confirms.
	Prompt string `json:"prompt"`
	// Language is the language of the message's phrase when the question
	// was also asked in it ("" when it was asked in the conversation's
	// language alone), so that the answer to a NO is in it too.
	Language string `json:"language,omitempty"`
}

// Timer is a pending time transition of the conversation's current state,
// or the timeout of a handoff.
type Timer struct {
	ID         string          `json:"id"` // unique per customer: state, transition and the time it was set
	Due        time.Time       `json:"due"`
	State      flows.StateName `json:"state"`
	Transition int             `json:"transition"` // index in the state's transitions; -1 for a handoff
	// Handoff is set on a handoff's timeout: what the bot resumes with.
	Handoff *HandoffHold `json:"handoff,omitempty"`
}

// HandoffHold is what a standing handoff needs to end: the flow version
// and state the bot resumes in, and how long the handoff lasts after the
// customer's latest message.
type HandoffHold struct {
	Queue       string          `json:"queue"`
	Flow        string          `json:"flow"`
	FlowVersion string          `json:"flow_version"`
	Resume      flows.StateName `json:"resume"`
	Timeout     time.Duration   `json:"timeout"`
}

// HandoffRelease is an agent (or the business's help desk) handing a
// conversation back to the bot.
type HandoffRelease struct {
	ID       string // the release's id; repeats are ignored
	Business BusinessID
	Customer CustomerID
	// State, optional, is the state the bot resumes in instead of the
	// handoff's own.
	State flows.StateName
	Agent string // optional: who handed back, for the record
}

// DueTimer is a timer that is due, with whose it is.
type DueTimer struct {
	Business BusinessID
	Customer CustomerID
	Timer    Timer
}

// DeliveryRecord is the latest known status of one outbound message.
type DeliveryRecord struct {
	MessageID string    `json:"message_id"` // the provider's message id
	Status    string    `json:"status"`
	At        time.Time `json:"at"`
}

// SentTemplate is a template the guard allowed, counted by the frequency cap.
type SentTemplate struct {
	At    time.Time   `json:"at"`
	Topic flows.Topic `json:"topic"`
}

// LatestConsent is a topic's latest consent event, as far as the engine
// needs it.
type LatestConsent struct {
	Status ConsentStatus
	Source Source
	At     time.Time // when the engine recorded it
}

// latest returns a topic's latest consent event. A store that gave only
// its status (Latest unset) yields a source and time of "" and zero:
// unknown, which the engine reads the strict way.
func (s *Session) latest(t flows.Topic) (LatestConsent, bool) {
	if l, ok := s.Latest[t]; ok {
		return l, true
	}
	st, ok := s.Consent[t]
	return LatestConsent{Status: st}, ok
}

// Session is everything one turn needs about a customer, loaded from the
// store before the turn and replaced by the Turn after it.
type Session struct {
	Business     BusinessID
	Customer     CustomerID
	Conversation Conversation
	// Consent is the current status per topic, derived from the ledger:
	// the latest event of each topic.
	Consent map[flows.Topic]ConsentStatus
	// Latest is the latest event of each topic in Consent, with where it
	// came from and when: a grant never re-opens a topic the customer or
	// the provider stopped later than the grant's evidence.
	Latest map[flows.Topic]LatestConsent
	// RecentTemplates are the allowed templates of the last 24 hours.
	RecentTemplates []SentTemplate
	// Suppressed is true when the customer's hash is on the business's
	// suppression list (see Service.EraseCustomer); the Service sets it.
	Suppressed bool
}

// Turn is the outcome of one input, committed by the store in one
// transaction: the processed-message mark, the new conversation state, the
// consent events, the allowed templates and the outbox.
type Turn struct {
	Business BusinessID
	Customer CustomerID
	// DedupID is the input's id in its kind's namespace, made by DedupID
	// ("in:meta:5c9f0b1e2d3a4f67:wamid.HBgL1", "send:req-1"). A second
	// Commit with the same (Business, DedupID) fails with ErrDuplicate and
	// changes nothing. Empty means no deduplication.
	DedupID      string
	Conversation Conversation
	Consent      []ConsentEvent
	Templates    []SentTemplate
	// Deliveries are message status changes to remember, so a later,
	// older status never moves a message backwards.
	Deliveries []DeliveryRecord
	Effects    []Effect // published from the outbox after the commit
	At         time.Time
	// Asks are the opt-in prompts of experiments shown in the turn, with
	// the variant each showed: the denominator of an experiment's results.
	Asks []PromptAsk
	// Unsuppress, when set, is the customer hash whose suppression the
	// turn lifts: the suppressed customer opted in again in the chat. The
	// store keeps the list's row with the time it was lifted.
	Unsuppress string
}

// PromptAsk records that the engine showed a customer the opt-in prompt of
// a state with an experiment, and which variant of it. Stores keep it
// with the turn's business and customer, and erasing the customer deletes
// it.
type PromptAsk struct {
	Business    BusinessID      `json:"business"`
	Customer    CustomerID      `json:"customer"`
	Flow        string          `json:"flow"`
	FlowVersion string          `json:"flow_version"`
	State       flows.StateName `json:"state"`
	Variant     string          `json:"variant"`
	At          time.Time       `json:"at"`
}

// Inbound is a customer's message as the engine sees it.
type Inbound struct {
	ID string // provider message id; repeats are ignored
	// Provider is who delivered the message ("meta", "twilio", "dialog360";
	// empty for inputs from no provider). A repeat is a message with the
	// same provider, business, customer and ID (see DedupID).
	Provider    string
	Business    BusinessID // resolved from the sender by the caller
	Sender      string     // the business's sender address the customer wrote to
	Customer    CustomerID
	Timestamp   time.Time // the provider's timestamp: opens the 24-hour window
	Text        string
	ButtonID    string // set when the customer tapped a quick reply
	ButtonTitle string
	// Reaction is true for an emoji reaction: it opens the window like any
	// message but is no answer to the flow's question.
	Reaction bool
	// Unsupported is true for a message the provider could not pass on (a
	// type it does not support: Meta's "unsupported", 131051): it opens the
	// window, but is no answer to the flow's question, which is asked
	// again.
	Unsupported bool
	// ProviderErrors are the errors the provider reported with the
	// message; they are logged, with their code and title.
	ProviderErrors []ProviderError
}

// ProviderError is an error a provider reported with an inbound message.
type ProviderError struct {
	Code    string // "131051"
	Title   string // "Unsupported message type"
	Details string // the provider's explanation, if any
}

// MessageKind says whether an outbound message is a template or free-form.
type MessageKind string

const (
	KindTemplate MessageKind = "template"
	KindText     MessageKind = "text"
)

// SendRequest is a business asking to message a customer.
type SendRequest struct {
	ID       string // request id; repeats are ignored
	Business BusinessID
	Sender   string
	Customer CustomerID
	Kind     MessageKind
	Template string      // KindTemplate: the declared template's name
	Topic    flows.Topic // optional; must match the template's declared topic
	Language string      // optional template language
	// Params fills the template's variables: keys "1", "2"… for
	// positional ones, or the variables' names.
	Params map[string]string
	Text   string // KindText
}

// ProviderOptOut is a stop the provider reported (the customer blocked the
// business, or opted out of marketing in the app). It stays in force: START
// does not undo it.
type ProviderOptOut struct {
	ID       string
	Business BusinessID
	Sender   string // the business address the provider reported it for
	Customer CustomerID
	At       time.Time
	Topics   []flows.Topic // empty: every topic
	Reason   string        // e.g. "131050 user stopped marketing messages"
}
