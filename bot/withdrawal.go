package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// ConsentWithdrawal is a WhatsApp opt-out collected outside the chat: an
// unsubscribe link, a web form, a call to the shop, an SMS or email reply.
// An opt-out is always honoured: no source list, wording or time can make
// the engine refuse one, since stopping messages is never the wrong side
// to err on.
type ConsentWithdrawal struct {
	ID       string // the withdrawal's id at its source; repeats are ignored
	Business BusinessID
	Customer CustomerID
	// Topic is the topic the customer opted out of; "" ends every topic
	// the flow declares.
	Topic  flows.Topic
	Source Source
	// Wording is what the customer said or agreed to, if the source kept
	// it: the prompt on record.
	Wording  string
	Language string
	Where    string    // where at the source, kept in the trigger
	At       time.Time // when the customer opted out, at the source
}

// InputConsentWithdrawal is a consent withdrawal from another source.
const InputConsentWithdrawal InputKind = "consent_withdrawal"

// HandleConsentWithdrawal records the customer's opt-out of the
// withdrawal's topic, or of every topic the flow declares when it names
// none: one opted_out event per topic, even for a topic the customer never
// opted in to, so that a later grant with older evidence is refused
// (older_than_stop) for it too. A topic the flow does not declare is the
// caller's mistake (see Service.HandleConsentWithdrawal).
func (biz *Business) HandleConsentWithdrawal(s *Session, wd ConsentWithdrawal, now time.Time) (Turn, error) {
	key := DedupID(InputConsentWithdrawal, "", s.Customer, wd.ID)
	b := newTurn(biz, s, key, key, "", now)
	f := biz.Machine.Flow
	topics := f.Topics
	if wd.Topic != "" {
		def, ok := f.Topic(wd.Topic)
		if !ok {
			return Turn{}, fmt.Errorf("consent withdrawal %s: topic %q is not declared by flow %s: %w", wd.ID, wd.Topic, f.Name, ErrBadInput)
		}
		topics = []flows.TopicDef{def}
	}
	trigger := otherChannelTrigger("withdrawn", wd.Source, wd.Where, wd.At)
	for _, t := range topics {
		b.recordConsent(ConsentEvent{Topic: t.Name, Category: t.Category, Status: OptedOut, Source: wd.Source,
			Trigger: trigger, InboundID: wd.ID, Prompt: wd.Wording, Language: wd.Language,
			FlowName: f.Name, FlowVersion: f.Version})
	}
	return b.done(), nil
}

// HandleConsentWithdrawal records an opt-out collected outside the chat
// (see Business.HandleConsentWithdrawal). It fails with ErrBadInput for a
// withdrawal that names no id, no well-formed customer, no configured
// business or a topic the flow does not declare. A repeated id changes
// nothing and returns no effects.
func (s *Service) HandleConsentWithdrawal(ctx context.Context, wd ConsentWithdrawal) ([]Effect, error) {
	biz, err := s.resolve(wd.Business, "")
	if err != nil {
		return nil, fmt.Errorf("consent withdrawal %q: %w", wd.ID, err)
	}
	if wd.ID == "" {
		return nil, fmt.Errorf("consent withdrawal for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !wd.Customer.wellFormed() {
		return nil, fmt.Errorf("consent withdrawal %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", wd.ID, wd.Customer.Redacted(), ErrBadInput)
	}
	if wd.Topic != "" {
		if _, ok := biz.Machine.Flow.Topic(wd.Topic); !ok {
			return nil, fmt.Errorf("consent withdrawal %q: topic %q is not declared by flow %s: %w", wd.ID, wd.Topic, biz.Machine.Flow.Name, ErrBadInput)
		}
	}
	return s.run(ctx, biz, wd.Customer, InputConsentWithdrawal, DedupID(InputConsentWithdrawal, "", wd.Customer, wd.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleConsentWithdrawal(sess, wd, now)
	})
}
