package compliance

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flowtests"
	"github.com/optinbot/optinbot/store/memstore"
)

// Property is one of the compliance properties the explorer checks at
// every conversation state it reaches.
type Property string

const (
	// OptOutEndsAll (P1): an opt-out keyword (the probe is the default
	// English STOP, whatever the flow's keyword lists say) leaves every
	// topic of the business opted_out and is confirmed with a reply.
	OptOutEndsAll Property = "P1"
	// HelpAnswered (P2): HELP gets a reply and changes no consent.
	HelpAnswered Property = "P2"
	// TemplateNeedsYes (P3): a template is allowed only when the customer
	// is opted in to its topic by an answer of their own (a button,
	// keyword or regex transition with opt_in, or START restoring such an
	// opt-in): never by an else transition, a timer, or nothing.
	TemplateNeedsYes Property = "P3"
	// DuplicateIgnored (P4): a redelivered message (same inbound id)
	// has no effects and changes neither the conversation nor consent.
	DuplicateIgnored Property = "P4"
	// EngineError is not a property: the engine failed to run the flow.
	EngineError Property = "engine"
)

// Properties lists the properties in the order they are reported.
var Properties = []Property{OptOutEndsAll, HelpAnswered, TemplateNeedsYes, DuplicateIgnored,
	GrantNeedsFreshEvidence, OnlyYesGrants, NearMissOptOut, YesNeedsFreshRequest}

// Title says what the property demands, in a few words.
func (p Property) Title() string {
	switch p {
	case OptOutEndsAll:
		return "STOP opts out of every topic and is confirmed"
	case HelpAnswered:
		return "HELP is answered and changes no consent"
	case TemplateNeedsYes:
		return "no template without the customer's YES"
	case DuplicateIgnored:
		return "a redelivered message changes nothing"
	case OnlyYesGrants:
		return "only an affirmative answer records consent"
	case NearMissOptOut:
		return "a near-miss opt-out opts out or asks whether to stop"
	case EngineError:
		return "the engine runs the flow"
	}
	for _, c := range nodeChecks {
		if c.property == p {
			return c.title
		}
	}
	return string(p)
}

// Probe words: the default English words, whatever the flow's keyword
// lists say, because customers and WhatsApp's policy expect them.
const (
	ProbeStop      = "STOP"
	ProbeStart     = "START"
	ProbeHelp      = "HELP"
	ProbeUnmatched = "zzz unmatched"
	// ProbeSilence is how long the customer stays silent before the
	// "comes back later" input: longer than the customer service window,
	// so every timer of the state fires and a handoff lapses.
	ProbeSilence = 25 * time.Hour
)

// Defaults of Options. Conversation states are explored once each, so the
// node cap is what bounds the work (about 0.15 ms a node); the depth cap
// only keeps a pathological flow's conversations finite, and is generous
// so that a long flow (a 200-step ring needs some 200 inputs) is explored
// to its end.
const (
	DefaultMaxDepth = 1_000
	DefaultMaxNodes = 10_000
)

// Options bound an exploration.
type Options struct {
	// MaxDepth is the most inputs a conversation explored may have;
	// 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxNodes is the most distinct conversation states explored; 0
	// means DefaultMaxNodes.
	MaxNodes int
}

// Violation is a property that fails, with the shortest conversation that
// shows it.
type Violation struct {
	Property Property
	// Message says what went wrong, e.g. `"STOP" did not opt out of
	// every topic: news is none, not opted_out`.
	Message string
	// State is the flow state the customer was in when it happened ("" for
	// no active conversation).
	State flows.StateName
	// Pos is where in the flow file to look: for P3 the transition that
	// granted the topic, otherwise State's position (zero when unknown).
	Pos flows.Pos
	// Conversation is the shortest conversation that violates the
	// property, replayed on a fresh engine: "user: …", "bot: …",
	// "consent: TOPIC STATUS", "wait: 1h", "handoff: QUEUE" (and "handoff:
	// message forwarded to QUEUE", "handoff ended: REASON"),
	// "send_template: NAME -> sent" lines, in order.
	Conversation []string
}

// Report is the outcome of exploring one flow.
type Report struct {
	// States is how many distinct flow states the exploration reached;
	// Nodes how many distinct conversation states (flow state, consent
	// per topic, standing STOP, handoff) it explored.
	States, Nodes int
	// Violations holds at most one violation per property (the one with
	// the shortest conversation), in the order of Properties.
	Violations []Violation
	// Notes are limits of the exploration worth knowing: a cap reached, a
	// regex no sample was found for, topics P3 could not check, states
	// never reached.
	Notes []string
	// DepthCapped and NodeCapped report that a cap cut the exploration
	// short; Unreached lists the states never reached.
	DepthCapped, NodeCapped bool
	Unreached               []flows.StateName
}

