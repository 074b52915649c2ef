package flowtests

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// Result is the outcome of one test.
type Result struct {
	Test    *Test
	Failure *Failure // nil when the test passed
}

// Passed reports whether the test passed.
func (r Result) Passed() bool { return r.Failure == nil }

// Failure says where a test failed and how.
type Failure struct {
	// Step is the index in Test.Steps of the failing step, or -1 when the
	// test failed at its end (a strict test with a reply left unchecked,
	// or an engine that could not start).
	Step int
	Pos  flows.Pos // the failing step's position; the test's for -1
	// Conversation is the transcript up to and including the failing
	// step: "user: …", "bot: …", "consent: …", "wait: …", "send_…" lines.
	Conversation []string
	Expected     string
	Got          string
}

// RunTest runs one test of the suite on a fresh engine: an in-memory store
// and a clock starting at SimulationStart. The suite's flow must be loaded
// (see Load).
func (s *Suite) RunTest(ctx context.Context, t *Test) Result {
	r := &testRun{t: t}
	if s.Flow == nil {
		return r.fail(-1, t.Pos, "a loaded flow", "no flow (load the suite with Load)")
	}
	sim, err := NewSimulator(ctx, s.Flow, s.FlowSource, zerolog.Nop())
	if err != nil {
		return r.fail(-1, t.Pos, "an engine for the flow", "error: "+err.Error())
	}
	r.sim = sim
	if len(t.Vars) > 0 {
		if err := sim.seedVars(ctx, t.Customer, t.Vars); err != nil {
			return r.fail(-1, t.Pos, "the test's variables set", "error: "+err.Error())
		}
	}
	for i := range t.Steps {
		if f := r.step(ctx, i); f != nil {
			return Result{Test: t, Failure: f}
		}
	}
	if t.Strict && len(r.pending) > 0 {
		return r.fail(-1, t.Pos, "a bot step for every reply (the test is strict)", "unchecked "+r.pending[0].line)
	}
	return Result{Test: t}
}

// testRun is one test in progress.
type testRun struct {
	t          *Test
	sim        *Simulator
	transcript []string
	// pending are the replies to the latest input that no bot step has
	// matched yet, in order; replies counts all replies to it.
	pending []reply
	replies int
	// handoffs are the handoff events of the latest input.
	handoffs []bot.Effect
}

type reply struct {
	line    string // as in the transcript
	text    string
	refused bool
}

func (r *testRun) fail(step int, pos flows.Pos, expected, got string) Result {
	return Result{Test: r.t, Failure: r.failure(step, pos, expected, got)}
}

func (r *testRun) failure(step int, pos flows.Pos, expected, got string) *Failure {
	return &Failure{Step: step, Pos: pos, Conversation: append([]string(nil), r.transcript...), Expected: expected, Got: got}
}

func (r *testRun) log(format string, args ...any) {
	r.transcript = append(r.transcript, fmt.Sprintf(format, args...))
}

func (r *testRun) session(ctx context.Context) (bot.Session, error) {
	return r.sim.store.LoadSession(ctx, r.sim.business, r.t.Customer, r.sim.now.Add(-bot.ServiceWindow))
}

// step runs step i and returns its failure, or nil.
func (r *testRun) step(ctx context.Context, i int) *Failure {
	st := &r.t.Steps[i]
	fail := func(expected, got string) *Failure { return r.failure(i, st.Pos, expected, got) }
	id := "flowtest-" + strconv.Itoa(i+1)
	switch st.Kind {
	case StepUser, StepButton:
		if r.t.Strict && len(r.pending) > 0 {
			return fail("a bot step for every reply before the next message (the test is strict)", "unchecked "+r.pending[0].line)
		}
		in := bot.Inbound{ID: id, Customer: r.t.Customer, Timestamp: r.sim.now}
		if r.t.Numbered {
			in.Sender = NumberedSender
		}
		if st.Kind == StepUser {
			in.Text = st.Text
			r.log("user: %s", oneLine(st.Text))
		} else {
			in.ButtonID = st.Button
			r.log("user: [%s]", st.Button)
		}
		effects, err := r.sim.svc.HandleInbound(ctx, in)
		if err != nil {
			return fail("the engine to take the message", "error: "+err.Error())
		}
		r.pending, r.replies, r.handoffs = nil, 0, nil
		r.record(effects)
	case StepBot:
		want := "a reply " + st.Match.String()
		if len(r.pending) == 0 {
			if r.replies == 0 {
				return fail(want, "no reply to the last message")
			}
			return fail(want, fmt.Sprintf("no further reply (%s to the last message, already checked)",
				plural(r.replies, "reply", "replies")))
		}
		got := r.pending[0]
		r.pending = r.pending[1:]
		if got.refused || !st.Match.Match(got.text) {
			return fail(want, got.line)
		}
	case StepNoReply:
		if r.replies > 0 {
			got := r.pending
			if len(got) == 0 {
				return fail("no reply to the last message", fmt.Sprintf("%s (already checked)", plural(r.replies, "reply", "replies")))
			}
			more := ""
			if len(got) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(got)-1)
			}
			return fail("no reply to the last message", got[0].line+more)
		}
	case StepState:
		sess, err := r.session(ctx)
		if err != nil {
			return fail(describeState(st.State), "error: "+err.Error())
		}
		if got := sess.Conversation.State; got != st.State {
			return fail(describeState(st.State), describeState(got))
		}
	case StepConsent:
		sess, err := r.session(ctx)
		if err != nil {
			return fail("consent", "error: "+err.Error())
		}
		var want, got []string
		ok := true
		for _, c := range st.Consent {
			have := sess.Consent[c.Topic]
			if have != c.Status {
				ok = false
			}
			want = append(want, string(c.Topic)+": "+statusName(c.Status))
			got = append(got, string(c.Topic)+": "+statusName(have))
		}
		if !ok {
			return fail("consent {"+strings.Join(want, ", ")+"}", "consent {"+strings.Join(got, ", ")+"}")
		}
	case StepWait:
		r.log("wait: %s", formatDuration(st.Wait))
		effects, err := r.sim.Advance(ctx, st.Wait)
		if err != nil {
			return fail("the flow's timers to fire", "error: "+err.Error())
		}
		if len(effects) > 0 {
			// What a timer sends is checked like a reply.
			r.pending, r.replies, r.handoffs = nil, 0, nil
			r.record(effects)
		}
	case StepSendTemplate, StepSendText:
		req := bot.SendRequest{ID: id, Customer: r.t.Customer}
		what := ""
		if st.Kind == StepSendTemplate {
			req.Kind, req.Template, req.Topic = bot.KindTemplate, st.Template, st.Topic
			what = "send_template: " + st.Template
		} else {
			req.Kind, req.Text = bot.KindText, st.Text
			what = "send_text: " + strconv.Quote(st.Text)
		}
		want := expectation(st.Refused)
		effects, err := r.sim.svc.HandleSendRequest(ctx, req)
		if err != nil {
			r.log("%s -> error", what)
			return fail(want, "error: "+err.Error())
		}
		got := "no decision"
		for _, e := range effects {
			switch {
			case e.Kind == bot.EffectMessage && e.RequestID != "":
				got = "sent"
			case e.Kind == bot.EffectRefused && e.Refusal != nil:
				got = "refused " + string(e.Refusal.Reason)
			}
		}
		r.log("%s -> %s", what, got)
		if got != want {
			return fail(want, got)
		}
	case StepHandoff:
		if want, got, ok := r.checkHandoff(st.Handoff); !ok {
			return fail(want, got)
		}
	case StepRelease:
		if r.t.Strict && len(r.pending) > 0 {
			return fail("a bot step for every reply before the next message (the test is strict)", "unchecked "+r.pending[0].line)
		}
		if want, got, ok := r.runRelease(ctx, i, st.Release); !ok {
			return fail(want, got)
		}
	default:
		return fail("a step kind", "kind "+quote(string(st.Kind)))
	}
	return nil
}

