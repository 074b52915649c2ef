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
}

// Check is the policy guard every outbound message passes. It returns ""
// when the message may be sent, or the first reason that forbids it, checked
// in this order:
//
//  1. opted_out: the customer's latest STOP stands. No template and no
//     business-initiated free-form message; the bot's replies to a customer
//     who writes again are still allowed.
//  2. no_consent: a template needs an active WhatsApp opt-in for its topic.
//  3. window_closed: a free-form message needs the customer service window
//     open: now < last inbound provider timestamp + 24 h.
//  4. frequency_cap: templates allowed in the last 24 hours stay under the
//     business's cap, and under the topic's cap when it has one.
func (c Caps) Check(s *Session, out Outbound, now time.Time) Reason {
	if !out.Reply && s.Conversation.Stop != nil {
		return ReasonOptedOut
	}
	if out.Kind == KindTemplate && s.Consent[out.Topic] != OptedIn {
		return ReasonNoConsent
	}
	if out.Kind == KindText && !WindowOpen(s.Conversation.LastInboundAt, now) {
		return ReasonWindowClosed
	}
	if out.Kind == KindTemplate && c.capReached(s.RecentTemplates, out.Topic, now) {
		return ReasonFrequencyCap
	}
	return ""
}

// WindowOpen reports whether the customer service window opened by the last
// inbound message at lastInbound is still open at now.
func WindowOpen(lastInbound, now time.Time) bool {
	return !lastInbound.IsZero() && now.Before(lastInbound.Add(ServiceWindow))
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