// Check explores the flow with the default options and returns the
// properties it violates (nil when all hold). src is the flow file's
// bytes. An engine that cannot run the flow is reported as a violation of
// EngineError.
func Check(f *flows.Flow, src []byte) []Violation {
	r, err := Explore(context.Background(), f, src, Options{})
	if err != nil {
		return []Violation{{Property: EngineError, Message: err.Error()}}
	}
	return r.Violations
}

// stepKind says what an input step does.
type stepKind uint8

const (
	stepText      stepKind = iota // the customer writes text
	stepButton                    // the customer taps a button or list row
	stepWait                      // the clock moves to until, firing timers
	stepRedeliver                 // the provider redelivers the last message
)

type step struct {
	kind   stepKind
	text   string
	button string
	id     string    // message id
	until  time.Time // stepWait
}

// probe says which property an input class is a probe of.
type probe uint8

const (
	probeNone probe = iota
	probeOptOut
	probeHelp
)

// class is one input class tried at a node: one or two steps.
type class struct {
	steps []step
	probe probe
}

// grant is how the customer's latest opt-in to a topic came about.
type grant struct {
	yes   bool   // an answer of theirs: button, keyword or regex
	how   string // otherwise what granted it: "an else transition", "a timer (after 1h)"…
	why   string // and why that is no YES: "any text opts in"…
	state flows.StateName
	pos   flows.Pos
}

// node is one explored conversation state.
type node struct {
	parent *node
	via    class // from parent
	depth  int
	world  *world
	sess   bot.Session
	grants map[flows.Topic]grant
	last   *bot.Inbound // the last message of the path, for P4
}

// finding is the first violation of a property, kept until the end of the
// exploration, when it is replayed on a fresh engine.
type finding struct {
	n        *node
	probe    class  // P1, P2: the probe input
	template string // P3
	message  string
	// check, for the properties of nodeChecks, runs the probe that found
	// the violation again on a walker at the node, returning what is
	// wrong ("" if nothing); at, if set, is where the report points.
	check func(w *walker) (string, error)
	at    *flows.Pos
	// recheck checks P7 again at the end of the replayed path to n,
	// sending what it sends.
	recheck func(w *walker) (string, error)
}

type explorer struct {
	ctx   context.Context
	f     *flows.Flow
	src   []byte
	e     *engine
	snap  *snapStore
	opts  Options
	rep   *Report
	seen  map[string]bool
	found map[Property]*finding
	// classes are the message inputs of each state, without ids.
	classes map[flows.StateName][]class
	// unchecked are the topics P3 cannot check (granted_by).
	unchecked map[flows.Topic]bool
	// terminal recognises the prompts of states without transitions,
	// which end the conversation as soon as they are entered, so no node
	// rests in them; entered holds those seen.
	terminal []promptPattern
	entered  map[flows.StateName]bool
	// grantedAt caches grantingTransition.
	grantedAt map[string]grantSite
	// negativesProbed are the states P6 sent the negative answers to.
	negativesProbed map[flows.StateName]bool
	// nearMiss holds the shapes P7 has probed (see nearMissShape).
	nearMiss map[string]bool
	// visit, when set (by tests), sees every node explored.
	visit func(*node)
	// probes numbers the probes' inputs (probeID); probed holds what the
	// nodeChecks already probed (one probe per what decides its outcome).
	probes int
	probed map[string]bool
	shown  map[string][maxProbedNumber + 1]bool // numbersShown's cache
}

// promptPattern matches a state's prompt as sent, whatever its variables
// hold.
type promptPattern struct {
	state flows.StateName
	re    *regexp.Regexp
}

func newPromptPattern(state flows.StateName, text string) promptPattern {
	const hole = "\x00"
	parts := strings.Split(flows.Interpolate(text, func(string) string { return hole }), hole)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(oneLine(p))
	}
	return promptPattern{state: state, re: regexp.MustCompile("^(?s:" + strings.Join(parts, ".*") + ")$")}
}

// Explore runs the flow from a fresh customer, breadth first over input
// classes, and checks the properties at every conversation state reached.
// See docs/compliance.md.
func Explore(ctx context.Context, f *flows.Flow, src []byte, opts Options) (*Report, error) {
	x, err := newExplorer(ctx, f, src, opts)
	if err != nil {
		return nil, err
	}
	return x.explore()
}

