package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// ConsentChange is one entry of the consent ledger, published by the
// engine's outbox relay on <prefix>.v1.consent.<business> with Nats-Msg-Id
// set to the outbox effect id, for the business's systems (CRM, marketing
// tools) to mirror. Its fields are exactly bot.ConsentEvent's, with the
// evidence of what caused the change.
//
//	{"v":1,"type":"consent_change","id":"acme/in:meta:40d3f4e02db27d66:wamid.HBgL1/0","customer":"+14155550100",
//	 "business":"acme","channel":"whatsapp","topic":"order_updates","category":"utility",
//	 "status":"opted_in","source":"in_channel","trigger":"button optin_yes",
//	 "inbound_id":"wamid.HBgL1","inbound_text":"Yes please",
//	 "prompt":"Acme Outfitters here on WhatsApp…","flow":"retail",
//	 "flow_version":"3f2a9c1b7d0e","at":"2026-01-01T09:30:00Z"}
//
// Required: id, customer, business, channel, topic, status (opted_in,
// opted_out, or resumed: the customer turned marketing back on in the app,
// a record that re-grants nothing), source, at. The sources are those of bot.Sources; more may be
// added within version 1, so a reader accepts one it does not know. topic "all" with status
// opted_out ends every topic. inbound_text and prompt are the customer's
// and the bot's exact words: personal data, treat accordingly.
type ConsentChange struct {
	ID          string            `json:"id"`
	Customer    bot.CustomerID    `json:"customer"`
	Business    bot.BusinessID    `json:"business"`
	Channel     string            `json:"channel"`
	Topic       flows.Topic       `json:"topic"`
	Category    flows.Category    `json:"category"`
	Status      bot.ConsentStatus `json:"status"`
	Source      bot.Source        `json:"source"`
	Trigger     string            `json:"trigger"`
	InboundID   string            `json:"inbound_id"`
	InboundText string            `json:"inbound_text"`
	Prompt      string            `json:"prompt"`
	FlowName    string            `json:"flow"`
	FlowVersion string            `json:"flow_version"`
	At          time.Time         `json:"at"`
	// Sender, Language and ProviderAt are evidence too (docs/ledger.md).
	Sender     string    `json:"sender,omitempty"`
	Language   string    `json:"language,omitempty"`
	ProviderAt time.Time `json:"provider_at,omitzero"`
	// The hash-chain links are set by the store when it appends the
	// event, after the effect was queued: they are absent here. The
	// ledger (optinbot ledger, the business API's export) has them.
	PrevHash     string `json:"prev_hash,omitempty"`
	Hash         string `json:"hash,omitempty"`
	PIISalt      string `json:"pii_salt,omitempty"`
	PIIDigestHex string `json:"pii_digest,omitempty"`
}

// ConsentChangeOf copies a ledger event into its envelope.
func ConsentChangeOf(e bot.ConsentEvent) ConsentChange {
	return ConsentChange{
		ID: e.ID, Customer: e.Customer, Business: e.Business, Channel: e.Channel,
		Topic: e.Topic, Category: e.Category, Status: e.Status, Source: e.Source,
		Trigger: e.Trigger, InboundID: e.InboundID, InboundText: e.InboundText,
		Prompt: e.Prompt, FlowName: e.FlowName, FlowVersion: e.FlowVersion, At: e.At,
		Sender: e.Sender, Language: e.Language, ProviderAt: e.ProviderAt,
		PrevHash: e.PrevHash, Hash: e.Hash, PIISalt: e.PIISalt, PIIDigestHex: e.PIIDigestHex,
	}
}

// ToBot converts back to the ledger event.
func (c ConsentChange) ToBot() bot.ConsentEvent {
	return bot.ConsentEvent{
		ID: c.ID, Customer: c.Customer, Business: c.Business, Channel: c.Channel,
		Topic: c.Topic, Category: c.Category, Status: c.Status, Source: c.Source,
		Trigger: c.Trigger, InboundID: c.InboundID, InboundText: c.InboundText,
		Prompt: c.Prompt, FlowName: c.FlowName, FlowVersion: c.FlowVersion, At: c.At,
		Sender: c.Sender, Language: c.Language, ProviderAt: c.ProviderAt,
		PrevHash: c.PrevHash, Hash: c.Hash, PIISalt: c.PIISalt, PIIDigestHex: c.PIIDigestHex,
	}
}

// MarshalJSON writes the envelope with "v" and "type".
func (c ConsentChange) MarshalJSON() ([]byte, error) {
	type body ConsentChange
	return marshal(TypeConsent, body(c))
}

// UnmarshalJSON decodes and validates, like DecodeConsent.
func (c *ConsentChange) UnmarshalJSON(data []byte) error {
	v, err := DecodeConsent(data)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// DecodeConsent decodes and validates a consent_change envelope.
func DecodeConsent(data []byte) (ConsentChange, error) {
	if err := expectType(data, TypeConsent); err != nil {
		return ConsentChange{}, err
	}
	return decodeConsent(data)
}

func decodeConsent(data []byte) (ConsentChange, error) {
	type body ConsentChange
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeConsent, data, &w); err != nil {
		return ConsentChange{}, err
	}
	cc := ConsentChange(w.body)
	c := checker{typ: TypeConsent}
	cc.At = c.timestamp("at", w.At)
	cc.check(&c)
	if err := c.result(); err != nil {
		return ConsentChange{}, err
	}
	return cc, nil
}

// Validate reports the first problem that would make the envelope
// undecodable, as an *Error.
func (cc ConsentChange) Validate() error {
	c := checker{typ: TypeConsent}
	cc.check(&c)
	return c.result()
}

func (cc ConsentChange) check(c *checker) {
	c.id("id", cc.ID)
	c.customer("customer", cc.Customer)
	c.required("business", string(cc.Business))
	c.required("channel", cc.Channel)
	c.required("topic", string(cc.Topic))
	c.oneOf("status", string(cc.Status), string(bot.OptedIn), string(bot.OptedOut), string(bot.Resumed))
	// Any source is accepted: sources may be added within version 1.
	c.required("source", string(cc.Source))
	c.present("at", cc.At)
}
