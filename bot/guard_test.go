package bot

import (
	"testing"
	"time"

	"github.com/optinbot/optinbot/flows"
)

func TestGuardReasonsAndOrder(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	recent := func(n int, topic flows.Topic) []SentTemplate {
		out := make([]SentTemplate, n)
		for i := range out {
			out[i] = SentTemplate{At: now.Add(-time.Duration(i+1) * time.Hour), Topic: topic}
		}
		return out
	}
	stopped := &StopRecord{At: now.Add(-time.Hour)}
	optedIn := map[flows.Topic]ConsentStatus{"orders": OptedIn, "offers": OptedOut}
	open := now.Add(-23 * time.Hour)
	closed := now.Add(-24 * time.Hour)
	template := Outbound{Kind: KindTemplate, Topic: "orders"}
	text := Outbound{Kind: KindText}
	reply := Outbound{Kind: KindText, Reply: true}
	caps := Caps{TemplatesPerDay: 5, PerTopic: map[flows.Topic]int{"orders": 2}}

	for _, tc := range []struct {
		name    string
		stop    *StopRecord
		consent map[flows.Topic]ConsentStatus
		inbound time.Time
		recent  []SentTemplate
		out     Outbound
		want    Reason
	}{
		{"template allowed", nil, optedIn, closed, nil, template, ""},
		{"template opted out beats no consent", stopped, nil, closed, recent(9, "orders"), template, ReasonOptedOut},
		{"template needs consent for its topic", nil, optedIn, open, nil, Outbound{Kind: KindTemplate, Topic: "offers"}, ReasonNoConsent},
		{"no consent beats frequency cap", nil, nil, open, recent(9, "orders"), template, ReasonNoConsent},
		{"template ignores the window", nil, optedIn, time.Time{}, nil, template, ""},
		{"daily cap", nil, map[flows.Topic]ConsentStatus{"misc": OptedIn}, open, recent(5, "orders"), Outbound{Kind: KindTemplate, Topic: "misc"}, ReasonFrequencyCap},
		{"under the daily cap", nil, map[flows.Topic]ConsentStatus{"misc": OptedIn}, open, recent(4, "orders"), Outbound{Kind: KindTemplate, Topic: "misc"}, ""},
		{"topic cap", nil, optedIn, open, recent(2, "orders"), template, ReasonFrequencyCap},
		{"rolling window forgets old sends", nil, optedIn, open, []SentTemplate{{At: now.Add(-24 * time.Hour), Topic: "orders"}, {At: now.Add(-25 * time.Hour), Topic: "orders"}}, template, ""},
		{"text in window", nil, nil, open, nil, text, ""},
		{"text window closed at exactly 24h", nil, nil, closed, nil, text, ReasonWindowClosed},
		{"text never wrote", nil, nil, time.Time{}, nil, text, ReasonWindowClosed},
		{"text opted out beats window", stopped, nil, closed, nil, text, ReasonOptedOut},
		{"business text after STOP inside window", stopped, nil, open, nil, text, ReasonOptedOut},
		{"reply after STOP allowed", stopped, nil, open, nil, reply, ""},
		{"reply needs the window", stopped, nil, closed, nil, reply, ReasonWindowClosed},
		{"text is not capped", nil, nil, open, recent(9, "orders"), text, ""},
		{"authentication template needs no opt-in", nil, nil, closed, nil, Outbound{Kind: KindTemplate, Topic: "codes", Category: flows.CategoryAuthentication}, ""},
		{"authentication template held by STOP", stopped, nil, open, nil, Outbound{Kind: KindTemplate, Topic: "codes", Category: flows.CategoryAuthentication}, ReasonOptedOut},
		{"authentication template is capped", nil, nil, open, recent(5, "orders"), Outbound{Kind: KindTemplate, Topic: "codes", Category: flows.CategoryAuthentication}, ReasonFrequencyCap},
		{"marketing template needs opt-in", nil, nil, open, nil, Outbound{Kind: KindTemplate, Topic: "codes", Category: flows.CategoryMarketing}, ReasonNoConsent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{Conversation: Conversation{Stop: tc.stop, LastInboundAt: tc.inbound}, Consent: tc.consent, RecentTemplates: tc.recent}
			if got := caps.Check(s, tc.out, now); got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
		})
	}
	if got := (Caps{}).perDay(); got != 5 {
		t.Errorf("default cap = %d, want 5", got)
	}
}

// A suppressed customer gets no business-initiated message of any kind,
// whatever else holds; the bot's replies to them still pass the guard.
func TestGuardSuppressed(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	open := now.Add(-time.Hour)
	consent := map[flows.Topic]ConsentStatus{"orders": OptedIn}
	for _, tc := range []struct {
		name string
		stop *StopRecord
		held time.Time
		out  Outbound
		want Reason
	}{
		{"template with consent", nil, time.Time{}, Outbound{Kind: KindTemplate, Topic: "orders"}, ReasonSuppressed},
		{"text in the window", nil, time.Time{}, Outbound{Kind: KindText}, ReasonSuppressed},
		{"suppressed beats opted out", &StopRecord{At: open}, time.Time{}, Outbound{Kind: KindText}, ReasonSuppressed},
		{"suppressed beats held", nil, open, Outbound{Kind: KindTemplate, Topic: "orders"}, ReasonSuppressed},
		{"prechecked template", nil, time.Time{}, Outbound{Kind: KindTemplate, Topic: "orders", Counted: true}, ReasonSuppressed},
		{"reply allowed", nil, time.Time{}, Outbound{Kind: KindText, Reply: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Session{Suppressed: true, Consent: consent,
				Conversation: Conversation{Stop: tc.stop, HeldSince: tc.held, LastInboundAt: open}}
			if got := (Caps{}).Check(s, tc.out, now); got != tc.want {
				t.Errorf("Check = %q, want %q", got, tc.want)
			}
			s.Suppressed = false
			if got := (Caps{}).Check(s, tc.out, now); got == ReasonSuppressed {
				t.Errorf("Check of a customer not suppressed = %q", got)
			}
		})
	}
	if Reasons[0] != ReasonSuppressed {
		t.Errorf("Reasons = %v, want suppressed first, in the guard's order", Reasons)
	}
}
