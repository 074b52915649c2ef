package bot

import (
	"testing"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// A stop the provider reported is refused as provider_blocked, not as
// no_consent, so operators see that only the customer can undo it.
func TestGuardProviderBlocked(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	stopped := &StopRecord{At: now.Add(-time.Hour)}
	blocked := &StopRecord{At: now.Add(-time.Hour), ByProvider: true}
	consent := map[flows.Topic]ConsentStatus{"orders": OptedIn, "offers": OptedOut}
	providerStop := map[flows.Topic]LatestConsent{"orders": {Status: OptedIn, Source: SourceInChannel, At: now.Add(-2 * time.Hour)},
		"offers": {Status: OptedOut, Source: SourceProvider, At: now.Add(-time.Hour)}}
	ownStop := map[flows.Topic]LatestConsent{"offers": {Status: OptedOut, Source: SourceInChannel, At: now.Add(-time.Hour)}}
	open := now.Add(-time.Hour)
	orders := Outbound{Kind: KindTemplate, Topic: "orders"}
	offers := Outbound{Kind: KindTemplate, Topic: "offers"}
	text := Outbound{Kind: KindText}
	reply := Outbound{Kind: KindText, Reply: true}
	for _, tc := range []struct {
		name   string
		stop   *StopRecord
		held   bool
		latest map[flows.Topic]LatestConsent
		out    Outbound
		want   Reason
	}{
		{"template after a provider stop of everything", blocked, false, nil, orders, ReasonProviderBlocked},
		{"business text after a provider stop of everything", blocked, false, nil, text, ReasonProviderBlocked},
		{"reply after a provider stop of everything", blocked, false, nil, reply, ""},
		{"template of a topic the provider stopped", nil, false, providerStop, offers, ReasonProviderBlocked},
		{"the other topic is still allowed", nil, false, providerStop, orders, ""},
		{"the customer's STOP comes first", stopped, false, providerStop, offers, ReasonOptedOut},
		{"held comes before the topic", nil, true, providerStop, offers, ReasonHeld},
		{"the customer's own opt-out of a topic is no consent", nil, false, ownStop, offers, ReasonNoConsent},
		{"a store without Latest: no consent", nil, false, nil, offers, ReasonNoConsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{Conversation: Conversation{Stop: tc.stop, LastInboundAt: open}, Consent: consent, Latest: tc.latest}
			if tc.held {
				s.Conversation.HeldSince = open
			}
			if got := (Caps{}).Check(s, tc.out, now); got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
}
