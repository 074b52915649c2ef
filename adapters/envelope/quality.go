package envelope

import (
	"time"

	"github.com/optinbot/optinbot/bot"
)

// QualityAlert says that a business's sender number was downgraded: its
// quality rating fell (GREEN to YELLOW or RED, YELLOW to RED) or its
// messaging limit did. It names what the business did in the 24 hours
// before: the templates sent, by topic, and the opt-in prompts its
// customers answered, by flow, version and answer. Published by the engine
// on <prefix>.v1.alert.<business> with Nats-Msg-Id "alert:" and its id
// (the provider event's id).
//
//	{"v":1,"type":"quality_alert","id":"quality:15550101234:1767260000:FLAGGED","business":"acme",
//	 "provider":"meta","sender":"15550101234","event":"FLAGGED","rating":"RED","previous_rating":"GREEN",
//	 "tier":"TIER_1K","previous_tier":"TIER_1K","at":"2026-01-01T09:33:20Z",
//	 "preceding":{"since":"2025-12-31T09:33:20Z","until":"2026-01-01T09:33:20Z",
//	  "templates":[{"topic":"order_updates","sent":412}],
//	  "prompts":[{"flow":"retail","version":"3","status":"opted_in","count":57}]}}
//
// Required: id, business, sender, rating, at.
type QualityAlert struct {
	ID             string             `json:"id"`
	Business       bot.BusinessID     `json:"business"`
	Provider       string             `json:"provider,omitempty"`
	Sender         string             `json:"sender"`
	Event          string             `json:"event,omitempty"`
	Rating         bot.QualityRating  `json:"rating"`
	PreviousRating bot.QualityRating  `json:"previous_rating,omitempty"`
	Tier           string             `json:"tier,omitempty"`
	PreviousTier   string             `json:"previous_tier,omitempty"`
	At             time.Time          `json:"at"`
	Preceding      bot.QualityContext `json:"preceding"`
}

// MsgID is the Nats-Msg-Id to publish the alert with: "alert:" and its id.
func (a QualityAlert) MsgID() string { return "alert:" + a.ID }

// MarshalJSON writes the envelope with "v" and "type".
func (a QualityAlert) MarshalJSON() ([]byte, error) {
	type body QualityAlert
	return marshal(TypeQualityAlert, body(a))
}

// UnmarshalJSON decodes and validates, like DecodeQualityAlert.
func (a *QualityAlert) UnmarshalJSON(data []byte) error {
	v, err := DecodeQualityAlert(data)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// DecodeQualityAlert decodes and validates a quality_alert envelope.
func DecodeQualityAlert(data []byte) (QualityAlert, error) {
	if err := expectType(data, TypeQualityAlert); err != nil {
		return QualityAlert{}, err
	}
	return decodeQualityAlert(data)
}

func decodeQualityAlert(data []byte) (QualityAlert, error) {
	type body QualityAlert
	var w struct {
		body
		At *string `json:"at"`
	}
	if err := unmarshal(TypeQualityAlert, data, &w); err != nil {
		return QualityAlert{}, err
	}
	a := QualityAlert(w.body)
	c := checker{typ: TypeQualityAlert}
	a.At = c.timestamp("at", w.At)
	a.check(&c)
	if err := c.result(); err != nil {
		return QualityAlert{}, err
	}
	return a, nil
}

// Validate reports the first problem, as an *Error.
func (a QualityAlert) Validate() error {
	c := checker{typ: TypeQualityAlert}
	a.check(&c)
	return c.result()
}

func (a QualityAlert) check(c *checker) {
	c.id("id", a.ID)
	c.required("business", string(a.Business))
	c.required("sender", a.Sender)
	c.required("rating", string(a.Rating))
	c.present("at", a.At)
}
