package envelope

import "time"

// DeadLetter is an item of a valid webhook body that could not be
// normalised (a bad timestamp, a sender that is no phone number…). The rest
// of the body goes through; the item is kept here, with why, instead of
// being lost. Published on <prefix>.v1.deadletter.<provider> with
// Nats-Msg-Id set to MsgID().
//
//	{"v":1,"type":"dead_letter","id":"meta:wamid.HBgLbad","provider":"meta",
//	 "sender":"106540352242922","reason":"messages[1].timestamp \"yesterday\" is not unix seconds",
//	 "item":"{\"from\":\"16315551181\",\"id\":\"wamid.HBgLbad\",\"timestamp\":\"yesterday\"}",
//	 "received_at":"2026-01-01T09:30:00Z"}
//
// Required: id, provider, reason, received_at. item is the raw item as the
// provider sent it (it may hold personal data: the dead-letter subject is
// for operators).
type DeadLetter struct {
	ID         string    `json:"id"`
	Provider   string    `json:"provider"`
	Sender     string    `json:"sender,omitempty"`
	Reason     string    `json:"reason"`
	Item       string    `json:"item,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// MsgID is the Nats-Msg-Id to publish the dead letter with.
func (d DeadLetter) MsgID() string { return "dead:" + d.ID }

// MarshalJSON writes the envelope with "v" and "type".
func (d DeadLetter) MarshalJSON() ([]byte, error) {
	type body DeadLetter
	return marshal(TypeDeadLetter, body(d))
}

// UnmarshalJSON decodes and validates, like DecodeDeadLetter.
func (d *DeadLetter) UnmarshalJSON(data []byte) error {
	v, err := DecodeDeadLetter(data)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DecodeDeadLetter decodes and validates a dead_letter envelope.
func DecodeDeadLetter(data []byte) (DeadLetter, error) {
	if err := expectType(data, TypeDeadLetter); err != nil {
		return DeadLetter{}, err
	}
	return decodeDeadLetter(data)
}

func decodeDeadLetter(data []byte) (DeadLetter, error) {
	type body DeadLetter
	var w struct {
		body
		ReceivedAt *string `json:"received_at"`
	}
	if err := unmarshal(TypeDeadLetter, data, &w); err != nil {
		return DeadLetter{}, err
	}
	d := DeadLetter(w.body)
	c := checker{typ: TypeDeadLetter}
	d.ReceivedAt = c.timestamp("received_at", w.ReceivedAt)
	d.check(&c)
	if err := c.result(); err != nil {
		return DeadLetter{}, err
	}
	return d, nil
}

// Validate reports the first problem, as an *Error.
func (d DeadLetter) Validate() error {
	c := checker{typ: TypeDeadLetter}
	d.check(&c)
	return c.result()
}

func (d DeadLetter) check(c *checker) {
	c.id("id", d.ID)
	c.required("provider", d.Provider)
	c.required("reason", d.Reason)
	c.present("received_at", d.ReceivedAt)
}
