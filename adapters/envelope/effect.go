package envelope

import (
	"encoding/json"
	"fmt"
	"maps"

	"github.com/optinbot/optinbot/bot"
)

// Published is one envelope to publish for an outbox effect.
type Published struct {
	Kind SubjectKind // SubjectOutbound, SubjectConsent, SubjectDecision, SubjectDelivery or SubjectNotice
	Key  string      // the subject's key before Token: the sender (outbound) or the business
	// MsgID is the Nats-Msg-Id: the effect's id, or the effect's id plus
	// "/decision" for the decision that goes with an allowed send request.
	// Deterministic, so republishing an effect is deduplicated.
	MsgID string
	Type  string // the envelope type, e.g. TypeOutbound
	Data  []byte // the envelope's JSON
}

// Subject returns the subject to publish on.
func (p Published) Subject(s Subjects) string { return s.For(p.Kind, p.Key) }

// DecisionSuffix is appended to an allowed message's effect id to make the
// id (and Nats-Msg-Id) of the SendDecision that goes with it.
const DecisionSuffix = "/decision"

// FromEffect returns the envelopes an outbox effect is published as:
//
//	EffectMessage  an OutboundMessage on outbound.<sender>, plus an allowed
//	               SendDecision on decision.<business> when it answers a
//	               send request (RequestID set)
//	EffectConsent  a ConsentChange on consent.<business>
//	EffectRefused  a refused SendDecision on decision.<business>
//	EffectDelivery a DeliveryStatus on delivery.<business> (business set,
//	               id the provider message id)
//	EffectNotice   a CustomerNotice on notice.<business>
//	EffectHandoff  a HandoffRequest on handoff.<business>
//	EffectHandoffMessage a HandoffMessage on handoff.<business>
//	EffectHandoffEnded   a HandoffEnded on handoff.<business>
//
// Every envelope's Nats-Msg-Id is the effect id (plus DecisionSuffix for
// the decision of an allowed send request).
//
// An effect of unknown kind or without its payload is an error (a bug in
// the engine, or an effect from a newer one): the caller should leave it in
// the outbox rather than drop it. The error names the effect id and kind
// only.
func FromEffect(e bot.Effect) ([]Published, error) {
	switch e.Kind {
	case bot.EffectMessage:
		if e.Message == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a message", e.ID, e.Kind)
		}
		m := e.Message
		out := OutboundMessage{
			ID: e.ID, Business: e.Business, Sender: e.Sender, To: e.Customer,
			InReplyTo: e.InReplyTo, RequestID: e.RequestID,
			Kind: m.Kind, Text: m.Text, Template: m.Template, Language: m.Language,
			Topic: m.Topic, Category: m.Category, Params: maps.Clone(m.Params),
		}
		for _, b := range m.Buttons {
			out.Buttons = append(out.Buttons, Button{ID: b.ID, Title: b.Title})
		}
		if m.List != nil {
			out.List = &List{Button: m.List.Button}
			for _, r := range m.List.Rows {
				out.List.Rows = append(out.List.Rows, ListRow{ID: r.ID, Title: r.Title, Description: r.Description})
			}
		}
		pubs := make([]Published, 0, 2)
		p, err := published(e, SubjectOutbound, e.Sender, e.ID, TypeOutbound, out)
		if err != nil {
			return nil, err
		}
		pubs = append(pubs, p)
		if e.RequestID != "" {
			d := SendDecision{
				ID: e.ID + DecisionSuffix, RequestID: e.RequestID, Business: e.Business, Customer: e.Customer,
				Kind: m.Kind, Template: m.Template, Topic: m.Topic, Allowed: true, InReplyTo: e.InReplyTo,
			}
			p, err := published(e, SubjectDecision, string(e.Business), d.ID, TypeDecision, d)
			if err != nil {
				return nil, err
			}
			pubs = append(pubs, p)
		}
		return pubs, nil
	case bot.EffectConsent:
		if e.Consent == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a consent event", e.ID, e.Kind)
		}
		p, err := published(e, SubjectConsent, string(e.Business), e.ID, TypeConsent, ConsentChangeOf(*e.Consent))
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectRefused:
		if e.Refusal == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a refusal", e.ID, e.Kind)
		}
		r := e.Refusal
		d := SendDecision{
			ID: e.ID, RequestID: e.RequestID, Business: e.Business, Customer: e.Customer,
			Kind: r.Kind, Template: r.Template, Topic: r.Topic, Allowed: false, Reason: r.Reason, InReplyTo: e.InReplyTo,
		}
		p, err := published(e, SubjectDecision, string(e.Business), e.ID, TypeDecision, d)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectDelivery:
		if e.Delivery == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a delivery", e.ID, e.Kind)
		}
		d := e.Delivery
		s := DeliveryStatus{
			ID: d.MessageID, Sender: e.Sender, To: e.Customer, Status: d.Status, Timestamp: d.At,
			ErrorCode: d.ErrorCode, ErrorTitle: d.ErrorTitle, Signal: d.Signal, OutboundID: d.OutboundID,
			Business: e.Business,
		}
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("effect %q: kind %q: %w", e.ID, e.Kind, err)
		}
		p, err := published(e, SubjectDelivery, string(e.Business), e.ID, TypeStatus, s)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectNotice:
		if e.Notice == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a notice", e.ID, e.Kind)
		}
		n := CustomerNotice{
			ID: e.ID, Business: e.Business, Customer: e.Customer, Sender: e.Sender,
			Kind: e.Notice.Kind, At: e.Notice.At, Detail: e.Notice.Detail,
		}
		if g := e.Notice.Grant; g != nil {
			n.Grant = &NoticeGrant{ID: g.ID, Topic: g.Topic, Source: g.Source, Reason: g.Reason}
		}
		if err := n.Validate(); err != nil {
			return nil, fmt.Errorf("effect %q: kind %q: %w", e.ID, e.Kind, err)
		}
		p, err := published(e, SubjectNotice, string(e.Business), e.ID, TypeNotice, n)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectHandoff:
		if e.Handoff == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a handoff", e.ID, e.Kind)
		}
		h := HandoffRequest{ID: e.ID, Business: e.Business, Customer: e.Customer, Sender: e.Sender,
			Queue: e.Handoff.Queue, Flow: e.Handoff.Flow, State: e.Handoff.State, Vars: maps.Clone(e.Handoff.Vars), At: e.Handoff.At,
			Until: e.Handoff.Until, Resume: e.Handoff.Resume}
		if err := h.Validate(); err != nil {
			return nil, fmt.Errorf("effect %q: kind %q: %w", e.ID, e.Kind, err)
		}
		p, err := published(e, SubjectHandoff, string(e.Business), e.ID, TypeHandoff, h)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectHandoffMessage:
		if e.HandoffMessage == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a handoff message", e.ID, e.Kind)
		}
		hm := e.HandoffMessage
		m := HandoffMessage{ID: e.ID, Business: e.Business, Customer: e.Customer, Sender: e.Sender,
			Queue: hm.Queue, InboundID: hm.InboundID, Text: hm.Text, At: hm.At, Until: hm.Until}
		if hm.ButtonID != "" {
			m.Button = &Button{ID: hm.ButtonID, Title: hm.ButtonTitle}
		}
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("effect %q: kind %q: %w", e.ID, e.Kind, err)
		}
		p, err := published(e, SubjectHandoff, string(e.Business), e.ID, TypeHandoffMessage, m)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	case bot.EffectHandoffEnded:
		if e.HandoffEnded == nil {
			return nil, fmt.Errorf("effect %q: kind %q without a handoff end", e.ID, e.Kind)
		}
		he := e.HandoffEnded
		x := HandoffEnded{ID: e.ID, Business: e.Business, Customer: e.Customer, Sender: e.Sender,
			Queue: he.Queue, Reason: string(he.Reason), Resume: he.Resume, Agent: he.Agent, At: he.At}
		if err := x.Validate(); err != nil {
			return nil, fmt.Errorf("effect %q: kind %q: %w", e.ID, e.Kind, err)
		}
		p, err := published(e, SubjectHandoff, string(e.Business), e.ID, TypeHandoffEnded, x)
		if err != nil {
			return nil, err
		}
		return []Published{p}, nil
	}
	return nil, fmt.Errorf("effect %q: unknown kind %q", e.ID, e.Kind)
}

func published(e bot.Effect, kind SubjectKind, key, msgID, typ string, v json.Marshaler) (Published, error) {
	if e.ID == "" {
		return Published{}, fmt.Errorf("effect of kind %q has no id: it cannot be deduplicated", e.Kind)
	}
	data, err := v.MarshalJSON()
	if err != nil {
		return Published{}, fmt.Errorf("effect %q: encode %s: %w", e.ID, typ, err)
	}
	return Published{Kind: kind, Key: key, MsgID: msgID, Type: typ, Data: data}, nil
}