func newExplorer(ctx context.Context, f *flows.Flow, src []byte, opts Options) (*explorer, error) {
	if opts.MaxDepth <= 0 {
		opts.MaxDepth = DefaultMaxDepth
	}
	if opts.MaxNodes <= 0 {
		opts.MaxNodes = DefaultMaxNodes
	}
	snap := newSnapStore(flowtests.BusinessSlug(f))
	snap.cur = &world{}
	e, err := newEngine(ctx, f, src, snap)
	if err != nil {
		return nil, fmt.Errorf("flow %s: %w", f.Name, err)
	}
	x := &explorer{ctx: ctx, f: f, src: src, e: e, snap: snap, opts: opts, rep: &Report{},
		seen: map[string]bool{}, found: map[Property]*finding{}, unchecked: map[flows.Topic]bool{},
		entered: map[flows.StateName]bool{}}
	for _, t := range f.Topics {
		if t.Category == flows.CategoryAuthentication {
			x.unchecked[t.Name] = true
			x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("P3 not checked for topic %s: an authentication template (a one-time code the customer asked for) needs no opt-in",
				t.Name))
			continue
		}
		if len(t.GrantedBy) > 0 {
			x.unchecked[t.Name] = true
			x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("P3 not checked for topic %s: granted_by %s lets sources outside the chat grant it",
				t.Name, strings.Join(t.GrantedBy, ", ")))
		}
	}
	x.buildClasses()
	return x, nil
}

func (x *explorer) explore() (*Report, error) {
	if err := x.run(); err != nil {
		return nil, err
	}
	if err := x.replayFindings(); err != nil {
		return nil, err
	}
	return x.rep, nil
}

// buildClasses lists each state's message inputs: its prompt's buttons or
// list rows, each keyword of its transitions and a sample of each regex.
func (x *explorer) buildClasses() {
	x.classes = map[flows.StateName][]class{}
	for _, name := range x.f.StateOrder {
		st := x.f.States[name]
		if len(st.On) == 0 {
			x.terminal = append(x.terminal, newPromptPattern(name, st.Prompt.Text))
			for _, v := range st.Prompt.Variants {
				x.terminal = append(x.terminal, newPromptPattern(name, v.Text))
			}
		}
		var out []class
		var texts []string
		addText := func(t string) {
			if !slices.Contains(texts, t) {
				texts = append(texts, t)
				out = append(out, class{steps: []step{{kind: stepText, text: t}}})
			}
		}
		if l := st.Prompt.List; l != nil {
			for _, r := range l.Rows {
				out = append(out, class{steps: []step{{kind: stepButton, button: r.ID}}})
			}
		} else {
			for _, b := range st.Prompt.Buttons {
				out = append(out, class{steps: []step{{kind: stepButton, button: b.ID}}})
			}
		}
		for _, t := range st.On {
			for _, k := range t.Keywords {
				addText(k)
			}
		}
		for i, t := range st.On {
			if t.Regex == nil {
				continue
			}
			if s, ok := x.regexSample(st, i); ok {
				addText(s)
			} else {
				x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("no text found that regex /%s/ of transition %d of state %s matches: that transition was not explored",
					oneLine(t.Regex.String()), i+1, name))
			}
		}
		x.classes[name] = out
	}
}

// regexSample picks a sample of the regex of transition i of st, if
// possible one that reaches it: no global keyword, and no earlier
// transition's keywords or regex take it.
func (x *explorer) regexSample(st *flows.State, i int) (string, bool) {
	samples := RegexSamples(st.On[i].Regex)
	if len(samples) == 0 {
		return "", false
	}
	kw := x.e.biz.Keywords
	for _, s := range samples {
		if kw.Match(s).Kind != bot.KeywordNone {
			continue
		}
		taken := false
		for _, t := range st.On[:i] {
			if len(t.Keywords) > 0 {
				if _, ok := bot.NewPhraseMatcher(t.Keywords, kw.Polite()).Match(bot.Normalize(s)); ok {
					taken = true
				}
			}
			if t.Regex != nil && t.Regex.MatchString(s) {
				taken = true
			}
		}
		if !taken {
			return s, true
		}
	}
	return samples[0], true
}

// classesAt lists the inputs tried at a node, with message ids.
func (x *explorer) classesAt(n *node) []class {
	c := n.sess.Conversation
	id := "m" + strconv.Itoa(n.depth+1)
	var out []class
	if c.State != "" {
		out = append(out, x.classes[c.State]...)
	}
	out = append(out,
		class{steps: []step{{kind: stepText, text: ProbeUnmatched}}},
		class{steps: []step{{kind: stepText, text: ProbeStop}}, probe: probeOptOut},
		class{steps: []step{{kind: stepText, text: ProbeStart}}},
		class{steps: []step{{kind: stepText, text: ProbeHelp}}, probe: probeHelp},
	)
	timers := slices.Clone(c.Timers)
	slices.SortFunc(timers, func(a, b bot.Timer) int { return cmp.Or(a.Due.Compare(b.Due), strings.Compare(a.ID, b.ID)) })
	for _, t := range timers {
		out = append(out, class{steps: []step{{kind: stepWait, until: t.Due}}})
	}
	out = append(out, class{steps: []step{
		{kind: stepWait, until: n.world.now.Add(ProbeSilence)},
		{kind: stepText, text: ProbeUnmatched},
	}})
	for i := range out {
		out[i].steps = slices.Clone(out[i].steps)
		for j := range out[i].steps {
			if k := out[i].steps[j].kind; k == stepText || k == stepButton {
				out[i].steps[j].id = id
			}
		}
	}
	return out
}

