package flows

import (
	"slices"
	"testing"
	"time"
)

// handoffFlow hands off in both forms: the queue alone, and a mapping with
// its own timeout and the state the bot resumes in.
const handoffFlow = `business: Acme
language: en
handoff:
  timeout: 2h
messages:
  handoff: Connecting you to the {business} team.
  handoff_timeout:
    en: Nobody could answer in time.
    es: Nadie pudo contestar a tiempo.
  handoff_released: You're back with the {business} bot.
states:
  menu:
    prompt: Type AGENT for a person.
    on:
      - keywords: [agent]
        handoff: front-desk
      - keywords: [billing]
        handoff: {queue: billing.tier-1, timeout: 30m, resume: done}
      - after: 10m
        handoff: {queue: front-desk}
  done:
    prompt: Bye.
`

func TestHandoffOptions(t *testing.T) {
	f := mustLoad(t, "handoff.yaml", handoffFlow)
	if f.HandoffTimeout != 2*time.Hour {
		t.Errorf("flow handoff timeout = %v, want 2h", f.HandoffTimeout)
	}
	on := f.States["menu"].On
	short, long, timer := &on[0], &on[1], &on[2]
	if short.Handoff != "front-desk" || short.HandoffTimeout != 0 || short.HandoffResume != "" {
		t.Errorf("short form = %q %v %q", short.Handoff, short.HandoffTimeout, short.HandoffResume)
	}
	if long.Handoff != "billing.tier-1" || long.HandoffTimeout != 30*time.Minute || long.HandoffResume != "done" {
		t.Errorf("mapping form = %q %v %q", long.Handoff, long.HandoffTimeout, long.HandoffResume)
	}
	if timer.Handoff != "front-desk" || !timer.IsTimer() {
		t.Errorf("timer handoff = %+v", timer)
	}
	if got := f.HandoffTimeoutOf(short); got != 2*time.Hour {
		t.Errorf("timeout of the short form = %v, want the flow's 2h", got)
	}
	if got := f.HandoffTimeoutOf(long); got != 30*time.Minute {
		t.Errorf("timeout of the mapping form = %v, want its own 30m", got)
	}
	if got := f.HandoffQueues(); !slices.Equal(got, []string{"front-desk", "billing.tier-1"}) {
		t.Errorf("queues = %q", got)
	}
	m := f.Messages
	if m.Handoff != "Connecting you to the {business} team." || m.HandoffReleased != "You're back with the {business} bot." {
		t.Errorf("messages %+v", m)
	}
	if es := m.For("es"); es.HandoffTimeout != "Nadie pudo contestar a tiempo." || es.Handoff != m.Handoff {
		t.Errorf("es messages %+v", es)
	}
}

func TestHandoffTimeoutDefault(t *testing.T) {
	f := mustLoad(t, "h.yaml", "business: Acme\nstates:\n  a:\n    prompt: Hi\n    on: [{else: true, handoff: desk}]\n")
	if f.HandoffTimeout != DefaultHandoffTimeout || DefaultHandoffTimeout != time.Hour {
		t.Errorf("default handoff timeout = %v (DefaultHandoffTimeout %v), want 1h", f.HandoffTimeout, DefaultHandoffTimeout)
	}
	if got := f.HandoffTimeoutOf(&f.States["a"].On[0]); got != time.Hour {
		t.Errorf("timeout of a handoff = %v", got)
	}
}

func TestHandoffProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "timeouts out of range",
			src: "business: Acme\nhandoff: {timeout: 24h}\nstates:\n  a:\n    prompt: Hi\n    on:\n" +
				"      - keywords: [x]\n        handoff: {queue: desk, timeout: 0s}\n" +
				"      - else: true\n        handoff: {queue: desk, timeout: 2 days}\n",
			want: []string{
				"2:20: timeout of handoff must be less than 24h, the length of the customer service window; found '24h'",
				"8:41: timeout of handoff in transition 1 of state 'a' must be above 0; found '0s'",
				"10:41: timeout of handoff in transition 2 of state 'a' must be a duration such as 30m or 2h; found '2 days'",
			},
		},
		{
			name: "resume names no state",
			src:  "business: Acme\nstates:\n  menu:\n    prompt: Hi\n    on: [{else: true, handoff: {queue: desk, resume: mneu}}]\n",
			want: []string{"5:54: unknown state 'mneu' in resume of handoff; did you mean 'menu'?"},
		},
		{
			name: "mapping without a queue, unknown key, bad queue",
			src: "business: Acme\nstates:\n  a:\n    prompt: Hi\n    on:\n" +
				"      - keywords: [x]\n        handoff: {timeout: 1h}\n" +
				"      - keywords: [y]\n        handoff: {queue: desk, timout: 1h}\n" +
				"      - else: true\n        handoff: {queue: front desk}\n",
			want: []string{
				"7:18: missing queue in handoff of transition 1 of state 'a'",
				"9:32: unknown key 'timout' in handoff of transition 2 of state 'a'; did you mean 'timeout'?",
				"11:26: invalid handoff queue 'front desk' in transition 3 of state 'a': use letters, digits, '_', '-' and '.'",
			},
		},
		{
			name: "top-level handoff is a mapping",
			src:  "business: Acme\nhandoff: desk\nstates:\n  a:\n    prompt: Hi\n",
			want: []string{"2:10: handoff must be a mapping with timeout; found 'desk'"},
		},
		{
			name: "unknown message",
			src:  "business: Acme\nmessages: {handof: Hi}\nstates:\n  a:\n    prompt: Hi\n",
			want: []string{"2:12: unknown key 'handof' in messages; did you mean 'handoff'?"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.src)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", join(got), join(tc.want))
			}
		})
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += "  " + x + "\n"
	}
	return out
}