func expectation(reason bot.Reason) string {
	if reason == "" {
		return "sent"
	}
	return "refused " + string(reason)
}

func describeState(s flows.StateName) string {
	if s == "" {
		return "no conversation (state none)"
	}
	return "state " + string(s)
}

func statusName(s bot.ConsentStatus) string {
	if s == "" {
		return "none"
	}
	return string(s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// replyText renders a reply for the transcript: its text on one line, then
// its buttons as [id: title].
func replyText(m *bot.Message) string {
	var b strings.Builder
	b.WriteString(oneLine(m.Text))
	for _, bt := range m.Buttons {
		fmt.Fprintf(&b, " [%s: %s]", bt.ID, bt.Title)
	}
	if m.List != nil {
		fmt.Fprintf(&b, " (list %q:", m.List.Button)
		for _, r := range m.List.Rows {
			fmt.Fprintf(&b, " [%s: %s]", r.ID, r.Title)
		}
		b.WriteString(")")
	}
	return b.String()
}

// oneLine keeps a transcript entry on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// formatDuration writes 25h rather than 25h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// String renders the step as it could be written in a flowtest file.
func (st Step) String() string {
	switch st.Kind {
	case StepUser:
		return "user: " + strconv.Quote(st.Text)
	case StepButton:
		return "button: " + st.Button
	case StepBot:
		return "bot: " + st.Match.Source
	case StepNoReply:
		return "no_reply: true"
	case StepState:
		if st.State == "" {
			return "state: none"
		}
		return "state: " + string(st.State)
	case StepConsent:
		parts := make([]string, len(st.Consent))
		for i, c := range st.Consent {
			parts[i] = string(c.Topic) + ": " + statusName(c.Status)
		}
		return "consent: {" + strings.Join(parts, ", ") + "}"
	case StepWait:
		return "wait: " + formatDuration(st.Wait)
	case StepHandoff:
		return "handoff: " + st.Handoff.source()
	case StepRelease:
		return st.Release.String()
	case StepSendTemplate, StepSendText:
		s := "send_text: " + strconv.Quote(st.Text)
		if st.Kind == StepSendTemplate {
			s = "send_template: {template: " + st.Template
			if st.Topic != "" {
				s += ", topic: " + string(st.Topic)
			}
			s += "}"
		}
		if st.Refused != "" {
			s += ", expect: {refused: " + string(st.Refused) + "}"
		}
		return s
	}
	return string(st.Kind)
}

// record logs a turn's effects and queues its replies for bot steps.
func (r *testRun) record(effects []bot.Effect) {
	for _, e := range effects {
		switch {
		case e.Kind == bot.EffectConsent:
			r.log("consent: %s %s", e.Consent.Topic, e.Consent.Status)
		case e.Kind == bot.EffectMessage && e.Message != nil:
			rp := reply{line: "bot: " + replyText(e.Message), text: e.Message.Text}
			r.transcript = append(r.transcript, rp.line)
			r.pending = append(r.pending, rp)
			r.replies++
		case e.Kind == bot.EffectRefused && e.Refusal != nil:
			rp := reply{line: "bot: (reply refused: " + string(e.Refusal.Reason) + ")", refused: true}
			r.transcript = append(r.transcript, rp.line)
			r.pending = append(r.pending, rp)
			r.replies++
		default:
			if line := handoffLine(e); line != "" {
				r.transcript = append(r.transcript, line)
				r.handoffs = append(r.handoffs, e)
			}
		}
	}
}