// walker applies steps to the engine, keeping the customer's session, the
// provenance of their opt-ins and, when recording, a transcript.
type walker struct {
	x      *explorer
	e      *engine
	sess   bot.Session
	grants map[flows.Topic]grant
	last   *bot.Inbound
	record bool
	lines  []string
}

func (w *walker) log(format string, args ...any) {
	if w.record {
		w.lines = append(w.lines, fmt.Sprintf(format, args...))
	}
}

// do applies one step and returns its effects.
func (w *walker) do(s step) ([]bot.Effect, error) {
	ctx := w.x.ctx
	pre := w.sess
	var effects []bot.Effect
	var err error
	message := false
	switch s.kind {
	case stepText, stepButton:
		in := bot.Inbound{ID: s.id, Text: s.text, ButtonID: s.button, Timestamp: w.e.now}
		if s.kind == stepText {
			w.log("user: %s", oneLine(s.text))
		} else {
			w.log("user: [%s]", s.button)
		}
		effects, err = w.e.inbound(ctx, in)
		w.last, message = &in, true
	case stepRedeliver:
		in := *w.last
		if in.ButtonID != "" {
			w.log("user: [%s] (redelivered: same message id %s)", in.ButtonID, in.ID)
		} else {
			w.log("user: %s (redelivered: same message id %s)", oneLine(in.Text), in.ID)
		}
		effects, err = w.e.inbound(ctx, in)
		message = true
	case stepWait:
		w.log("wait: %s", formatDuration(s.until.Sub(w.e.now)))
		effects, err = w.e.advanceTo(ctx, s.until)
	}
	if err != nil {
		return nil, err
	}
	w.logEffects(effects, message)
	if w.sess, err = w.e.session(ctx); err != nil {
		return nil, err
	}
	w.noteGrants(s, pre, effects)
	return effects, nil
}

func (w *walker) logEffects(effects []bot.Effect, message bool) {
	if !w.record {
		return
	}
	answered := false
	for _, e := range effects {
		switch {
		case e.Kind == bot.EffectConsent && e.Consent != nil:
			w.log("consent: %s %s", e.Consent.Topic, e.Consent.Status)
		case e.Kind == bot.EffectMessage && e.Message != nil && e.RequestID == "":
			w.log("bot: %s", replyText(e.Message))
			answered = true
		case e.Kind == bot.EffectRefused && e.Refusal != nil && e.RequestID == "":
			w.log("bot: (reply refused: %s)", e.Refusal.Reason)
			answered = true
		case e.Kind == bot.EffectHandoff && e.Handoff != nil:
			w.log("handoff: %s", e.Handoff.Queue)
		case e.Kind == bot.EffectHandoffMessage && e.HandoffMessage != nil:
			w.log("handoff: message forwarded to %s", e.HandoffMessage.Queue)
		case e.Kind == bot.EffectHandoffEnded && e.HandoffEnded != nil:
			w.log("handoff ended: %s", e.HandoffEnded.Reason)
		}
	}
	if message && !answered {
		w.log("bot: (no reply)")
	}
}

// noteGrants records how each opt-in of the step came about. START
// restores what the latest STOP ended: the grant before it stands again.
func (w *walker) noteGrants(s step, pre bot.Session, effects []bot.Effect) {
	restart := s.kind == stepText && w.e.biz.Keywords.Match(s.text).Kind == bot.KeywordOptIn
	copied := false
	for _, e := range effects {
		if e.Kind != bot.EffectConsent || e.Consent == nil || e.Consent.Status != bot.OptedIn {
			continue
		}
		ev := e.Consent
		if !copied {
			grants := make(map[flows.Topic]grant, len(w.grants)+1)
			for k, v := range w.grants {
				grants[k] = v
			}
			w.grants, copied = grants, true
		}
		if restart {
			if _, ok := w.grants[ev.Topic]; !ok {
				w.grants[ev.Topic] = grant{how: "START", why: "no earlier opt-in is on record"}
			}
			continue
		}
		w.grants[ev.Topic] = w.x.classify(ev, pre.Conversation.State)
	}
}

