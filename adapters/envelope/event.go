package envelope

import "time"

// ProviderEvent is an account-level event from the provider, for the
// business's systems: a phone number's quality rating changed, a template
// was approved, rejected or paused. Published by a provider adapter on
// <prefix>.v1.event.<sender> with Nats-Msg-Id set to MsgID().
//
//	{"v":1,"type":"provider_event","id":"quality:106540352242922:1767260000",
//	 "provider":"meta","sender":"106540352242922","event":"quality_update",
//	 "timestamp":"2026-01-01T09:33:20Z","detail":{"event":"FLAGGED","current_limit":"TIER_1K"}}
//
// Required: id, provider, event (quality_update or template_status),
// timestamp. detail holds the provider's fields as strings.
type ProviderEvent struct {
	ID        string            `json:"id"`
	Provider  string            `json:"provider"`
	Sender    string            `json:"sender,omitempty"`
	Event     string            `json:"event"`
	Timestamp time.Time         `json:"timestamp"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// The provider events.
const (
	EventQualityUpdate  = "quality_update"
	EventTemplateStatus = "template_status"
)

// MsgID is the Nats-Msg-Id to publish the event with: "event:" and its id.
func (e ProviderEvent) MsgID() string { return "event:" + e.ID }

// MarshalJSON writes the envelope with "v" and "type".
func (e ProviderEvent) MarshalJSON() ([]byte, error) {
	type body ProviderEvent
	return marshal(TypeEvent, body(e))
}

// UnmarshalJSON decodes and validates, like DecodeEvent.
func (e *ProviderEvent) UnmarshalJSON(data []byte) error {
	v, err := DecodeEvent(data)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// DecodeEvent decodes and validates a provider_event envelope.
func DecodeEvent(data []byte) (ProviderEvent, error) {
	if err := expectType(data, TypeEvent); err != nil {
		return ProviderEvent{}, err
	}
	return decodeEvent(data)
}

func decodeEvent(data []byte) (ProviderEvent, error) {
	type body ProviderEvent
	var w struct {
		body
		Timestamp *string `json:"timestamp"`
	}
	if err := unmarshal(TypeEvent, data, &w); err != nil {
		return ProviderEvent{}, err
	}
	e := ProviderEvent(w.body)
	c := checker{typ: TypeEvent}
	e.Timestamp = c.timestamp("timestamp", w.Timestamp)
	e.check(&c)
	if err := c.result(); err != nil {
		return ProviderEvent{}, err
	}
	return e, nil
}

// Validate reports the first problem, as an *Error.
func (e ProviderEvent) Validate() error {
	c := checker{typ: TypeEvent}
	e.check(&c)
	return c.result()
}

func (e ProviderEvent) check(c *checker) {
	c.id("id", e.ID)
	c.required("provider", e.Provider)
	c.oneOf("event", e.Event, EventQualityUpdate, EventTemplateStatus)
	c.present("timestamp", e.Timestamp)
}
