package compliance

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// NearMissOptOut (P7, issue 10 item 3): a message from the fixed list of
// opt-out phrases (NearMissProbes), sent in any state, is either an opt-out
// (every topic opted_out, confirmed with a reply) or the question whether
// to stop (a reply, no consent event, the flow's state, prompt on record,
// variables, timers and handoff as they were) — never a consent grant, a
// flow answer or a help answer. And the question's answers: a YES to it
// opts out, and no typed answer the state takes (its keywords, its regex
// samples) records an opt-in.
//
// The engine answers global keywords before the flow, so a flow's own
// transitions cannot take these phrases; what can break P7 is a flow's
// keywords: list for a language, which replaces that language's default
// opt-out words (a Portuguese list without SAIR makes "sair" ordinary
// text). The engine's multi-word phrases and uncertain phrases cannot be
// dropped; P7 probes them all the same, so that an engine change that lost
// one fails here.
const NearMissOptOut Property = "P7"

// NearMissProbes are the messages P7 sends: the near misses of issue 10,
// then a certain and an uncertain phrase in each language the engine
// ships. They are fixed, whatever the flow's lists say.
var NearMissProbes = []string{
	"Unsubscribe me", "stop sending me messages", "Stop it", "STOPP", "🛑", "remove me", "no more messages",
	"s t o p", "arrêter", "se désabonner", "darme de baja", "basta", "no más", "sair",
	"Stooop", "please stop texting me", "enough", "désabonnez-moi", "não quero mais mensagens", "abmelden",
	"keine Nachrichten mehr", "annulla iscrizione", "إلغاء الاشتراك", "सदस्यता रद्द करें", "berhenti berlangganan",
	"取消订阅", "配信停止", "отписаться", "abonelikten çık",
}

// ProbeYes is P7's answer to the question whether to stop.
const ProbeYes = "yes"

// nearMissShape is what P7 probes once: the flow state, the handoff, a
// pending question and a standing STOP. The engine's answer to a phrase
// depends on nothing else a node holds.
func nearMissShape(c bot.Conversation) string {
	return fmt.Sprintf("%s|h=%s|asked=%t|stop=%t", c.State, c.Handoff, c.StopAsked != nil, c.Stop != nil)
}

// probeNearMiss checks P7 at a node, once per shape, on copies that do not
// become nodes.
func (x *explorer) probeNearMiss(n *node) error {
	if _, done := x.found[NearMissOptOut]; done {
		return nil
	}
	shape := nearMissShape(n.sess.Conversation)
	if x.nearMiss == nil {
		x.nearMiss = map[string]bool{}
	}
	if x.nearMiss[shape] {
		return nil
	}
	x.nearMiss[shape] = true
	id := "m" + strconv.Itoa(n.depth+1)
	next := "m" + strconv.Itoa(n.depth+2)
	answersChecked := false
	for _, text := range NearMissProbes {
		probe := step{kind: stepText, text: text, id: id}
		w := x.walkerAt(n)
		msg, asked, err := x.nearMissCheck(w, probe)
		if err != nil {
			return err
		}
		if msg != "" {
			x.reportNearMiss(n, []step{probe}, msg)
			return nil
		}
		if !asked || answersChecked {
			continue
		}
		answersChecked = true
		// The answers to the question: YES, and each typed input of the
		// state, each on its own copy.
		answers := []step{{kind: stepText, text: ProbeYes, id: next}}
		for _, c := range x.classes[n.sess.Conversation.State] {
			if s := c.steps[0]; len(c.steps) == 1 && s.kind == stepText {
				s.id = next
				answers = append(answers, s)
			}
		}
		for _, a := range answers {
			w := x.walkerAt(n)
			if _, _, err := x.nearMissCheck(w, probe); err != nil {
				return err
			}
			msg, err := x.answerCheck(w, a)
			if err != nil {
				return err
			}
			if msg != "" {
				x.reportNearMiss(n, []step{probe, a}, msg)
				return nil
			}
		}
	}
	return nil
}

func (x *explorer) reportNearMiss(n *node, steps []step, msg string) {
	f := &finding{n: n, probe: class{steps: steps}, message: msg}
	f.recheck = func(w *walker) (string, error) {
		msg, _, err := x.nearMissCheck(w, steps[0])
		if err != nil || msg != "" || len(steps) == 1 {
			return msg, err
		}
		return x.answerCheck(w, steps[1])
	}
	x.report(NearMissOptOut, f)
}

