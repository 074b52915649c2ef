package natsbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// Publisher is the provider adapters' and businesses' side of <P>_IN: it
// validates an envelope and publishes it on its subject with its
// Nats-Msg-Id, so a webhook the provider retries is stored once.
type Publisher struct {
	js       jetstream.JetStream
	subjects envelope.Subjects
	inStream string
}

// NewPublisher returns a Publisher for a prefix ("" means
// envelope.DefaultPrefix).
func NewPublisher(js jetstream.JetStream, prefix string) (*Publisher, error) {
	if js == nil {
		return nil, errors.New("new publisher: JetStream is required")
	}
	n, err := namesFor(prefix)
	if err != nil {
		return nil, fmt.Errorf("new publisher: %w", err)
	}
	return &Publisher{js: js, subjects: n.subjects, inStream: n.inStream}, nil
}

// Inbound publishes a customer's message on inbound.<sender>, with
// Nats-Msg-Id the provider message id. An invalid envelope is an
// *envelope.Error (matching bot.ErrBadInput) and is not published. The
// PubAck's Duplicate is true for a repeat within the duplicate window.
func (p *Publisher) Inbound(ctx context.Context, m envelope.InboundMessage) (*jetstream.PubAck, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.subjects.Inbound(m.Sender), m.MsgID(), m)
}

// SendRequest publishes a business's send request on send.<business>, with
// Nats-Msg-Id "send:" and the request id.
func (p *Publisher) SendRequest(ctx context.Context, r envelope.SendRequest) (*jetstream.PubAck, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.subjects.Send(string(r.Business)), r.MsgID(), r)
}

// Status publishes a delivery status on status.<sender>, with Nats-Msg-Id
// "status:<id>:<status>".
func (p *Publisher) Status(ctx context.Context, s envelope.DeliveryStatus) (*jetstream.PubAck, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.subjects.Status(s.Sender), s.MsgID(), s)
}

func (p *Publisher) publish(ctx context.Context, subject, msgID string, v json.Marshaler) (*jetstream.PubAck, error) {
	data, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("publish to %s: encode: %w", subject, err)
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	msg.Data = data
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(p.inStream))
	if err != nil {
		return nil, fmt.Errorf("publish to %s: %w", subject, err)
	}
	return ack, nil
}
