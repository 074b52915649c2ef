package flowtests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// HandoffCheck is what a handoff step expects of the latest input (a
// message, a tap, a wait or a release).
type HandoffCheck struct {
	// None expects no handoff event at all (handoff: false).
	None bool
	// Forwarded expects the message to have gone to the agents.
	Forwarded bool
	// Ended expects the handoff to have ended, for Reason when it is set.
	Ended  bool
	Reason bot.HandoffEndReason
	// Otherwise a handoff started. Queue and Resume, when set, are the
	// queue and the state the bot resumes (or resumed) in.
	Queue  string
	Resume flows.StateName

	queuePos, resumePos flows.Pos
}

// ReleaseStep is an agent handing the conversation back.
type ReleaseStep struct {
	State flows.StateName // "": the handoff's own resume state
	Agent string

	statePos flows.Pos
}

var (
	handoffCheckKeys = []string{"queue", "resume", "forwarded", "ended"}
	releaseKeys      = []string{"state", "agent"}
	endReasons       = []string{string(bot.HandoffReleased), string(bot.HandoffTimedOut), string(bot.HandoffOptedOut)}
)

const handoffWant = "true, false, a queue, or a mapping with queue, resume, forwarded or ended"

// handoffCheck reads `true`, `false`, `QUEUE` or `{queue, resume,
// forwarded, ended}`.
func (p *parser) handoffCheck(n *yaml.Node, subject string) (*HandoffCheck, bool) {
	r := p.Resolve(n)
	c := &HandoffCheck{}
	switch {
	case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!bool":
		c.None = !strings.EqualFold(r.Value, "true")
		return c, true
	case r.Kind == yaml.ScalarNode && !isNull(r):
		q, ok := p.RequiredText(r, subject)
		c.Queue, c.queuePos = q, posOf(r)
		return c, ok
	case r.Kind != yaml.MappingNode:
		p.WrongKind(r, subject, handoffWant)
		return nil, false
	}
	fs := p.Fields(r, "in "+subject, handoffCheckKeys)
	ok := true
	if fd, found := fs.Get("queue"); found {
		c.Queue, ok = p.RequiredText(fd.Value, "queue of "+subject)
		c.queuePos = posOf(p.Resolve(fd.Value))
	}
	if fd, found := fs.Get("resume"); found {
		s, sok := p.RequiredText(fd.Value, "resume of "+subject)
		c.Resume, c.resumePos, ok = flows.StateName(s), posOf(p.Resolve(fd.Value)), ok && sok
	}
	if fd, found := fs.Get("forwarded"); found {
		v := p.Resolve(fd.Value)
		if !(v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" && strings.EqualFold(v.Value, "true")) {
			p.Addf(v, "forwarded in %s must be true (leave it out otherwise); found %s", subject, p.Describe(v))
			ok = false
		}
		c.Forwarded = true
		if c.Resume != "" {
			p.Addf(fd.Key, "%s checks a forwarded message, which resumes nothing: leave out resume", subject)
			ok = false
		}
	}
	if fd, found := fs.Get("ended"); found {
		c.Ended = true
		v := p.Resolve(fd.Value)
		switch {
		case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" && strings.EqualFold(v.Value, "true"):
		case v.Kind == yaml.ScalarNode && slices.Contains(endReasons, v.Value):
			c.Reason = bot.HandoffEndReason(v.Value)
		default:
			hint := ""
			if v.Kind == yaml.ScalarNode {
				hint = didYouMean(v.Value, endReasons)
			}
			p.Addf(v, "ended in %s must be true or why the handoff ended: %s; found %s%s", subject, strings.Join(endReasons, ", "), p.Describe(v), hint)
			ok = false
		}
		if c.Forwarded {
			p.Addf(fd.Key, "%s checks both a forwarded message and the end of the handoff: split it in two steps", subject)
			ok = false
		}
	}
	return c, ok
}

