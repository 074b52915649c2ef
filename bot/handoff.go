package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/flows"
)

// A handoff gives the conversation to a queue of human agents. The
// customer is told; their messages go to the agents (EffectHandoffMessage)
// and the bot answers only global keywords. It ends when an agent hands
// the conversation back (HandleHandoffRelease), when its timeout passes
// after the customer's latest message (a stored timer, so it survives a
// restart), or when the customer opts out. On a hand back or a timeout the
// customer is told and the bot resumes in the handoff's resume state.

// ErrNoHandoff reports a hand back for a customer whose conversation is not
// handed off (it was handed back already, timed out, ended by an opt-out,
// or never handed off). It wraps ErrBadInput: retrying cannot help.
var ErrNoHandoff = fmt.Errorf("no handoff stands: %w", ErrBadInput)

// InputHandoffRelease is an agent handing a conversation back.
const InputHandoffRelease InputKind = "handoff_release"

// notice names a handoff notice.
type notice int

const (
	noticeStarted notice = iota
	noticeTimedOut
	noticeReleased
)

func (n notice) of(m flows.Messages) string {
	switch n {
	case noticeStarted:
		return m.Handoff
	case noticeTimedOut:
		return m.HandoffTimeout
	}
	return m.HandoffReleased
}

func (n notice) ofDefault(lang string) string {
	w := defaultHandoffWording[lang]
	switch n {
	case noticeStarted:
		return w.Started
	case noticeTimedOut:
		return w.TimedOut
	}
	return w.Released
}

// handoffText is a handoff notice, with the business named, in the
// customer's language: the flow's wording in that language, else the
// engine's, else the flow's wording in the flow's language, else the
// engine's in the flow's language, else the engine's in English.
func (biz *Business) handoffText(c *Conversation, n notice) string {
	f := biz.Machine.Flow
	lang := language(c, f)
	own := ""
	if lang == f.Language {
		own = n.of(f.Messages)
	} else if v, ok := f.Messages.Variants[lang]; ok {
		own = n.of(v)
	}
	for _, text := range []string{own, n.ofDefault(lang), n.of(f.Messages), n.ofDefault(f.Language), n.ofDefault("en")} {
		if text != "" {
			return biz.wording(text, text)
		}
	}
	return ""
}

// handoffTimer returns the conversation's handoff timer, if it has one.
func handoffTimer(c *Conversation) (Timer, bool) {
	for _, t := range c.Timers {
		if t.Handoff != nil {
			return t, true
		}
	}
	return Timer{}, false
}

// setHandoffTimer makes the handoff's timeout due at due, replacing the
// one it had. The hold is copied: timers may be shared with the session
// the turn started from.
func setHandoffTimer(c *Conversation, hold HandoffHold, due time.Time) {
	dropHandoffTimer(c)
	c.Timers = append(c.Timers, Timer{ID: fmt.Sprintf("handoff@%d", due.UnixMilli()), Due: due,
		State: hold.Resume, Transition: -1, Handoff: &hold})
}

// dropHandoffTimer removes the handoff's timeout, leaving a new slice.
func dropHandoffTimer(c *Conversation) {
	var rest []Timer
	for _, t := range c.Timers {
		if t.Handoff == nil {
			rest = append(rest, t)
		}
	}
	c.Timers = rest
}

// handoffHold returns the standing handoff's hold and when it times out. A
// handoff stored before handoffs had timeouts has no timer: it resumes at
// the start of the current flow, and times out the flow's handoff timeout
// after lastInbound.
func (biz *Business) handoffHold(c *Conversation, lastInbound time.Time) (HandoffHold, time.Time) {
	if t, ok := handoffTimer(c); ok {
		return *t.Handoff, t.Due
	}
	f := biz.Machine.Flow
	hold := HandoffHold{Queue: c.Handoff, Flow: f.Name, FlowVersion: f.Version, Resume: f.Start, Timeout: f.HandoffTimeout}
	if hold.Timeout <= 0 {
		hold.Timeout = flows.DefaultHandoffTimeout
	}
	return hold, lastInbound.Add(hold.Timeout)
}

