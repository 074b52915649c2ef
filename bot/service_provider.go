package bot

import (
	"context"
	"fmt"
	"time"
)

// The input kinds of provider signals.
const (
	InputDeliveryUpdate      InputKind = "delivery_update"
	InputMarketingPreference InputKind = "marketing_preference"
)

// HandleDeliveryUpdate records a provider's status for a message: the
// customer-level signal it carries (window closed, undeliverable, stopped
// marketing, opted out) and, when the status moves the message forward, a
// delivery effect for the business's systems.
func (s *Service) HandleDeliveryUpdate(ctx context.Context, u DeliveryUpdate) ([]Effect, error) {
	biz, err := s.resolve(u.Business, u.Sender)
	if err != nil {
		return nil, fmt.Errorf("delivery update %q: %w", u.ID, err)
	}
	if u.ID == "" {
		return nil, fmt.Errorf("delivery update for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !u.Customer.wellFormed() {
		return nil, fmt.Errorf("delivery update %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", u.ID, u.Customer.Redacted(), ErrBadInput)
	}
	if statusRank(u.Status) == 0 {
		return nil, fmt.Errorf("delivery update %q: status %q is not sent, delivered, read or failed: %w", u.ID, u.Status, ErrBadInput)
	}
	return s.run(ctx, biz, u.Customer, InputDeliveryUpdate, DedupID(InputDeliveryUpdate, "", u.Customer, u.ID), func(sess *Session, now time.Time) (Turn, error) {
		current := ""
		if u.MessageID != "" {
			var err error
			if current, err = s.store.MessageStatus(ctx, biz.ID, u.MessageID); err != nil {
				return Turn{}, fmt.Errorf("delivery update %q: read the message's status: %w", u.ID, err)
			}
		}
		return biz.HandleDeliveryUpdate(sess, u, current, now), nil
	})
}

// HandleMarketingPreference records the customer's choice in WhatsApp to
// stop marketing messages (a provider opt-out of the business's marketing
// topics) or to resume them (recorded in the ledger and as a notice; it re-grants
// nothing).
func (s *Service) HandleMarketingPreference(ctx context.Context, p MarketingPreference) ([]Effect, error) {
	biz, err := s.resolve(p.Business, p.Sender)
	if err != nil {
		return nil, fmt.Errorf("marketing preference %q: %w", p.ID, err)
	}
	if p.ID == "" {
		return nil, fmt.Errorf("marketing preference for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !p.Customer.wellFormed() {
		return nil, fmt.Errorf("marketing preference %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", p.ID, p.Customer.Redacted(), ErrBadInput)
	}
	return s.run(ctx, biz, p.Customer, InputMarketingPreference, DedupID(InputMarketingPreference, "", p.Customer, p.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleMarketingPreference(sess, p, now), nil
	})
}

// Recheck runs the policy guard for a message about to leave, right before
// the provider call, so a STOP committed a moment earlier still wins. A
// template was counted by the frequency cap when it was allowed, so the cap
// is not applied again. It changes nothing.
func (s *Service) Recheck(ctx context.Context, business BusinessID, sender string, customer CustomerID, out Outbound) (Reason, error) {
	biz, err := s.resolve(business, sender)
	if err != nil {
		return "", fmt.Errorf("recheck: %w", err)
	}
	now := s.clock()
	sess, err := s.store.LoadSession(ctx, biz.ID, customer, now.Add(-ServiceWindow))
	if err != nil {
		return "", fmt.Errorf("recheck %s/%s: load session: %w", biz.ID, customer.Redacted(), err)
	}
	if sess.Suppressed, _, err = s.suppressed(ctx, biz.ID, customer); err != nil {
		return "", fmt.Errorf("recheck %s/%s: %w", biz.ID, customer.Redacted(), err)
	}
	out.Counted = true
	return biz.Caps.Check(&sess, out, now), nil
}