// nearMissCheck sends a probe phrase and returns what is wrong with the
// engine's answer ("" when none), and whether the answer was the question
// whether to stop.
func (x *explorer) nearMissCheck(w *walker, s step) (string, bool, error) {
	before := w.sess
	effects, err := w.do(s)
	if err != nil {
		return "", false, err
	}
	after := w.sess
	var reply string
	replied := false
	var in, out []string
	for _, e := range effects {
		switch {
		case e.Kind == bot.EffectMessage && e.InReplyTo == s.id && e.RequestID == "" && e.Message != nil:
			replied, reply = true, e.Message.Text
		case e.Kind == bot.EffectConsent && e.Consent != nil && e.Consent.Status == bot.OptedIn:
			in = append(in, string(e.Consent.Topic))
		case e.Kind == bot.EffectConsent && e.Consent != nil:
			out = append(out, string(e.Consent.Topic))
		}
	}
	var notOut []string
	for _, t := range x.topics(after) {
		if st := after.Consent[t]; st != bot.OptedOut {
			notOut = append(notOut, fmt.Sprintf("%s is %s", t, statusName(st)))
		}
	}
	c := after.Conversation
	stopped := c.Stop != nil && c.Stop.Prompt == reply && len(notOut) == 0 && len(in) == 0
	asked := c.StopAsked != nil && len(in)+len(out) == 0 && sameFlowState(before.Conversation, c)
	switch {
	case replied && stopped:
		return "", false, nil
	case replied && asked:
		return "", true, nil
	}
	var what string
	switch {
	case len(in) > 0:
		what = fmt.Sprintf("it recorded an opt-in to %s", strings.Join(in, ", "))
	case len(out) > 0 && len(notOut) > 0:
		what = fmt.Sprintf("it opted out of %s only: %s", strings.Join(out, ", "), strings.Join(notOut, "; "))
	case c.StopAsked != nil:
		what = "it asked whether to stop, but changed the conversation: " + flowChange(before.Conversation, c)
	case !replied:
		what = "it got no reply"
	case c.Stop != nil && c.Stop.Prompt == reply:
		what = "it was confirmed as a STOP, but " + strings.Join(notOut, "; ")
	default:
		what = "the flow answered it (" + flowChange(before.Conversation, c) + ")"
	}
	msg := fmt.Sprintf("%q was neither an opt-out nor the question whether to stop: %s", s.text, what)
	switch m := x.e.biz.Keywords.Match(s.text); m.Kind {
	case bot.KeywordNone:
		msg += " (it is no opt-out word of this flow: a keywords: list for a language replaces that language's default opt-out words, and this flow's leaves it out)"
	case bot.KeywordOptIn, bot.KeywordHelp:
		msg += fmt.Sprintf(" (this flow's keywords: lists make it the %s keyword %s)", m.Kind, strings.ToUpper(m.Keyword))
	}
	return msg, false, nil
}

// answerCheck answers the question whether to stop and returns what is
// wrong ("" when none): no answer may record an opt-in, and a YES opts out.
func (x *explorer) answerCheck(w *walker, s step) (string, error) {
	effects, err := w.do(s)
	if err != nil {
		return "", err
	}
	var in []string
	for _, e := range effects {
		if e.Kind == bot.EffectConsent && e.Consent != nil && e.Consent.Status == bot.OptedIn {
			in = append(in, string(e.Consent.Topic))
		}
	}
	if len(in) > 0 {
		return fmt.Sprintf("%q, answering the question whether to stop, recorded an opt-in to %s: an answer to that question is never consent",
			s.text, strings.Join(in, ", ")), nil
	}
	if s.text != ProbeYes {
		return "", nil
	}
	var notOut []string
	for _, t := range x.topics(w.sess) {
		if st := w.sess.Consent[t]; st != bot.OptedOut {
			notOut = append(notOut, fmt.Sprintf("%s is %s", t, statusName(st)))
		}
	}
	if len(notOut) > 0 || w.sess.Conversation.Stop == nil {
		return fmt.Sprintf("%q to the question whether to stop did not opt out: %s", s.text, cmp.Or(strings.Join(notOut, "; "), "no STOP stands")), nil
	}
	return "", nil
}

// sameFlowState reports whether the question left the flow as it was: its
// state and version, the prompt on record, variables, timers, handoff and
// standing STOP.
func sameFlowState(a, b bot.Conversation) bool {
	strip := func(c bot.Conversation) bot.Conversation {
		return bot.Conversation{FlowName: c.FlowName, FlowVersion: c.FlowVersion, State: c.State, LastPrompt: c.LastPrompt,
			Stop: c.Stop, Vars: c.Vars, Timers: c.Timers, Handoff: c.Handoff}
	}
	ja, errA := json.Marshal(strip(a))
	jb, errB := json.Marshal(strip(b))
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// flowChange says how the flow moved: "state ask → subscribed", "state ask,
// unchanged".
func flowChange(a, b bot.Conversation) string {
	name := func(s flows.StateName) string {
		if s == "" {
			return "none"
		}
		return string(s)
	}
	if a.State == b.State {
		return "state " + name(a.State) + ", unchanged"
	}
	return "state " + name(a.State) + " → " + name(b.State)
}