// classify says whether an opt-in event is the customer's own answer.
func (x *explorer) classify(ev *bot.ConsentEvent, from flows.StateName) grant {
	g := grant{}
	switch {
	case ev.InboundID == "" && strings.HasPrefix(ev.Trigger, "timer "):
		g.how = "a timer (" + strings.TrimPrefix(ev.Trigger, "timer ") + ")"
		g.why = "no message from the customer"
	case ev.InboundID == "":
		g.how = strconv.Quote(ev.Trigger)
		g.why = "no message from the customer"
	case ev.Trigger == "else":
		g.how = "an else transition"
		g.why = "any text opts in"
	case strings.HasPrefix(ev.Trigger, "button "), strings.HasPrefix(ev.Trigger, "keyword "), strings.HasPrefix(ev.Trigger, "regex "):
		g.yes = true
	default:
		g.how = strconv.Quote(ev.Trigger)
		g.why = "not a button, keyword or regex answer"
	}
	g.state, g.pos = x.grantingTransition(from, ev.Topic, ev.Trigger)
	return g
}

type grantSite struct {
	state flows.StateName
	pos   flows.Pos
}

// grantingTransition finds the transition that recorded an opt-in to topic
// with this trigger: in state from if it has one, else the first in the
// file.
func (x *explorer) grantingTransition(from flows.StateName, topic flows.Topic, trigger string) (flows.StateName, flows.Pos) {
	key := string(from) + "\x00" + string(topic) + "\x00" + trigger
	if s, ok := x.grantedAt[key]; ok {
		return s.state, s.pos
	}
	state, pos := x.findGrantingTransition(from, topic, trigger)
	if x.grantedAt == nil {
		x.grantedAt = map[string]grantSite{}
	}
	x.grantedAt[key] = grantSite{state, pos}
	return state, pos
}

func (x *explorer) findGrantingTransition(from flows.StateName, topic flows.Topic, trigger string) (flows.StateName, flows.Pos) {
	matches := func(t *flows.Transition) bool {
		if t.OptIn != topic {
			return false
		}
		kind, what, _ := strings.Cut(trigger, " ")
		switch kind {
		case "else":
			return t.Else
		case "timer":
			if d, ok := strings.CutPrefix(what, "after "); ok {
				return t.After > 0 && t.After.String() == d
			}
			if d, ok := strings.CutPrefix(what, "before_window_closes "); ok {
				return t.BeforeWindowCloses > 0 && t.BeforeWindowCloses.String() == d
			}
		case "button":
			id, _, _ := strings.Cut(what, " ")
			return t.Button == id
		case "keyword":
			return slices.Contains(t.Keywords, what)
		case "regex":
			return t.Regex != nil && t.Regex.String() == what
		}
		return false
	}
	order := append([]flows.StateName{from}, x.f.StateOrder...)
	for _, name := range order {
		st := x.f.States[name]
		if st == nil {
			continue
		}
		for i := range st.On {
			if matches(&st.On[i]) {
				return name, st.On[i].Pos
			}
		}
	}
	return from, x.statePos(from)
}

func (x *explorer) statePos(s flows.StateName) flows.Pos {
	if st := x.f.States[s]; st != nil {
		return st.Pos
	}
	return flows.Pos{}
}

// key is a node's identity: flow state, handoff, consent per topic with
// the provenance of its latest opt-in, and the standing STOP with what
// START would restore.
func (x *explorer) key(sess bot.Session, grants map[flows.Topic]grant) string {
	var b strings.Builder
	c := sess.Conversation
	b.WriteString(string(c.State))
	b.WriteString("|h=")
	b.WriteString(c.Handoff)
	for _, t := range x.topics(sess) {
		b.WriteString("|")
		b.WriteString(string(t))
		b.WriteString("=")
		b.WriteString(string(sess.Consent[t]))
		if g, ok := grants[t]; ok && g.yes {
			b.WriteString("/yes")
		} else if ok {
			b.WriteString("/other")
		}
	}
	if s := c.Stop; s != nil {
		r := slices.Clone(s.Restorable)
		slices.Sort(r)
		fmt.Fprintf(&b, "|stop:%t:%v", s.ByProvider, r)
	}
	if c.StopAsked != nil {
		b.WriteString("|asked") // the next message answers the question whether to stop
	}
	return b.String()
}