// release reads `true` or `{state, agent}`.
func (p *parser) release(n *yaml.Node, subject string) (*ReleaseStep, bool) {
	r := p.Resolve(n)
	rs := &ReleaseStep{}
	switch {
	case r.Kind == yaml.ScalarNode && r.ShortTag() == "!!bool" && strings.EqualFold(r.Value, "true"):
		return rs, true
	case r.Kind != yaml.MappingNode:
		p.WrongKind(r, subject, "true, or a mapping with state and agent")
		return nil, false
	}
	fs := p.Fields(r, "in "+subject, releaseKeys)
	ok := true
	if fd, found := fs.Get("state"); found {
		s, sok := p.RequiredText(fd.Value, "state of "+subject)
		rs.State, rs.statePos, ok = flows.StateName(s), posOf(p.Resolve(fd.Value)), sok
	}
	if fd, found := fs.Get("agent"); found {
		a, aok := p.RequiredText(fd.Value, "agent of "+subject)
		rs.Agent, ok = a, ok && aok
	}
	return rs, ok
}

// String describes what the check expects.
func (c *HandoffCheck) String() string {
	var b strings.Builder
	switch {
	case c.None:
		return "no handoff event"
	case c.Forwarded:
		b.WriteString("the message forwarded to the agents")
	case c.Ended && c.Reason != "":
		fmt.Fprintf(&b, "the handoff ended (%s)", c.Reason)
	case c.Ended:
		b.WriteString("the handoff ended")
	default:
		b.WriteString("a handoff")
	}
	if c.Queue != "" {
		fmt.Fprintf(&b, ", queue %s", c.Queue)
	}
	if c.Resume != "" {
		fmt.Fprintf(&b, ", resuming in %s", c.Resume)
	}
	return b.String()
}

// matches reports whether one handoff event meets the check.
func (c *HandoffCheck) matches(e bot.Effect) bool {
	var queue, resume string
	switch {
	case c.Forwarded && e.Kind == bot.EffectHandoffMessage && e.HandoffMessage != nil:
		queue = e.HandoffMessage.Queue
	case c.Ended && e.Kind == bot.EffectHandoffEnded && e.HandoffEnded != nil:
		if c.Reason != "" && e.HandoffEnded.Reason != c.Reason {
			return false
		}
		queue, resume = e.HandoffEnded.Queue, e.HandoffEnded.Resume
	case !c.Forwarded && !c.Ended && e.Kind == bot.EffectHandoff && e.Handoff != nil:
		queue, resume = e.Handoff.Queue, e.Handoff.Resume
	default:
		return false
	}
	return (c.Queue == "" || c.Queue == queue) && (c.Resume == "" || string(c.Resume) == resume)
}

// handoffLine renders a handoff event for the transcript, or "" for any
// other effect.
func handoffLine(e bot.Effect) string {
	switch {
	case e.Kind == bot.EffectHandoff && e.Handoff != nil:
		return fmt.Sprintf("handoff: %s (resume %s)", e.Handoff.Queue, stateText(e.Handoff.Resume))
	case e.Kind == bot.EffectHandoffMessage && e.HandoffMessage != nil:
		return "handoff: message forwarded to " + e.HandoffMessage.Queue
	case e.Kind == bot.EffectHandoffEnded && e.HandoffEnded != nil:
		if e.HandoffEnded.Resume == "" {
			return "handoff ended: " + string(e.HandoffEnded.Reason)
		}
		return fmt.Sprintf("handoff ended: %s (resume %s)", e.HandoffEnded.Reason, e.HandoffEnded.Resume)
	}
	return ""
}

