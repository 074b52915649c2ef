package bot

import (
	"time"

	"github.com/optinbot/optinbot/flows"
)

// ServiceWindow is how long after a customer's last inbound message a
// business may answer with free-form messages (WhatsApp's customer service
// window).
const ServiceWindow = 24 * time.Hour

// DefaultTemplatesPerDay is the default frequency cap: allowed templates per
// customer per business per rolling 24 hours.
const DefaultTemplatesPerDay = 5

// Caps are the frequency caps of one business.
type Caps struct {
	// TemplatesPerDay caps allowed templates per customer in any rolling
	// 24 hours; 0 means DefaultTemplatesPerDay.
	TemplatesPerDay int
	// PerTopic optionally caps one topic's templates tighter.
	PerTopic map[flows.Topic]int
}

func (c Caps) perDay() int {
	if c.TemplatesPerDay <= 0 {
		return DefaultTemplatesPerDay
	}
	return c.TemplatesPerDay
}

// Outbound describes a message about to be sent, as the guard sees it.
type Outbound struct {
	Kind MessageKind
	// Reply is true for the bot's own answer to the message the customer
	// just sent; false for a business-initiated message.
	Reply bool
	Topic flows.Topic // templates: the template's topic
	// Category is the template's topic's category: an authentication
	// template (a one-time code the customer asked for) needs no opt-in.
	Category flows.Category
	// Counted is true when the frequency cap already counted this message
	// (the pre-send recheck of a template the guard allowed earlier).
	Counted bool
}

// Check is the policy guard every outbound message passes. It returns ""
// when the message may be sent, or the first reason that forbids it, checked
// in this order:
//
//  0. suppressed: the customer was erased without a standing opt-in
//     (Service.EraseCustomer). No template and no business-initiated
//     free-form message; the bot's replies to a customer who writes
//     again are allowed, so they can opt in again.
//  1. opted_out or provider_blocked: a stop stands, the customer's own
//     STOP (opted_out) or one the provider reported for every message
//     (provider_blocked: the customer blocked the business or opted out in
//     WhatsApp). No template and no business-initiated free-form message;
//     the bot's replies to a customer who writes again are still allowed.
//  2. held_undeliverable: the provider reported the customer unreachable;
//     business-initiated messages wait until the customer writes again.
//  3. provider_blocked or no_consent: a template needs an active WhatsApp
//     opt-in for its topic, but for an authentication template (a code
//     the customer asked for). It is provider_blocked when the topic's latest
//     event is the provider's stop (the customer stopped marketing in
//     WhatsApp), no_consent otherwise (never asked, declined, or opted
//     out of that topic alone).
//  4. window_closed: a free-form message needs the customer service window
//     open: now < last inbound provider timestamp + 24 h, and no report
//     from the provider since that message that the window closed.
//  5. frequency_cap: templates allowed in the last 24 hours stay under the
//     business's cap, and under the topic's cap when it has one.
func (c Caps) Check(s *Session, out Outbound, now time.Time) Reason {
	if !out.Reply && s.Suppressed {
		return ReasonSuppressed
	}
	if stop := s.Conversation.Stop; !out.Reply && stop != nil {
		if stop.ByProvider {
			return ReasonProviderBlocked
		}
		return ReasonOptedOut
	}
	if !out.Reply && !s.Conversation.HeldSince.IsZero() {
		return ReasonHeld
	}
	if out.Kind == KindTemplate && out.Category != flows.CategoryAuthentication && s.Consent[out.Topic] != OptedIn {
		if l, _ := s.latest(out.Topic); l.Status == OptedOut && l.Source == SourceProvider {
			return ReasonProviderBlocked
		}
		return ReasonNoConsent
	}
	if out.Kind == KindText && !s.Conversation.windowOpen(now) {
		return ReasonWindowClosed
	}
	if out.Kind == KindTemplate && !out.Counted && c.capReached(s.RecentTemplates, out.Topic, now) {
		return ReasonFrequencyCap
	}
	return ""
}

// WindowOpen reports whether the customer service window opened by the last
// inbound message at lastInbound is still open at now.
func WindowOpen(lastInbound, now time.Time) bool {
	return !lastInbound.IsZero() && now.Before(lastInbound.Add(ServiceWindow))
}

// windowOpen adds the provider's word to the clock: a window the provider
// reported closed after the last inbound message is closed.
func (c Conversation) windowOpen(now time.Time) bool {
	if !c.WindowClosedAt.IsZero() && !c.WindowClosedAt.Before(c.LastInboundAt) {
		return false
	}
	return WindowOpen(c.LastInboundAt, now)
}

func (c Caps) capReached(recent []SentTemplate, topic flows.Topic, now time.Time) bool {
	since := now.Add(-ServiceWindow)
	total, ofTopic := 0, 0
	for _, t := range recent {
		if t.At.After(since) {
			total++
			if t.Topic == topic {
				ofTopic++
			}
		}
	}
	if total >= c.perDay() {
		return true
	}
	limit, ok := c.PerTopic[topic]
	return ok && limit > 0 && ofTopic >= limit
}
