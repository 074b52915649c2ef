package compliance

import (
	"fmt"
	"strconv"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// YesNeedsFreshRequest (P8): the customer's answer records consent only to
// a fresh, clear question: never once the opt-in request has expired (the
// customer service window it was sent in closed, or the flow's
// opt_in_expiry passed), and never as a bare number where the prompt did
// not show numbered choices (the explorer's customer sees buttons as
// buttons).
const YesNeedsFreshRequest Property = "P8"

var freshYesCheck = nodeCheck{
	property: YesNeedsFreshRequest,
	title:    "no consent from a YES to an expired request, or from a bare number without numbered choices",
	check:    checkFreshYes,
}

// maxProbedNumber is the highest bare number P8 answers: a list has at
// most 10 rows.
const maxProbedNumber = 10

// freshProbe is one answer P8 tries at a node: after a wait of `wait`
// (0: at once), the input of class `answer`.
type freshProbe struct {
	wait   time.Duration
	answer step
	// late says how late the answer comes, for the message: "after the
	// customer service window …"; "" for a bare number at once.
	late string
}

// checkFreshYes probes each state with an opt_in transition: each bare
// number 1 to 10 the prompt does not show as a numbered choice and some
// transition of the state might take, at once; and each of the state's
// inputs once the request has surely expired: when the customer service
// window of the customer's last message closes (every request sent since
// expires by then), and, with opt_in_expiry, that long after now when no
// timer of the state fires before. The numbers' outcome depends on the
// state and the numbers its prompt shows, the expiry's on the state:
// each is probed once.
func checkFreshYes(x *explorer, n *node) (*finding, error) {
	c := n.sess.Conversation
	if c.State == "" || c.Handoff != "" || !asksOptIn(x.f.States[c.State]) {
		return nil, nil
	}
	if x.probed == nil {
		x.probed = map[string]bool{}
	}
	st := x.f.States[c.State]
	lang := c.Vars["language"]
	if lang == "" {
		lang = x.f.Language
	}
	written := st.Prompt.ForLanguage(lang).Text
	shown := x.numbersShown(c.LastPrompt, written)
	if key := fmt.Sprintf("p8n|%s|%v", c.State, shown); !x.probed[key] {
		x.probed[key] = true
		for d := 1; d <= maxProbedNumber; d++ {
			if shown[d] || !x.mayTakeNumber(st, d) {
				continue
			}
			p := freshProbe{answer: step{kind: stepText, text: strconv.Itoa(d)}}
			if f, err := x.freshFinding(x.walkerAt(n), p); f != nil || err != nil {
				return f, err
			}
		}
	}
	key := "p8e|" + string(c.State)
	if x.probed[key] || c.LastInboundAt.IsZero() {
		return nil, nil
	}
	x.probed[key] = true
	now := n.world.now
	closes := c.LastInboundAt.Add(bot.ServiceWindow)
	waits := []freshProbe{{wait: max(closes.Sub(now), 0),
		late: "after the customer service window of the opt-in request had closed (24h after the customer's message it answered)"}}
	if d := x.f.OptInExpiry; d > 0 && now.Add(d).Before(closes) && !timerBefore(c.Timers, now.Add(d)) {
		waits = append(waits, freshProbe{wait: d,
			late: fmt.Sprintf("after the flow's opt_in_expiry (%s) had passed since the opt-in request", formatDuration(d))})
	}
	for _, p := range waits {
		// Wait once, then answer each input on a copy of what the wait left.
		w := x.walkerAt(n)
		if err := w.wait(p.wait); err != nil {
			return nil, err
		}
		state := w.sess.Conversation.State
		if state == "" || w.sess.Conversation.Handoff != "" || !asksOptIn(x.f.States[state]) {
			continue
		}
		waited := x.snap.cur
		waited.now = x.e.now
		for _, cl := range x.classes[state] {
			x.snap.cur = waited.clone()
			x.e.now = waited.now
			branch := &walker{x: x, e: x.e, sess: w.sess, grants: w.grants, last: w.last}
			q := p
			q.answer = cl.steps[0]
			msg, at, err := x.answer(branch, q)
			if err != nil {
				return nil, err
			}
			if msg != "" {
				return &finding{message: msg, at: at, check: func(w *walker) (string, error) {
					msg, _, err := x.tryFreshYes(w, q)
					return msg, err
				}}, nil
			}
		}
	}
	return nil, nil
}

// numbersShown says which numbers 1 to 10 the prompt shows as numbered
// choices, as last sent or as written; cached, since prompts repeat.
func (x *explorer) numbersShown(sent, written string) [maxProbedNumber + 1]bool {
	key := sent + "\x00" + written
	if s, ok := x.shown[key]; ok {
		return s
	}
	var s [maxProbedNumber + 1]bool
	for d := 1; d <= maxProbedNumber; d++ {
		s[d] = flows.NumbersChoice(sent, d) || flows.NumbersChoice(written, d)
	}
	if x.shown == nil {
		x.shown = map[string][maxProbedNumber + 1]bool{}
	}
	x.shown[key] = s
	return s
}

// freshFinding runs a probe on a walker and returns its finding, if it
// found a violation.
func (x *explorer) freshFinding(w *walker, p freshProbe) (*finding, error) {
	msg, at, err := x.tryFreshYes(w, p)
	if err != nil || msg == "" {
		return nil, err
	}
	return &finding{message: msg, at: at, check: func(w *walker) (string, error) {
		msg, _, err := x.tryFreshYes(w, p)
		return msg, err
	}}, nil
}

// mayTakeNumber reports whether a message transition of the state could
// take the bare number d: it has that many buttons or rows (the engine
// maps a number to one only where the choices were shown numbered), or a
// keyword or regex that matches it. The engine has the last word; this
// only spares probes that cannot take it.
func (x *explorer) mayTakeNumber(st *flows.State, d int) bool {
	text := strconv.Itoa(d)
	options := len(st.Prompt.Buttons)
	if st.Prompt.List != nil {
		options = len(st.Prompt.List.Rows)
	}
	if d <= options {
		return true
	}
	polite := x.e.biz.Keywords.Polite()
	for _, t := range st.On {
		if t.Regex != nil && t.Regex.MatchString(text) {
			return true
		}
		if len(t.Keywords) > 0 {
			if _, ok := bot.NewPhraseMatcher(t.Keywords, polite).Match(bot.Normalize(text)); ok {
				return true
			}
		}
	}
	return false
}

// asksOptIn reports whether a state has a message transition with opt_in.
func asksOptIn(st *flows.State) bool {
	if st == nil {
		return false
	}
	for _, t := range st.On {
		if t.OptIn != "" && !t.IsTimer() {
			return true
		}
	}
	return false
}

// timerBefore reports whether a timer is due at or before t.
func timerBefore(timers []bot.Timer, t time.Time) bool {
	for _, tm := range timers {
		if !tm.Due.After(t) {
			return true
		}
	}
	return false
}

// tryFreshYes runs a P8 probe on a walker and returns what is wrong if the
// answer recorded consent, with the transition that recorded it.
func (x *explorer) tryFreshYes(w *walker, p freshProbe) (string, *flows.Pos, error) {
	if p.wait > 0 {
		if err := w.wait(p.wait); err != nil {
			return "", nil, err
		}
	}
	return x.answer(w, p)
}

// answer sends a probe's answer and returns what is wrong if it recorded
// consent, with the transition that recorded it.
func (x *explorer) answer(w *walker, p freshProbe) (string, *flows.Pos, error) {
	from := w.sess.Conversation.State
	s := p.answer
	s.id = x.probeID("p8")
	effects, err := w.do(s)
	if err != nil {
		return "", nil, err
	}
	var ev *bot.ConsentEvent
	for _, e := range effects {
		if e.Kind == bot.EffectConsent && e.Consent != nil && e.Consent.Status == bot.OptedIn {
			ev = e.Consent
			break
		}
	}
	if ev == nil || (p.late == "" && ev.Trigger == "else") {
		// An else transition that opts in takes any text, a number or not:
		// P3's to report (and lint's OB011), not a question of numbers.
		return "", nil, nil
	}
	_, pos := x.grantingTransition(from, ev.Topic, ev.Trigger)
	answer := quoted(s.text)
	if s.kind == stepButton {
		answer = "a tap on " + s.button
	}
	if p.late != "" {
		return fmt.Sprintf("%s in state %s, %s, recorded consent to %s (%s): the answer to an expired request must get the question again",
			answer, from, p.late, ev.Topic, ev.Trigger), &pos, nil
	}
	return fmt.Sprintf("a bare %s in state %s recorded consent to %s (%s), but the prompt shows no numbered choice %s: under buttons shown as buttons a number may mean anything; number the choices in the prompt's text (\"%s) …\") or drop the number from the transition",
		answer, from, ev.Topic, ev.Trigger, s.text, s.text), &pos, nil
}
