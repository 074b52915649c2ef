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
	// source: the evidence the ledger keeps as the prompt on record. It
	// must name WhatsApp, the business and the topic, as an opt-in
	// request in the chat must (see CheckWording).
	Wording string
	// Language is the wording's language (BCP 47, "" when unknown): the
	// event's language on record.
	Language string
	// Where says where at the source the customer agreed: a form's URL,
	// a campaign's name, a shop. It is kept in the event's trigger.
	Where string
	At    time.Time // when the customer agreed, at the source
}

// InputConsentGrant is a consent grant from another source.
const InputConsentGrant InputKind = "consent_grant"

// GrantReason says why the engine refused a consent grant.
type GrantReason string

// The reasons a grant is refused, in the order they are checked.
const (
	// GrantUnknownTopic: the flow declares no such topic.
	GrantUnknownTopic GrantReason = "unknown_topic"
	// GrantSourceNotAllowed: the topic's granted_by does not list the
	// grant's source.
	GrantSourceNotAllowed GrantReason = "source_not_allowed"
	// GrantProviderBlocked: the provider reported that the customer
	// stopped the business's messages (or this topic's) in WhatsApp. Only
	// the customer can undo that, by writing in the chat: no grant does.
	GrantProviderBlocked GrantReason = "provider_blocked"
	// GrantOlderThanStop: the customer's STOP (or opt-out of the topic) is
	// the topic's latest event, and the grant's evidence is not newer
	// than it (or has no time).
	GrantOlderThanStop GrantReason = "older_than_stop"
	// GrantWordingIncomplete: the wording does not say WhatsApp, name the
	// business or describe the topic: an SMS or email consent is not a
	// WhatsApp consent.
	GrantWordingIncomplete GrantReason = "wording_incomplete"
)

// GrantReasons lists every GrantReason, in the order they are checked.
var GrantReasons = []GrantReason{GrantUnknownTopic, GrantSourceNotAllowed, GrantProviderBlocked,
	GrantOlderThanStop, GrantWordingIncomplete}

// GrantRefusal names the consent grant the engine refused and why. It
// comes with a notice of kind NoticeGrantRefused, whose Detail explains
// the reason in words.
type GrantRefusal struct {
	ID     string      `json:"id"`
	Topic  flows.Topic `json:"topic"`
	Source Source      `json:"source"`
	Reason GrantReason `json:"reason"`
}

// NoticeGrantRefused: a consent grant was refused and recorded nothing.
const NoticeGrantRefused = "grant_refused"

// HandleConsentGrant records an opt-in collected outside the chat, or
// refuses it with a notice (kind grant_refused) saying why, and records
// nothing. A grant is refused when
//
//   - the flow does not declare its topic, or does not let its source
//     grant the topic (granted_by);
//   - the provider reported that the customer stopped the business's
//     messages, or this topic's, in WhatsApp: only the customer undoes
//     that, by writing in the chat;
//   - the customer's STOP stands, or the topic's latest event is the
//     customer's opt-out, and the grant's evidence (At) is not newer;
//   - its wording does not say WhatsApp, name the business and describe
//     the topic (CheckWording, as lint checks an opt-in request).
//
// An accepted grant supersedes a standing STOP, as an opt-in in the chat
// does.
func (biz *Business) HandleConsentGrant(s *Session, g ConsentGrant, now time.Time) (Turn, error) {
	key := DedupID(InputConsentGrant, "", s.Customer, g.ID)
	b := newTurn(biz, s, key, key, "", now)
	if reason, why := biz.refuseGrant(s, g); reason != "" {
		e := b.effect(EffectNotice)
		e.Notice = &Notice{Kind: NoticeGrantRefused, At: now, Detail: why,
			Grant: &GrantRefusal{ID: g.ID, Topic: g.Topic, Source: g.Source, Reason: reason}}
		b.replies = append(b.replies, e)
		return b.done(), nil
	}
	topic, _ := biz.Machine.Flow.Topic(g.Topic)
	b.recordConsent(ConsentEvent{Topic: g.Topic, Category: topic.Category, Status: OptedIn, Source: g.Source,
		Trigger: otherChannelTrigger("granted", g.Source, g.Where, g.At), InboundID: g.ID, Prompt: g.Wording,
		Language: g.Language, FlowName: biz.Machine.Flow.Name, FlowVersion: biz.Machine.Flow.Version})
	b.turn.Conversation.Stop = nil // a newer, explicit opt-in supersedes the customer's STOP
	return b.done(), nil
}