// topics are the flow's topics, then any other the session holds consent
// for, sorted.
func (x *explorer) topics(sess bot.Session) []flows.Topic {
	out := make([]flows.Topic, 0, len(x.f.Topics))
	for _, t := range x.f.Topics {
		out = append(out, t.Name)
	}
	var extra []flows.Topic
	for t := range sess.Consent {
		if !slices.Contains(out, t) {
			extra = append(extra, t)
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// run is the breadth-first exploration.
func (x *explorer) run() error {
	root := &node{world: &world{now: flowtests.SimulationStart}, grants: map[flows.Topic]grant{}}
	x.snap.cur = root.world
	sess, err := x.e.session(x.ctx)
	if err != nil {
		return err
	}
	root.sess = sess
	x.seen[x.key(root.sess, root.grants)] = true
	states := map[flows.StateName]bool{}
	queue := []*node{root}
	x.rep.Nodes = 1
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if s := n.sess.Conversation.State; s != "" {
			states[s] = true
		}
		if x.visit != nil {
			x.visit(n)
		}
		if err := x.probeNode(n); err != nil {
			return err
		}
		for _, c := range x.classesAt(n) {
			child, err := x.apply(n, c)
			if err != nil {
				return err
			}
			k := x.key(child.sess, child.grants)
			if x.seen[k] {
				continue
			}
			if child.depth > x.opts.MaxDepth {
				x.rep.DepthCapped = true
				continue
			}
			if x.rep.Nodes >= x.opts.MaxNodes {
				x.rep.NodeCapped = true
				continue
			}
			x.seen[k] = true
			x.rep.Nodes++
			queue = append(queue, child)
		}
		// A node's world is no longer needed once its children hold theirs.
		n.world = nil
	}
	for s := range x.entered {
		states[s] = true
	}
	x.rep.States = len(states)
	for _, name := range x.f.StateOrder {
		if !states[name] {
			x.rep.Unreached = append(x.rep.Unreached, name)
		}
	}
	if x.rep.NodeCapped {
		x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("exploration stopped at %d conversation states (the node cap): the rest were not checked", x.opts.MaxNodes))
	}
	if x.rep.DepthCapped {
		x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("conversations longer than %d inputs were not explored (the depth cap)", x.opts.MaxDepth))
	}
	if len(x.rep.Unreached) > 0 {
		names := make([]string, len(x.rep.Unreached))
		for i, s := range x.rep.Unreached {
			names[i] = string(s)
		}
		how := "never reached"
		if x.rep.NodeCapped || x.rep.DepthCapped {
			how = "not reached within the caps"
		}
		x.rep.Notes = append(x.rep.Notes, fmt.Sprintf("states %s: %s", how, strings.Join(names, ", ")))
	}
	return nil
}

// walkerAt starts a walker on a copy of the node's world.
func (x *explorer) walkerAt(n *node) *walker {
	w := n.world.clone()
	x.snap.cur = w
	x.e.now = w.now
	return &walker{x: x, e: x.e, sess: n.sess, grants: n.grants, last: n.last}
}

// apply runs an input class from a node and checks the property it probes.
func (x *explorer) apply(n *node, c class) (*node, error) {
	w := x.walkerAt(n)
	var effects []bot.Effect
	for _, s := range c.steps {
		out, err := w.do(s)
		if err != nil {
			return nil, err
		}
		effects = out
		x.noteEntered(out)
	}
	x.snap.cur.now = x.e.now
	child := &node{parent: n, via: c, depth: n.depth + 1, world: x.snap.cur, sess: w.sess, grants: w.grants, last: w.last}
	if c.probe != probeNone {
		if msg := x.checkProbe(c, n.sess, w.sess, effects); msg != "" {
			x.report(probeProperty(c.probe), &finding{n: n, probe: c, message: msg})
		}
	}
	return child, nil
}

// noteEntered marks the states without transitions whose prompt was sent.
func (x *explorer) noteEntered(effects []bot.Effect) {
	for _, e := range effects {
		if e.Kind != bot.EffectMessage || e.Message == nil || e.RequestID != "" {
			continue
		}
		text := oneLine(e.Message.Text)
		for _, p := range x.terminal {
			if !x.entered[p.state] && p.re.MatchString(text) {
				x.entered[p.state] = true
			}
		}
	}
}

func probeProperty(p probe) Property {
	if p == probeOptOut {
		return OptOutEndsAll
	}
	return HelpAnswered
}

func (x *explorer) report(p Property, f *finding) {
	if _, ok := x.found[p]; !ok {
		x.found[p] = f
	}
}

