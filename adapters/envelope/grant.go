package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// ConsentGrantEnvelope is a WhatsApp opt-in the business collected outside
// the chat (a web form, a sign-up page, a campaign), published by the
// business's systems on <prefix>.v1.grant.<business> with Nats-Msg-Id set to
// MsgID(). The engine records it in the ledger, or refuses it with a
// grant_refused CustomerNotice saying why (see bot.HandleConsentGrant):
// the flow must let that source grant the topic (the topic's granted_by),
// the wording must name WhatsApp, the business and the topic, and no
// provider stop or newer STOP of the customer may stand.
//
//	{"v":1,"type":"consent_grant","id":"form-8812","business":"acme","customer":"+14155550100",
//	 "topic":"news","source":"web","wording":"Yes, send me news from Acme Outfitters on WhatsApp. Reply STOP to opt out.",
//	 "at":"2026-01-01T09:00:00Z"}
//
// Required: id, business, customer, topic, source (signup, sms_campaign,
// email_campaign, web, live_chat, api), wording (the exact text the
// customer agreed to), at.
type ConsentGrantEnvelope struct {
	ID       string         `json:"id"`
	Business bot.BusinessID `json:"business"`
	Customer bot.CustomerID `json:"customer"`
	Topic    flows.Topic    `json:"topic"`
	Source   bot.Source     `json:"source"`
	Wording  string         `json:"wording"`
	At       time.Time      `json:"at"`
}

// MsgID is the Nats-Msg-Id to publish the grant with: the engine's dedup
// id of the grant, "grant:" and its id (see bot.DedupID).
func (g ConsentGrantEnvelope) MsgID() string {
	return bot.DedupID(bot.InputConsentGrant, "", g.Customer, g.ID)
}

// MarshalJSON writes the envelope with "v" and "type".
func (g ConsentGrantEnvelope) MarshalJSON() ([]byte, error) {
	type body ConsentGrantEnvelope
	return marshal(TypeGrant, body(g))
}

// UnmarshalJSON decodes and validates, like DecodeGrant.
func (g *ConsentGrantEnvelope) UnmarshalJSON(data []byte) error {
	v, err := DecodeGrant(data)
	if err != nil {
		return err
	}
	*g = v
	return nil
}

// DecodeGrant decodes and validates a consent_grant envelope.
func DecodeGrant(data []byte) (ConsentGrantEnvelope, error) {
	if err := expectType(data, TypeGrant); err != nil {
		return ConsentGrantEnvelope{}, err
	}
	return decodeGrant(data)
}

func decodeGrant(data []byte) (ConsentGrantEnvelope, error) {
	type body ConsentGrantEnvelope
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeGrant, data, &w); err != nil {
		return ConsentGrantEnvelope{}, err
	}
	g := ConsentGrantEnvelope(w.body)
	c := checker{typ: TypeGrant}
	g.At = c.timestamp("at", w.At)
	g.check(&c)
	if err := c.result(); err != nil {
		return ConsentGrantEnvelope{}, err
	}
	return g, nil
}

// Validate reports the first problem, as an *Error.
func (g ConsentGrantEnvelope) Validate() error {
	c := checker{typ: TypeGrant}
	g.check(&c)
	return c.result()
}

func (g ConsentGrantEnvelope) check(c *checker) {
	c.id("id", g.ID)
	c.required("business", string(g.Business))
	c.customer("customer", g.Customer)
	c.required("topic", string(g.Topic))
	c.oneOf("source", string(g.Source), string(bot.SourceSignup), string(bot.SourceSMSCampaign),
		string(bot.SourceEmailCampaign), string(bot.SourceWeb), string(bot.SourceLiveChat), string(bot.SourceAPI))
	c.required("wording", g.Wording)
	c.present("at", g.At)
}

// ToBot converts to the engine's ConsentGrant.
func (g ConsentGrantEnvelope) ToBot() (bot.ConsentGrant, error) {
	if err := g.Validate(); err != nil {
		return bot.ConsentGrant{}, err
	}
	return bot.ConsentGrant{ID: g.ID, Business: g.Business, Customer: g.Customer, Topic: g.Topic,
		Source: g.Source, Wording: g.Wording, At: g.At}, nil
}