// refuseGrant returns why a grant may not be recorded, in words too, or
// "" when it may.
func (biz *Business) refuseGrant(s *Session, g ConsentGrant) (GrantReason, string) {
	f := biz.Machine.Flow
	topic, ok := f.Topic(g.Topic)
	if !ok {
		return GrantUnknownTopic, fmt.Sprintf("consent grant %s: topic %q is not declared by flow %s", g.ID, g.Topic, f.Name)
	}
	if !slices.Contains(topic.GrantedBy, string(g.Source)) {
		allowed := "no source but the chat"
		if len(topic.GrantedBy) > 0 {
			allowed = "only " + strings.Join(topic.GrantedBy, ", ")
		}
		return GrantSourceNotAllowed, fmt.Sprintf("consent grant %s: source %q may not grant topic %q (its granted_by allows %s)",
			g.ID, g.Source, g.Topic, allowed)
	}
	latest, _ := s.latest(g.Topic)
	stop := s.Conversation.Stop
	switch {
	case stop != nil && stop.ByProvider:
		return GrantProviderBlocked, fmt.Sprintf("consent grant %s: the provider reported that the customer stopped every message from %s in WhatsApp at %s; only the customer can undo that, by writing in the chat",
			g.ID, f.Business, stop.At.UTC().Format(time.RFC3339))
	case latest.Status == OptedOut && latest.Source == SourceProvider:
		return GrantProviderBlocked, fmt.Sprintf("consent grant %s: the provider reported that the customer stopped topic %q in WhatsApp at %s; only the customer can undo that, by writing in the chat",
			g.ID, g.Topic, latest.At.UTC().Format(time.RFC3339))
	}
	var stoppedAt time.Time
	stopped := false
	if stop != nil {
		stoppedAt, stopped = stop.At, true
	}
	if latest.Status == OptedOut {
		stopped = true
		if latest.At.After(stoppedAt) {
			stoppedAt = latest.At
		}
	}
	if stopped && (g.At.IsZero() || stoppedAt.IsZero() || !g.At.After(stoppedAt)) {
		when := "with no time"
		if !g.At.IsZero() {
			when = "from " + g.At.UTC().Format(time.RFC3339)
		}
		since := "a STOP of unknown time"
		if !stoppedAt.IsZero() {
			since = "the STOP at " + stoppedAt.UTC().Format(time.RFC3339)
		}
		return GrantOlderThanStop, fmt.Sprintf("consent grant %s: the customer opted out of topic %q, and the grant's evidence, %s, is not newer than %s",
			g.ID, g.Topic, when, since)
	}
	if missing := grantWordingGaps(f, g); len(missing) > 0 {
		return GrantWordingIncomplete, fmt.Sprintf("consent grant %s: its wording %s: an opt-in collected elsewhere counts only for what it says",
			g.ID, strings.Join(missing, ", "))
	}
	return "", ""
}

// otherChannelTrigger is the trigger on record for a consent event
// collected outside the chat: "granted by web (signup form) at 2026-…".
func otherChannelTrigger(verb string, source Source, where string, at time.Time) string {
	trigger := verb + " by " + string(source)
	if where = strings.TrimSpace(where); where != "" {
		trigger += " (" + where + ")"
	}
	if !at.IsZero() {
		trigger += " at " + at.UTC().Format(time.RFC3339)
	}
	return trigger
}

// WordingGapCode names one thing an opt-in wording collected outside the
// chat fails to say.
type WordingGapCode string

// The wording gaps, in the order GrantWordingGaps reports them.
const (
	WordingEmpty           WordingGapCode = "wording_empty"
	WordingMissingWhatsApp WordingGapCode = "wording_missing_whatsapp"
	WordingMissingBusiness WordingGapCode = "wording_missing_business"
	WordingMissingTopic    WordingGapCode = "wording_missing_topic"
)

// WordingGap is one thing a grant's wording fails to say, with a sentence
// saying it.
type WordingGap struct {
	Code    WordingGapCode
	Message string
}

// GrantWordingGaps lists what an opt-in wording collected outside the chat
// fails to say for a topic of flow f: the engine refuses the grant
// (wording_incomplete) unless the list is empty. An SMS or email consent
// is not a WhatsApp consent: the wording must say WhatsApp, name the
// business and describe the topic (CheckWording: case, accents,
// full-width letters and punctuation do not count; "WhatsApp",
// "Whats App" and "Whats-App" say WhatsApp, "WA" does not).
func GrantWordingGaps(f *flows.Flow, topic flows.Topic, wording string) []WordingGap {
	if strings.TrimSpace(wording) == "" {
		return []WordingGap{{WordingEmpty, "is empty (the ledger keeps the text the customer agreed to)"}}
	}
	w := CheckWording(f, wording, "", []flows.Topic{topic}, nil)
	var gaps []WordingGap
	if !w.SaysWhatsApp {
		gaps = append(gaps, WordingGap{WordingMissingWhatsApp, "does not say WhatsApp"})
	}
	if !w.NamesBusiness {
		gaps = append(gaps, WordingGap{WordingMissingBusiness, fmt.Sprintf("does not name the business %q", f.Business)})
	}
	if len(w.Undescribed) > 0 {
		def, _ := f.Topic(topic)
		gaps = append(gaps, WordingGap{WordingMissingTopic,
			fmt.Sprintf("does not describe topic %q (say %q or one of its aliases)", topic, DescriptionCore(def.Description))})
	}
	return gaps
}

// grantWordingGaps lists what a grant's wording fails to say, in words.
func grantWordingGaps(f *flows.Flow, g ConsentGrant) []string {
	var missing []string
	for _, gap := range GrantWordingGaps(f, g.Topic, g.Wording) {
		missing = append(missing, gap.Message)
	}
	return missing
}

// HandleConsentGrant records an opt-in collected outside the chat, or
// refuses it with a grant_refused notice (see Business.HandleConsentGrant).
// It fails with ErrBadInput only for a grant that names no id, no
// well-formed customer or no configured business.
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