func stateText(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// checkHandoff runs a handoff step against the latest input's events.
func (r *testRun) checkHandoff(c *HandoffCheck) (want, got string, ok bool) {
	want = c.String()
	if c.None {
		if len(r.handoffs) == 0 {
			return want, "", true
		}
		return want, handoffLine(r.handoffs[0]), false
	}
	for _, e := range r.handoffs {
		if c.matches(e) {
			return want, "", true
		}
	}
	if len(r.handoffs) == 0 {
		got = "no handoff event"
		if len(r.pending) > 0 {
			got += " (the last input got " + r.pending[0].line + ")"
		}
		return want, got, false
	}
	lines := make([]string, len(r.handoffs))
	for i, e := range r.handoffs {
		lines[i] = handoffLine(e)
	}
	return want, strings.Join(lines, "; "), false
}

// runRelease hands the conversation back as an agent would.
func (r *testRun) runRelease(ctx context.Context, i int, rs *ReleaseStep) (want, got string, ok bool) {
	r.log("%s", r.t.Steps[i].String())
	want = "an agent to hand the conversation back"
	effects, err := r.sim.svc.HandleHandoffRelease(ctx, bot.HandoffRelease{ID: "flowtest-" + strconv.Itoa(i+1),
		Business: r.sim.business, Customer: r.t.Customer, State: rs.State, Agent: rs.Agent})
	switch {
	case errors.Is(err, bot.ErrNoHandoff):
		return want, "no handoff to hand back (the conversation is not handed off)", false
	case err != nil:
		return want, "error: " + err.Error(), false
	}
	r.pending, r.replies, r.handoffs = nil, 0, nil
	r.record(effects)
	return want, "", true
}

// String renders a release step as written.
func (rs *ReleaseStep) String() string {
	if rs.State == "" && rs.Agent == "" {
		return "release: true"
	}
	var parts []string
	if rs.State != "" {
		parts = append(parts, "state: "+string(rs.State))
	}
	if rs.Agent != "" {
		parts = append(parts, "agent: "+rs.Agent)
	}
	return "release: {" + strings.Join(parts, ", ") + "}"
}

// checkHandoffNames reports the queues and states of handoff and release
// steps that the flow does not have.
func checkHandoffNames(st Step, f *flows.Flow, states []string, add func(flows.Pos, string, ...any)) {
	flowName := quote(f.Name)
	checkState := func(s flows.StateName, pos flows.Pos) {
		if s != "" && f.States[s] == nil {
			add(pos, "unknown state %s in flow %s%s", quote(string(s)), flowName, didYouMean(string(s), states))
		}
	}
	switch {
	case st.Kind == StepHandoff && st.Handoff != nil:
		if q := st.Handoff.Queue; q != "" {
			queues := f.HandoffQueues()
			switch {
			case len(queues) == 0:
				add(st.Handoff.queuePos, "flow %s hands off to no queue, so it cannot hand off to %s", flowName, quote(q))
			case !slices.Contains(queues, q):
				hint := didYouMean(q, queues)
				if hint == "" {
					hint = "; its queues are " + strings.Join(queues, ", ")
				}
				add(st.Handoff.queuePos, "flow %s hands off to no queue %s%s", flowName, quote(q), hint)
			}
		}
		checkState(st.Handoff.Resume, st.Handoff.resumePos)
	case st.Kind == StepRelease && st.Release != nil:
		checkState(st.Release.State, st.Release.statePos)
	}
}

// source renders the check as it could be written in a flowtest file.
func (c *HandoffCheck) source() string {
	if c == nil {
		return "?"
	}
	if c.None {
		return "false"
	}
	var parts []string
	if c.Queue != "" {
		parts = append(parts, "queue: "+c.Queue)
	}
	if c.Resume != "" {
		parts = append(parts, "resume: "+string(c.Resume))
	}
	if c.Forwarded {
		parts = append(parts, "forwarded: true")
	}
	if c.Ended {
		reason := "true"
		if c.Reason != "" {
			reason = string(c.Reason)
		}
		parts = append(parts, "ended: "+reason)
	}
	switch {
	case len(parts) == 0:
		return "true"
	case len(parts) == 1 && c.Queue != "":
		return c.Queue
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