// startHandoff takes a handoff transition t of machine m: the conversation
// ends in the handoff, the customer is told, the handoff's timeout is set
// and the agents' queue gets the handoff.
func (biz *Business) startHandoff(b *turnBuilder, m *Machine, t *flows.Transition) {
	c := &b.turn.Conversation
	from := c.State
	resume := t.HandoffResume
	if resume == "" {
		resume = from
	}
	hold := HandoffHold{Queue: t.Handoff, Flow: m.Flow.Name, FlowVersion: m.Flow.Version, Resume: resume,
		Timeout: m.Flow.HandoffTimeoutOf(t)}
	vars := copyVars(c.Vars)
	endConversation(c)
	c.Handoff = t.Handoff
	text := biz.handoffText(c, noticeStarted)
	c.LastPrompt = text
	b.reply(b.inReplyTo, flows.Prompt{Text: text})
	due := b.now.Add(hold.Timeout)
	setHandoffTimer(c, hold, due)
	e := b.effect(EffectHandoff)
	e.Handoff = &Handoff{Queue: t.Handoff, Flow: m.Flow.Name, State: string(from), Vars: vars, At: b.now,
		Until: due, Resume: string(resume)}
	b.replies = append(b.replies, e)
}

// touchHandoff restarts a standing handoff's timeout from now, the
// customer having just written, unless it has already passed.
func (biz *Business) touchHandoff(b *turnBuilder) {
	c := &b.turn.Conversation
	if c.Handoff == "" {
		return
	}
	hold, due := biz.handoffHold(c, b.previousInbound)
	if b.now.Before(due) {
		setHandoffTimer(c, hold, b.now.Add(hold.Timeout))
	}
}

// handoffInbound handles a customer's message, not a global keyword, while
// a handoff stands: it goes to the agents, unanswered. If the handoff
// timed out before it came (its timer has yet to fire), the bot resumes
// instead, and the message, written for an agent, is answered with the
// resume state's prompt rather than taken as an answer to it.
func (biz *Business) handoffInbound(b *turnBuilder, m *Machine, in Inbound) {
	c := &b.turn.Conversation
	hold, due := biz.handoffHold(c, b.previousInbound)
	if !b.now.Before(due) {
		biz.endHandoff(b, m, HandoffTimedOut, hold.Resume, "")
		return
	}
	if in.ButtonID != "" && in.ButtonTitle == "" {
		in.ButtonTitle = optionTitle(in.ButtonID, m, biz.Machine)
	}
	e := b.effect(EffectHandoffMessage)
	e.HandoffMessage = &HandoffMessage{Queue: c.Handoff, InboundID: in.ID, Text: in.Text, ButtonID: in.ButtonID,
		ButtonTitle: in.ButtonTitle, At: in.Timestamp, Until: due}
	b.replies = append(b.replies, e)
}

// optionTitle is the title of a button or list row id in the first state
// of the machines that has it.
func optionTitle(id string, machines ...*Machine) string {
	for _, m := range machines {
		if m == nil {
			continue
		}
		for _, name := range m.Flow.StateOrder {
			if title := m.states[name].optionTitle(id); title != "" {
				return title
			}
		}
	}
	return ""
}

