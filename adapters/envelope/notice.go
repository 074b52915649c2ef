package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// CustomerNotice is a customer-level fact the engine recorded without a
// consent change, for the business's systems: the customer service window
// closed early, business-initiated sends are held because the provider
// reported the customer unreachable, marketing was deferred by the
// provider, the customer resumed marketing messages in WhatsApp (which
// re-grants nothing) or stopped them while the business has no marketing
// topic to end. Published by the engine's outbox relay on
// <prefix>.v1.notice.<business> with Nats-Msg-Id set to its id (the effect
// id).
//
//	{"v":1,"type":"customer_notice","id":"acme/status:wamid.HBgL2:failed/0","business":"acme",
//	 "customer":"+14155550100","sender":"106540352242922","kind":"held_undeliverable",
//	 "at":"2026-01-01T09:31:00Z","detail":"131026 Message undeliverable"}
//
// A refused consent grant is a notice of kind grant_refused whose grant
// names it, with the reason (bot.GrantReasons) and, in detail, why in
// words:
//
//	{"v":1,"type":"customer_notice","id":"acme/grant:crm-77/0","business":"acme",
//	 "customer":"+14155550100","kind":"grant_refused","at":"2026-01-01T09:31:00Z",
//	 "detail":"consent grant crm-77: its wording does not say WhatsApp, …",
//	 "grant":{"id":"crm-77","topic":"order_updates","source":"api","reason":"wording_incomplete"}}
//
// Required: id, business, customer, kind, at; grant for grant_refused. The
// kinds are window_closed, held_undeliverable, deferred, marketing_resumed,
// marketing_stopped and grant_refused; more may be added within version 1,
// so a reader ignores a kind it does not know.
type CustomerNotice struct {
	ID       string         `json:"id"`
	Business bot.BusinessID `json:"business"`
	Customer bot.CustomerID `json:"customer"`
	Sender   string         `json:"sender,omitempty"`
	Kind     string         `json:"kind"`
	At       time.Time      `json:"at"`
	Detail   string         `json:"detail,omitempty"`
	Grant    *NoticeGrant   `json:"grant,omitempty"`
}

// NoticeGrant is the consent grant a grant_refused notice is about.
type NoticeGrant struct {
	ID     string          `json:"id"`
	Topic  flows.Topic     `json:"topic"`
	Source bot.Source      `json:"source"`
	Reason bot.GrantReason `json:"reason"` // open list, see bot.GrantReasons
}

// The notice kinds (bot.Notice*).
const (
	NoticeWindowClosed     = bot.NoticeWindowClosed
	NoticeHeld             = bot.NoticeHeld
	NoticeDeferred         = bot.NoticeDeferred
	NoticeMarketingResumed = bot.NoticeMarketingResumed
	NoticeMarketingStopped = bot.NoticeMarketingStopped
	NoticeGrantRefused     = bot.NoticeGrantRefused
)

// MarshalJSON writes the envelope with "v" and "type".
func (n CustomerNotice) MarshalJSON() ([]byte, error) {
	type body CustomerNotice
	return marshal(TypeNotice, body(n))
}

// UnmarshalJSON decodes and validates, like DecodeNotice.
func (n *CustomerNotice) UnmarshalJSON(data []byte) error {
	v, err := DecodeNotice(data)
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// DecodeNotice decodes and validates a customer_notice envelope.
func DecodeNotice(data []byte) (CustomerNotice, error) {
	if err := expectType(data, TypeNotice); err != nil {
		return CustomerNotice{}, err
	}
	return decodeNotice(data)
}

func decodeNotice(data []byte) (CustomerNotice, error) {
	type body CustomerNotice
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeNotice, data, &w); err != nil {
		return CustomerNotice{}, err
	}
	n := CustomerNotice(w.body)
	c := checker{typ: TypeNotice}
	n.At = c.timestamp("at", w.At)
	n.check(&c)
	if err := c.result(); err != nil {
		return CustomerNotice{}, err
	}
	return n, nil
}

// Validate reports the first problem, as an *Error.
func (n CustomerNotice) Validate() error {
	c := checker{typ: TypeNotice}
	n.check(&c)
	return c.result()
}

func (n CustomerNotice) check(c *checker) {
	c.id("id", n.ID)
	c.required("business", string(n.Business))
	c.customer("customer", n.Customer)
	// Any kind is accepted: kinds may be added within version 1.
	c.required("kind", n.Kind)
	c.present("at", n.At)
	if n.Kind == NoticeGrantRefused {
		if n.Grant == nil {
			c.fail("grant", ErrMissing, "missing: a grant_refused notice names the grant")
			return
		}
		c.required("grant.id", n.Grant.ID)
		c.required("grant.reason", string(n.Grant.Reason))
	}
}
