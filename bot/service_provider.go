package bot

import (
	"context"
	"errors"
)

// HandleDeliveryUpdate records a provider's status for a message: the
// customer-level signal it carries (window closed, undeliverable, stopped
// marketing, opted out) and, when the status moves the message forward, a
// delivery effect for the business's systems.
func (s *Service) HandleDeliveryUpdate(ctx context.Context, u DeliveryUpdate) ([]Effect, error) {
	return nil, errors.New("not implemented yet")
}

// HandleMarketingPreference records the customer's choice in WhatsApp to
// stop marketing messages (a provider opt-out of the business's marketing
// topics) or to resume them (recorded as a notice; it re-grants nothing).
func (s *Service) HandleMarketingPreference(ctx context.Context, p MarketingPreference) ([]Effect, error) {
	return nil, errors.New("not implemented yet")
}

// Recheck runs the policy guard for a message about to leave, right before
// the provider call, so a STOP committed a moment earlier still wins. It
// changes nothing.
func (s *Service) Recheck(ctx context.Context, business BusinessID, sender string, customer CustomerID, out Outbound) (Reason, error) {
	return "", errors.New("not implemented yet")
}