// endHandoff ends the standing handoff. But for an opt-out, which ends the
// conversation, the customer is told and the bot resumes in state on m,
// the handoff's flow version (the current version, when that one or the
// state is gone).
func (biz *Business) endHandoff(b *turnBuilder, m *Machine, reason HandoffEndReason, state flows.StateName, agent string) {
	c := &b.turn.Conversation
	end := &HandoffEnded{Queue: c.Handoff, Reason: reason, Agent: agent, At: b.now}
	c.Handoff = ""
	dropHandoffTimer(c)
	e := b.effect(EffectHandoffEnded)
	e.HandoffEnded = end
	b.replies = append(b.replies, e)
	if reason == HandoffOptedOut {
		return
	}
	if m == nil || m.states[state] == nil {
		m = biz.Machine
		if m.states[state] == nil {
			state = m.Flow.Start
		}
	}
	end.Resume = string(state)
	n := noticeTimedOut
	if reason == HandoffReleased {
		n = noticeReleased
	}
	b.reply(b.inReplyTo, flows.Prompt{Text: biz.handoffText(c, n)})
	c.FlowName, c.FlowVersion = m.Flow.Name, m.Flow.Version
	biz.enter(b, m, state, b.inReplyTo)
}

// HandleHandoffRelease is the engine's step for an agent handing the
// conversation back: the customer is told and the bot resumes, in
// r.State if given, else in the handoff's resume state. conv is the
// machine of the flow version the handoff resumes on (nil: the current
// one). It fails with ErrNoHandoff when no handoff stands, and with
// ErrBadInput for a state the flow does not have.
func (biz *Business) HandleHandoffRelease(conv *Machine, s *Session, r HandoffRelease, now time.Time) (Turn, error) {
	key := DedupID(InputHandoffRelease, "", s.Customer, r.ID)
	b := newTurn(biz, s, key, key, biz.DefaultSender, now)
	c := &b.turn.Conversation
	if c.Handoff == "" {
		return Turn{}, fmt.Errorf("handoff release %q for customer %s of business %s: %w", r.ID, s.Customer.Redacted(), biz.ID, ErrNoHandoff)
	}
	hold, _ := biz.handoffHold(c, c.LastInboundAt)
	m, state := conv, hold.Resume
	if r.State != "" {
		state = r.State
		if m == nil || m.states[state] == nil {
			if biz.Machine.states[state] == nil {
				return Turn{}, fmt.Errorf("handoff release %q: %q is not a state of flow %s: %w", r.ID, r.State, biz.Machine.Flow.Name, ErrBadInput)
			}
			m = biz.Machine
		}
	}
	biz.endHandoff(b, m, HandoffReleased, state, r.Agent)
	return b.done(), nil
}

// HandleHandoffRelease runs one turn for an agent handing a conversation
// back to the bot and returns the committed effects. A release id already
// processed returns no effects and no error, so a repeat is harmless. It
// fails with ErrNoHandoff (an ErrBadInput) when the customer's
// conversation is not handed off.
func (s *Service) HandleHandoffRelease(ctx context.Context, r HandoffRelease) ([]Effect, error) {
	biz, err := s.resolve(r.Business, "")
	if err != nil {
		return nil, fmt.Errorf("handoff release %q: %w", r.ID, err)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("handoff release for business %q has no id: %w", biz.ID, ErrBadInput)
	}
	if !r.Customer.wellFormed() {
		return nil, fmt.Errorf("handoff release %q: customer id %s is neither an E.164 number nor a WhatsApp user id: %w", r.ID, r.Customer.Redacted(), ErrBadInput)
	}
	return s.run(ctx, biz, r.Customer, InputHandoffRelease, DedupID(InputHandoffRelease, "", r.Customer, r.ID), func(sess *Session, now time.Time) (Turn, error) {
		return biz.HandleHandoffRelease(s.conversationMachine(ctx, biz, sess.Conversation), sess, r, now)
	})
}

// conversationMachine is machineFor, but during a handoff it is the
// machine of the flow version the handoff resumes on.
func (s *Service) conversationMachine(ctx context.Context, biz *Business, c Conversation) *Machine {
	if c.Handoff != "" && c.State == "" {
		if t, ok := handoffTimer(&c); ok {
			return s.machineFor(ctx, biz, Conversation{FlowName: t.Handoff.Flow, FlowVersion: t.Handoff.FlowVersion, State: t.Handoff.Resume})
		}
	}
	return s.machineFor(ctx, biz, c)
}