// probeNode checks P3, P4 and P6 at a node: each declared template is
// requested, the last message is redelivered, and in a state with an
// opt_in transition each negative answer is sent, each on a copy; then the
// properties of nodeChecks.
func (x *explorer) probeNode(n *node) error {
	if err := x.probeNegatives(n); err != nil {
		return err
	}
	if err := x.probeChecks(n); err != nil {
		return err
	}
	if _, done := x.found[TemplateNeedsYes]; !done {
		for _, tpl := range x.f.Templates {
			if x.unchecked[tpl.Topic] {
				continue
			}
			msg, err := x.tryTemplate(x.walkerAt(n), tpl)
			if err != nil {
				return err
			}
			if msg != "" {
				x.report(TemplateNeedsYes, &finding{n: n, template: tpl.Name, message: msg})
				break
			}
		}
	}
	if _, done := x.found[DuplicateIgnored]; !done && n.last != nil {
		msg, err := x.tryRedeliver(x.walkerAt(n))
		if err != nil {
			return err
		}
		if msg != "" {
			x.report(DuplicateIgnored, &finding{n: n, message: msg})
		}
	}
	return x.probeNearMiss(n)
}

// tryTemplate requests a template and returns what is wrong if it was
// allowed without the customer's YES.
func (x *explorer) tryTemplate(w *walker, tpl flows.Template) (string, error) {
	effects, err := w.e.sendTemplate(x.ctx, "compliance-"+tpl.Name, tpl.Name)
	if err != nil {
		return "", err
	}
	outcome, sent := "no decision", false
	for _, e := range effects {
		switch {
		case e.Kind == bot.EffectMessage && e.RequestID != "":
			outcome, sent = "sent", true
		case e.Kind == bot.EffectRefused && e.Refusal != nil:
			outcome = "refused " + string(e.Refusal.Reason)
		}
	}
	w.log("send_template: %s -> %s", tpl.Name, outcome)
	if !sent {
		return "", nil
	}
	sess := w.sess
	if st := sess.Consent[tpl.Topic]; st != bot.OptedIn {
		return fmt.Sprintf("template %s (topic %s) was sent though the customer's consent to %s is %s",
			tpl.Name, tpl.Topic, tpl.Topic, statusName(st)), nil
	}
	g, ok := w.grants[tpl.Topic]
	switch {
	case !ok:
		return fmt.Sprintf("template %s (topic %s) was sent, but nothing in the conversation opted the customer in to %s",
			tpl.Name, tpl.Topic, tpl.Topic), nil
	case !g.yes:
		where := ""
		if g.state != "" {
			where = " of state " + string(g.state)
		}
		return fmt.Sprintf("template %s (topic %s) was sent, but the customer never said YES to %s: it was granted by %s%s, and %s",
			tpl.Name, tpl.Topic, tpl.Topic, g.how, where, g.why), nil
	}
	return "", nil
}

// tryRedeliver redelivers the node's last message and returns what it
// changed.
func (x *explorer) tryRedeliver(w *walker) (string, error) {
	before := w.sess
	effects, err := w.do(step{kind: stepRedeliver})
	if err != nil {
		return "", err
	}
	var changed []string
	if len(effects) > 0 {
		kinds := make([]string, len(effects))
		for i, e := range effects {
			kinds[i] = string(e.Kind)
		}
		changed = append(changed, fmt.Sprintf("it had %d effects (%s)", len(effects), strings.Join(kinds, ", ")))
	}
	if !sameConversation(before.Conversation, w.sess.Conversation) {
		changed = append(changed, "it changed the conversation")
	}
	if !sameConsent(before.Consent, w.sess.Consent) {
		changed = append(changed, "it changed consent")
	}
	if len(changed) == 0 {
		return "", nil
	}
	return fmt.Sprintf("message %s was redelivered and %s", w.last.ID, strings.Join(changed, "; ")), nil
}

// checkProbe returns what the probe's answer got wrong, or "".
func (x *explorer) checkProbe(c class, before, after bot.Session, effects []bot.Effect) string {
	s := c.steps[len(c.steps)-1]
	replied := false
	var consent []string
	for _, e := range effects {
		switch {
		case e.Kind == bot.EffectMessage && e.InReplyTo == s.id && e.RequestID == "":
			replied = true
		case e.Kind == bot.EffectConsent && e.Consent != nil:
			consent = append(consent, string(e.Consent.Topic)+" "+string(e.Consent.Status))
		}
	}
	kw := x.e.biz.Keywords.Match(s.text).Kind
	var problems []string
	switch c.probe {
	case probeOptOut:
		for _, t := range x.topics(after) {
			if st := after.Consent[t]; st != bot.OptedOut {
				problems = append(problems, fmt.Sprintf("%s is %s, not opted_out", t, statusName(st)))
			}
		}
		if !replied {
			problems = append(problems, "no confirmation was sent")
		}
		if len(problems) == 0 {
			return ""
		}
		msg := fmt.Sprintf("%q did not opt out of every topic: %s", s.text, strings.Join(problems, "; "))
		if kw != bot.KeywordOptOut {
			msg += fmt.Sprintf(" (%s is not an opt-out keyword of this flow: its keywords: list replaces the default one, so the flow got the message)", s.text)
		}
		return msg
	case probeHelp:
		if !replied {
			problems = append(problems, "got no reply")
		}
		if len(consent) > 0 || !sameConsent(before.Consent, after.Consent) {
			problems = append(problems, "changed consent ("+strings.Join(consent, ", ")+")")
		}
		if len(problems) == 0 {
			return ""
		}
		msg := fmt.Sprintf("%q %s", s.text, strings.Join(problems, " and "))
		var why []string
		if kw != bot.KeywordHelp {
			why = append(why, s.text+" is not a help keyword of this flow (its keywords: list replaces the default one), so the flow got the message")
		}
		if q := before.Conversation.Handoff; q != "" && !replied {
			why = append(why, "the conversation is handed off to "+q+", and the bot stays silent to the flow's messages")
		}
		if len(why) > 0 {
			msg += ": " + strings.Join(why, "; ")
		}
		return msg
	}
	return ""
}

