package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// ConsentGrant is a WhatsApp opt-in collected outside the chat: a web form,
// a sign-up page, an SMS or email campaign, a live chat. The flow decides
// which sources may grant which topic (a topic's granted_by).
type ConsentGrant struct {
	ID       string // the grant's id at its source; repeats are ignored
	Business BusinessID
	Customer CustomerID
	Topic    flows.Topic
	Source   Source
	// Wording is the exact opt-in text the customer agreed to at the
	// source: the evidence the ledger keeps as the prompt on record.
	Wording string
	At      time.Time // when the customer agreed, at the source
}

// InputConsentGrant is a consent grant from another source.
const InputConsentGrant InputKind = "consent_grant"

// HandleConsentGrant records an opt-in collected outside the chat. It fails
// with ErrBadInput when the flow does not let that source grant the topic,
// or when the grant carries no wording.
func (biz *Business) HandleConsentGrant(s *Session, g ConsentGrant, now time.Time) (Turn, error) {
	topic, ok := biz.Machine.Flow.Topic(g.Topic)
	if !ok {
		return Turn{}, fmt.Errorf("consent grant %s: topic %q is not declared by flow %s: %w", g.ID, g.Topic, biz.Machine.Flow.Name, ErrBadInput)
	}
	if !slices.Contains(topic.GrantedBy, string(g.Source)) {
		allowed := "no source but the chat"
		if len(topic.GrantedBy) > 0 {
			allowed = "only " + strings.Join(topic.GrantedBy, ", ")
		}
		return Turn{}, fmt.Errorf("consent grant %s: source %q may not grant topic %q (its granted_by allows %s): %w",
			g.ID, g.Source, g.Topic, allowed, ErrBadInput)
	}
	if strings.TrimSpace(g.Wording) == "" {
		return Turn{}, fmt.Errorf("consent grant %s: no wording: the ledger keeps the text the customer agreed to: %w", g.ID, ErrBadInput)
	}
	key := DedupID(InputConsentGrant, "", s.Customer, g.ID)
	b := newTurn(biz, s, key, key, "", now)
	trigger := "granted by " + string(g.Source)
	if !g.At.IsZero() {
		trigger += " at " + g.At.UTC().Format(time.RFC3339)
	}
	b.recordConsent(ConsentEvent{Topic: g.Topic, Category: topic.Category, Status: OptedIn, Source: g.Source,
		Trigger: trigger, InboundID: g.ID, Prompt: g.Wording,
		FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version})
	b.turn.Conversation.Stop = nil // a fresh opt-in supersedes a standing STOP
	return b.done(), nil
}

// HandleConsentGrant records an opt-in collected outside the chat.
func (s *Service) HandleConsentGrant(ctx context.Context, g ConsentGrant) ([]Effect, error) {
	biz, err := s.resolve(g.Business, "")
	if err != nil {
		return nil, fmt.Errorf("consent grant %q: %w", g.ID, err)
	}
	if g.ID == "" {
		return nil, fmt.Errorf("consent grant for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !g.Customer.wellFormed() {
		return nil, fmt.Errorf("consent grant %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", g.ID, g.Customer.Redacted(), ErrBadInput)
	}
	return s.run(ctx, biz, g.Customer, InputConsentGrant, DedupID(InputConsentGrant, "", g.Customer, g.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleConsentGrant(sess, g, now)
	})
}
