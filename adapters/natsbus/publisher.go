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

// Publisher is the provider adapters' and businesses' side of the bus: it
// validates an envelope and publishes it on its subject with its
// Nats-Msg-Id, waiting for the PubAck, so a webhook the provider retries
// is stored once. Inputs for the engine (inbound messages, send requests,
// delivery statuses, consent signals) go to <P>_IN; provider events and
// dead letters, which are for the business's systems and operators, to
// <P>_OUT. It is safe for concurrent use.
type Publisher struct {
	js        jetstream.JetStream
	subjects  envelope.Subjects
	inStream  string
	outStream string
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
	return &Publisher{js: js, subjects: n.subjects, inStream: n.inStream, outStream: n.outStream}, nil
}

// Subjects returns the subjects of the Publisher's prefix.
func (p *Publisher) Subjects() envelope.Subjects { return p.subjects }

// Inbound publishes a customer's message on inbound.<sender>, with
// Nats-Msg-Id the provider message id. An invalid envelope is an
// *envelope.Error (matching bot.ErrBadInput) and is not published. The
// PubAck's Duplicate is true for a repeat within the duplicate window.
func (p *Publisher) Inbound(ctx context.Context, m envelope.InboundMessage) (*jetstream.PubAck, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.inStream, p.subjects.Inbound(m.Sender), m.MsgID(), m)
}

// SendRequest publishes a business's send request on send.<business>, with
// Nats-Msg-Id "send:" and the request id.
func (p *Publisher) SendRequest(ctx context.Context, r envelope.SendRequest) (*jetstream.PubAck, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.inStream, p.subjects.Send(string(r.Business)), r.MsgID(), r)
}

// Status publishes a delivery status on status.<sender>, with Nats-Msg-Id
// "status:<id>:<status>".
func (p *Publisher) Status(ctx context.Context, s envelope.DeliveryStatus) (*jetstream.PubAck, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.inStream, p.subjects.Status(s.Sender), s.MsgID(), s)
}

// Release publishes an agent's hand back on release.<business>, with
// Nats-Msg-Id "release:" and its id.
func (p *Publisher) Release(ctx context.Context, r envelope.HandoffRelease) (*jetstream.PubAck, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.inStream, p.subjects.Release(string(r.Business)), r.MsgID(), r)
}

// Signal publishes a consent signal on signal.<sender>, with Nats-Msg-Id
// "signal:" and its id.
func (p *Publisher) Signal(ctx context.Context, s envelope.ConsentSignal) (*jetstream.PubAck, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.inStream, p.subjects.Signal(s.Sender), s.MsgID(), s)
}

// Event publishes a provider event on event.<sender> (<P>_OUT), with
// Nats-Msg-Id "event:" and its id.
func (p *Publisher) Event(ctx context.Context, e envelope.ProviderEvent) (*jetstream.PubAck, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.outStream, p.subjects.Event(e.Sender), e.MsgID(), e)
}

// Alert publishes a quality alert on alert.<business> (<P>_OUT), with
// Nats-Msg-Id "alert:" and its id.
func (p *Publisher) Alert(ctx context.Context, a envelope.QualityAlert) (*jetstream.PubAck, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.outStream, p.subjects.Alert(string(a.Business)), a.MsgID(), a)
}

// DeadLetter publishes a dead letter on deadletter.<provider> (<P>_OUT),
// with Nats-Msg-Id "dead:" and its id.
func (p *Publisher) DeadLetter(ctx context.Context, d envelope.DeadLetter) (*jetstream.PubAck, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.outStream, p.subjects.DeadLetter(d.Provider), d.MsgID(), d)
}

// Decision publishes a send decision on decision.<business> (<P>_OUT), with
// Nats-Msg-Id its id. The engine's decisions come through its outbox; a
// sender uses this for a late refusal (the guard's recheck right before
// the provider call).
func (p *Publisher) Decision(ctx context.Context, d envelope.SendDecision) (*jetstream.PubAck, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return p.publish(ctx, p.outStream, p.subjects.Decision(string(d.Business)), d.ID, d)
}

// PublishBatch publishes every item of a webhook body: inbound messages,
// statuses and signals to <P>_IN, then events and dead letters to <P>_OUT,
// each with its Nats-Msg-Id and waiting for its PubAck, in that order. An
// item repeated within the batch (same stream and Nats-Msg-Id) is
// published once.
//
// It returns how many items were not stored because they were repeats,
// within the batch or within the stream's duplicate window. The batch is
// validated first: an invalid item is an error wrapping its *envelope.Error
// (matching bot.ErrBadInput), and nothing is published. Any other error means some
// items may not be stored: publish the whole batch again (the stored ones
// are then dropped as duplicates).
func (p *Publisher) PublishBatch(ctx context.Context, b envelope.Batch) (duplicates int, err error) {
	items, err := p.batchItems(b)
	if err != nil {
		return 0, err
	}
	type key struct{ stream, msgID string }
	seen := make(map[key]bool, len(items))
	for _, it := range items {
		k := key{it.stream, it.msgID}
		if seen[k] {
			duplicates++
			continue
		}
		seen[k] = true
		ack, err := p.publish(ctx, it.stream, it.subject, it.msgID, it.v)
		if err != nil {
			return duplicates, err
		}
		if ack.Duplicate {
			duplicates++
		}
	}
	return duplicates, nil
}

type batchItem struct {
	stream, subject, msgID string
	v                      json.Marshaler
}

// batchItems validates a batch and lists its items in publication order.
func (p *Publisher) batchItems(b envelope.Batch) ([]batchItem, error) {
	items := make([]batchItem, 0, b.Len())
	bad := func(what string, i int, err error) error {
		return fmt.Errorf("batch %s %d: %w", what, i, err)
	}
	for i, m := range b.Inbound {
		if err := m.Validate(); err != nil {
			return nil, bad("inbound message", i, err)
		}
		items = append(items, batchItem{p.inStream, p.subjects.Inbound(m.Sender), m.MsgID(), m})
	}
	for i, s := range b.Statuses {
		if err := s.Validate(); err != nil {
			return nil, bad("status", i, err)
		}
		items = append(items, batchItem{p.inStream, p.subjects.Status(s.Sender), s.MsgID(), s})
	}
	for i, s := range b.Signals {
		if err := s.Validate(); err != nil {
			return nil, bad("signal", i, err)
		}
		items = append(items, batchItem{p.inStream, p.subjects.Signal(s.Sender), s.MsgID(), s})
	}
	for i, e := range b.Events {
		if err := e.Validate(); err != nil {
			return nil, bad("event", i, err)
		}
		items = append(items, batchItem{p.outStream, p.subjects.Event(e.Sender), e.MsgID(), e})
	}
	for i, d := range b.DeadLetters {
		if err := d.Validate(); err != nil {
			return nil, bad("dead letter", i, err)
		}
		items = append(items, batchItem{p.outStream, p.subjects.DeadLetter(d.Provider), d.MsgID(), d})
	}
	return items, nil
}

func (p *Publisher) publish(ctx context.Context, stream, subject, msgID string, v json.Marshaler) (*jetstream.PubAck, error) {
	data, err := v.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("publish to %s: encode: %w", subject, err)
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	msg.Data = data
	ack, err := p.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(stream))
	if err != nil {
		return nil, fmt.Errorf("publish to %s: %w", subject, err)
	}
	return ack, nil
}