func sameConsent(a, b map[flows.Topic]bot.ConsentStatus) bool {
	for t, s := range a {
		if b[t] != s {
			return false
		}
	}
	for t, s := range b {
		if a[t] != s {
			return false
		}
	}
	return true
}

func sameConversation(a, b bot.Conversation) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

func statusName(s bot.ConsentStatus) string {
	if s == "" {
		return "none"
	}
	return string(s)
}

// path returns the input classes from the root to n.
func path(n *node) []class {
	var out []class
	for ; n.parent != nil; n = n.parent {
		out = append(out, n.via)
	}
	slices.Reverse(out)
	return out
}

// replayFindings replays each finding's conversation on a fresh engine
// over memstore, as flowtests would, records its transcript and checks
// that the violation happens there too.
func (x *explorer) replayFindings() error {
	for _, p := range Properties {
		f, ok := x.found[p]
		if !ok {
			continue
		}
		v, err := x.replay(p, f)
		if err != nil {
			return err
		}
		x.rep.Violations = append(x.rep.Violations, v)
	}
	return nil
}

func (x *explorer) replay(p Property, f *finding) (Violation, error) {
	e, err := newEngine(x.ctx, x.f, x.src, memstore.New())
	if err != nil {
		return Violation{}, err
	}
	w := &walker{x: x, e: e, grants: map[flows.Topic]grant{}, record: true}
	if w.sess, err = e.session(x.ctx); err != nil {
		return Violation{}, err
	}
	for _, c := range path(f.n) {
		for _, s := range c.steps {
			if _, err := w.do(s); err != nil {
				return Violation{}, err
			}
		}
	}
	v := Violation{Property: p, State: w.sess.Conversation.State}
	v.Pos = x.statePos(v.State)
	var msg string
	switch p {
	case OptOutEndsAll, HelpAnswered:
		before := w.sess
		var effects []bot.Effect
		for _, s := range f.probe.steps {
			if effects, err = w.do(s); err != nil {
				return Violation{}, err
			}
		}
		msg = x.checkProbe(f.probe, before, w.sess, effects)
	case TemplateNeedsYes:
		tpl, _ := x.f.Template(f.template)
		if g, ok := w.grants[tpl.Topic]; ok && !g.yes {
			v.State, v.Pos = g.state, g.pos
		}
		msg, err = x.tryTemplate(w, tpl)
	case DuplicateIgnored:
		msg, err = x.tryRedeliver(w)
	case OnlyYesGrants:
		var state flows.StateName
		var pos flows.Pos
		if msg, state, pos, err = x.tryNegative(w, f.probe.steps[0]); state != "" {
			v.State, v.Pos = state, pos
		}
	case NearMissOptOut:
		msg, err = f.recheck(w)
	default:
		if f.check != nil {
			msg, err = f.check(w)
		}
		if f.at != nil {
			v.Pos = *f.at
		}
	}
	if err != nil {
		return Violation{}, err
	}
	if msg == "" {
		// The explorer's snapshot store and memstore disagree: say so
		// rather than hide the finding.
		msg = f.message + " (not reproduced when replayed on a fresh engine)"
	}
	v.Message, v.Conversation = msg, w.lines
	return v, nil
}

// replyText renders a reply on one line, with its buttons or list rows as
// [id: title], as flowtests transcripts do.
func replyText(m *bot.Message) string {
	var b strings.Builder
	b.WriteString(oneLine(m.Text))
	for _, bt := range m.Buttons {
		fmt.Fprintf(&b, " [%s: %s]", bt.ID, bt.Title)
	}
	if m.List != nil {
		for _, r := range m.List.Rows {
			fmt.Fprintf(&b, " [%s: %s]", r.ID, r.Title)
		}
	}
	return b.String()
}

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
