package compliance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// OnlyYesGrants (P6): only an affirmative answer records consent. Each
// negative answer of flows.NegativeAnswers ("no", "later", "what?", in
// every language listed) is sent to every state that has an opt_in
// transition, and none may record an opt-in.
const OnlyYesGrants Property = "P6"

// grantsOnMessage reports whether a state has a transition that records
// an opt-in on a message (any but a timer).
func grantsOnMessage(st *flows.State) bool {
	return st != nil && slices.ContainsFunc(st.On, func(t flows.Transition) bool { return t.OptIn != "" && !t.IsTimer() })
}

// probeNegatives checks P6 at a node: in a state with an opt_in
// transition, each negative answer is sent, on a copy, and must record no
// opt-in. Which transition a message takes depends on the state alone (the
// global keywords come first whatever the node), so each state is probed
// once, at the first node the breadth-first exploration reaches in it:
// the shortest conversation.
func (x *explorer) probeNegatives(n *node) error {
	if _, done := x.found[OnlyYesGrants]; done {
		return nil
	}
	c := n.sess.Conversation
	if c.State == "" || c.Handoff != "" || x.negativesProbed[c.State] || !grantsOnMessage(x.f.States[c.State]) {
		return nil
	}
	if x.negativesProbed == nil {
		x.negativesProbed = map[flows.StateName]bool{}
	}
	x.negativesProbed[c.State] = true
	id := "m" + strconv.Itoa(n.depth+1)
	for _, neg := range flows.AllNegativeAnswers() {
		s := step{kind: stepText, text: neg.Text, id: id}
		msg, _, _, err := x.tryNegative(x.walkerAt(n), s)
		if err != nil {
			return err
		}
		if msg != "" {
			x.report(OnlyYesGrants, &finding{n: n, probe: class{steps: []step{s}}, message: msg})
			return nil
		}
	}
	return nil
}

// tryNegative sends a negative answer and returns what is wrong if it
// recorded an opt-in, with the state and position of the transition that
// recorded it.
func (x *explorer) tryNegative(w *walker, s step) (string, flows.StateName, flows.Pos, error) {
	from := w.sess.Conversation.State
	effects, err := w.do(s)
	if err != nil {
		return "", "", flows.Pos{}, err
	}
	var topics, triggers []string
	var state flows.StateName
	var pos flows.Pos
	for _, e := range effects {
		if e.Kind != bot.EffectConsent || e.Consent == nil || e.Consent.Status != bot.OptedIn {
			continue
		}
		topics = append(topics, string(e.Consent.Topic))
		if !slices.Contains(triggers, e.Consent.Trigger) {
			triggers = append(triggers, e.Consent.Trigger)
		}
		if state == "" {
			state, pos = x.grantingTransition(from, e.Consent.Topic, e.Consent.Trigger)
		}
	}
	if len(topics) == 0 {
		return "", "", flows.Pos{}, nil
	}
	for i, t := range triggers {
		triggers[i] = describeTrigger(t)
	}
	return fmt.Sprintf("the negative answer %q opted the customer in to %s: it took %s of state %s, and only a button, or keywords or a regex that mean yes, may record consent",
		s.text, strings.Join(topics, ", "), strings.Join(triggers, ", "), from), state, pos, nil
}

// describeTrigger says which transition a consent event's trigger names:
// "an else transition", "the transition of regex /./", "the transition of
// keyword no".
func describeTrigger(trigger string) string {
	kind, what, _ := strings.Cut(trigger, " ")
	switch kind {
	case "else":
		return "an else transition"
	case "regex":
		return "the transition of regex /" + what + "/"
	case "keyword":
		return "the transition of keyword " + strconv.Quote(what)
	}
	return "the transition of " + trigger
}
