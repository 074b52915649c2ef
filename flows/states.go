package flows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	stateKeys      = []string{"prompt", "on"}
	transitionKeys = []string{"button", "keywords", "regex", "else", "after", "before_window_closes", "goto", "end", "opt_in", "opt_out", "set", "capture", "handoff"}
)

var (
	// nameRe is a state name or a button or row id.
	nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	// flowNameRe is the flow part of a goto to another flow: a flow's
	// name or its file's base name.
	flowNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// queueRe is the queue of a handoff.
	queueRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// windowLength is the length of WhatsApp's customer service window: after
// the customer's last message, free-form messages may be sent this long.
const windowLength = 24 * time.Hour

// states decodes the states and sets the default start state.
func (l *loader) states(root *yaml.Node, fs fieldMap, f *Flow) {
	fd, ok := fs.Get("states")
	if !ok {
		if fs.Missing("states") {
			l.Addf(root, "missing states: a flow needs at least one state")
		}
		return
	}
	n, ok := l.mapping(fd.Value, "states", "a mapping of state names to states")
	if !ok {
		if isNull(n) {
			l.Addf(fd.Key, "no states: a flow needs at least one state")
		}
		return
	}
	entries := l.entries(n, "in states", "state")
	if len(entries) == 0 {
		l.Addf(fd.Key, "no states: a flow needs at least one state")
		return
	}
	for _, e := range entries {
		s := l.state(e)
		f.States[s.Name] = s
		f.StateOrder = append(f.StateOrder, s.Name)
	}
	if f.Start == "" {
		f.Start = f.StateOrder[0]
	}
}

// state decodes one state. It returns the state even when it has problems,
// so that gotos naming it do not also report it as unknown.
func (l *loader) state(e field) *State {
	name := e.Key.Value
	s := &State{Name: StateName(name), Pos: posOf(e.Key)}
	if !nameRe.MatchString(name) {
		l.Addf(e.Key, "invalid state name %s: use letters, digits, '_' and '-', starting with a letter", quote(name))
	}
	where := "state " + quote(name)
	n, ok := l.mapping(e.Value, where, "a mapping with prompt and on")
	if !ok {
		if isNull(n) {
			l.Addf(e.Key, "missing prompt in %s", where)
		}
		return s
	}
	fs := l.Fields(n, "in "+where, stateKeys)
	if fd, ok := fs.Get("prompt"); ok {
		s.Prompt = l.prompt(fd.Value, where)
	} else if fs.Missing("prompt") {
		l.Addf(e.Key, "missing prompt in %s", where)
	}
	if fd, ok := fs.Get("on"); ok {
		s.On = l.transitions(fd.Value, where, s.Prompt)
	}
	if k := s.Prompt.ExperimentPos; k.Line > 0 && !slices.ContainsFunc(s.On, func(t Transition) bool { return t.OptIn != "" }) {
		l.AddAt(k.Line, k.Col, "experiment in prompt of %s, which has no opt_in transition: experiments compare wordings of an opt-in request", where)
	}
	return s
}

// triggers is what the transitions of one state match on, to find
// transitions that could never match because an earlier one would.
type triggers struct {
	where     string   // "state 'welcome'"
	ids       []string // ids of the prompt's buttons, or of its list's rows
	list      bool     // ids are list rows
	byButton  map[string]int
	byKeyword map[string]int // normalised keyword -> transition number
	byRegex   map[string]int
	elseAt    int        // number of the first else transition, or 0
	elseKey   *yaml.Node // its else: key
	lastMsg   int        // number of the last transition that is not a timer
	afterAt   int        // number of the after transition, or 0
	windowAt  int        // number of the before_window_closes transition, or 0
}

// transitions decodes a state's on: list.
func (l *loader) transitions(n *yaml.Node, where string, p Prompt) []Transition {
	items := l.sequence(n, "'on' in "+where, "a list of transitions")
	tr := &triggers{where: where, byButton: make(map[string]int), byKeyword: make(map[string]int), byRegex: make(map[string]int)}
	for _, b := range p.Buttons {
		tr.ids = append(tr.ids, b.ID)
	}
	if p.List != nil && len(p.Buttons) == 0 {
		tr.list = true
		for _, r := range p.List.Rows {
			tr.ids = append(tr.ids, r.ID)
		}
	}
	var out []Transition
	for i, item := range items {
		t, ok := l.transition(i+1, item, tr)
		if ok {
			out = append(out, t)
		}
		if !ok || !t.IsTimer() {
			tr.lastMsg = i + 1
		}
	}
	if tr.elseAt != 0 && tr.lastMsg > tr.elseAt {
		l.Addf(tr.elseKey, "else in transition %d of %s is not the last transition: the transitions after it can never match", tr.elseAt, where)
	}
	return out
}

// transition decodes the i'th transition of a state.
func (l *loader) transition(i int, item *yaml.Node, tr *triggers) (Transition, bool) {
	var t Transition
	where := fmt.Sprintf("transition %d of %s", i, tr.where)
	n, ok := l.mapping(item, where, "a mapping with a trigger and goto or end")
	if !ok {
		if isNull(n) {
			l.Addf(n, "%s is empty: give it a trigger (button, keywords, regex, else, after or before_window_closes) and goto, end or handoff", where)
		}
		return t, false
	}
	t.Pos = posOf(n)
	fs := l.Fields(n, "in "+where, transitionKeys)
	timer := l.trigger(i, n, fs, tr, &t)
	l.effects(n, fs, where, timer, &t)
	return t, true
}

// trigger decodes what a transition matches on: a message (button,
// keywords, regex), any message (else) or a timer (after,
// before_window_closes). It reports whether the transition is a timer.
func (l *loader) trigger(i int, n *yaml.Node, fs fieldMap, tr *triggers, t *Transition) (timer bool) {
	where := fmt.Sprintf("transition %d of %s", i, tr.where)
	fb, hasButton := fs.Get("button")
	fk, hasKeywords := fs.Get("keywords")
	fr, hasRegex := fs.Get("regex")
	fe, hasElse := fs.Get("else")
	fa, hasAfter := fs.Get("after")
	fw, hasWindow := fs.Get("before_window_closes")
	message := hasButton || hasKeywords || hasRegex
	if fs.Missing("button") && fs.Missing("keywords") && fs.Missing("regex") && fs.Missing("else") &&
		fs.Missing("after") && fs.Missing("before_window_closes") {
		l.Addf(n, "%s has no trigger: give it button, keywords, regex, else: true, after or before_window_closes", where)
	}
	if hasElse && message {
		l.Addf(fe.Key, "else in %s cannot be combined with button, keywords or regex: else matches any message", where)
	}
	for _, fd := range []field{fa, fw} {
		if fd.Key != nil && (message || hasElse) {
			l.Addf(fd.Key, "%s in %s cannot be combined with button, keywords, regex or else: it fires on time, not on a message", fd.Key.Value, where)
		}
	}
	if hasAfter && hasWindow {
		l.Addf(fw.Key, "after and before_window_closes in %s are two timers: give each its own transition", where)
	}
	if hasButton {
		l.transitionButton(i, fb.Value, where, tr, t)
	}
	if hasKeywords {
		l.transitionKeywords(i, fk.Value, where, tr, t)
	}
	if hasRegex {
		l.transitionRegex(i, fr.Value, where, tr, t)
	}
	if hasElse {
		t.Else = l.flag(fe.Value, "else in "+where)
		if tr.elseAt != 0 {
			l.Addf(fe.Key, "more than one else in %s (first in transition %d)", tr.where, tr.elseAt)
		} else {
			tr.elseAt, tr.elseKey = i, fe.Key
		}
	}
	if hasAfter {
		t.After = l.duration(fa.Value, "after in "+where, 0)
		if tr.afterAt != 0 {
			l.Addf(fa.Key, "more than one after in %s (first in transition %d)", tr.where, tr.afterAt)
		} else {
			tr.afterAt = i
		}
	}
	if hasWindow {
		t.BeforeWindowCloses = l.duration(fw.Value, "before_window_closes in "+where, windowLength)
		if tr.windowAt != 0 {
			l.Addf(fw.Key, "more than one before_window_closes in %s (first in transition %d)", tr.where, tr.windowAt)
		} else {
			tr.windowAt = i
		}
	}
	return (hasAfter || hasWindow) && !message && !hasElse
}

func (l *loader) transitionButton(i int, n *yaml.Node, where string, tr *triggers, t *Transition) {
	id, ok := l.RequiredText(n, "button in "+where)
	if !ok {
		return
	}
	t.Button = id
	n = l.Resolve(n)
	if !slices.Contains(tr.ids, id) {
		l.Addf(n, "unknown button %s in %s%s", quote(id), where, buttonHint(id, tr))
		return
	}
	if first, dup := tr.byButton[id]; dup {
		l.Addf(n, "button %s is already used by transition %d of %s", quote(id), first, tr.where)
		return
	}
	tr.byButton[id] = i
}

// buttonHint completes "unknown button 'x'" with what the state offers.
func buttonHint(id string, tr *triggers) string {
	if len(tr.ids) == 0 {
		return "; the prompt of " + tr.where + " has no buttons or list rows"
	}
	if hint := didYouMean(id, tr.ids); hint != "" {
		return hint
	}
	if tr.list {
		return "; the rows of the list of " + tr.where + " are " + list(tr.ids)
	}
	return "; the buttons of " + tr.where + " are " + list(tr.ids)
}

func (l *loader) transitionKeywords(i int, n *yaml.Node, where string, tr *triggers, t *Transition) {
	subject := "keywords of " + where
	nodes, words := l.words(n, subject)
	if isEmptyList(l.Resolve(n)) {
		l.Addf(l.Resolve(n), "%s is empty", subject)
	}
	t.Keywords = words
	for k, w := range words {
		key := normKeyword(w)
		first, dup := tr.byKeyword[key]
		switch {
		case !dup:
			tr.byKeyword[key] = i
		case first != i:
			l.Addf(nodes[k], "keyword %s is already used by transition %d of %s", quote(w), first, tr.where)
		}
	}
}

// transitionRegex decodes a regex: RE2 syntax, as written (surrounding
// space included).
func (l *loader) transitionRegex(i int, n *yaml.Node, where string, tr *triggers, t *Transition) {
	s, ok := l.Text(n, "regex in "+where)
	if !ok {
		return
	}
	n = l.Resolve(n)
	if s == "" {
		l.Addf(n, "regex in %s is empty", where)
		return
	}
	re, err := regexp.Compile(s)
	if err != nil {
		l.Addf(n, "invalid regex in %s: %s", where, oneLine(err.Error()))
		return
	}
	t.Regex = re
	if first, dup := tr.byRegex[s]; dup {
		l.Addf(n, "regex %s is already used by transition %d of %s", quote(s), first, tr.where)
		return
	}
	tr.byRegex[s] = i
}

// oneLine escapes line breaks, so that a message quoting a value stays on
// one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\u0085", `\u0085`, "\u2028", `\u2028`, "\u2029", `\u2029`).Replace(s)
}

// duration decodes a timer's duration, which must be above 0 and, when
// limit is not 0, below it.
func (l *loader) duration(n *yaml.Node, subject string, limit time.Duration) time.Duration {
	s, ok := l.Text(n, subject)
	if !ok {
		return 0
	}
	n = l.Resolve(n)
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil || strings.TrimSpace(s) == "":
		l.Addf(n, "%s must be a duration such as 30m or 2h; found %s", subject, l.Describe(n))
	case d <= 0:
		l.Addf(n, "%s must be above 0; found %s", subject, l.Describe(n))
	case limit > 0 && d >= limit:
		l.Addf(n, "%s must be less than 24h, the length of the customer service window; found %s", subject, l.Describe(n))
	default:
		return d
	}
	return 0
}

// effects decodes what a transition does: goto, end, handoff, opt_in,
// opt_out, set and capture. timer says whether the transition fires on
// time rather than on a message.
func (l *loader) effects(n *yaml.Node, fs fieldMap, where string, timer bool, t *Transition) {
	fg, hasGoto := fs.Get("goto")
	fe, hasEnd := fs.Get("end")
	fh, hasHandoff := fs.Get("handoff")
	if fs.Missing("goto") && fs.Missing("end") && fs.Missing("handoff") {
		l.Addf(n, "%s has no goto, end: true or handoff", where)
	}
	if hasGoto {
		l.gotoTarget(fg.Value, where, t)
	}
	if hasEnd {
		t.End = l.flag(fe.Value, "end in "+where)
	}
	if hasHandoff {
		if hasGoto || hasEnd {
			l.Addf(fh.Key, "handoff in %s cannot be combined with goto or end: the conversation ends in the handoff", where)
		}
		l.transitionHandoff(fh, where, t)
	}
	if fd, ok := fs.Get("opt_in"); ok {
		t.OptIn = l.consentTopic(fd.Value, "opt_in", where)
		if timer {
			l.Addf(fd.Key, "opt_in in %s cannot fire on a timer: consent needs the customer's own answer", where)
		}
	}
	if fd, ok := fs.Get("opt_out"); ok {
		t.OptOut = l.consentTopic(fd.Value, "opt_out", where)
		if t.OptIn != "" && t.OptIn == t.OptOut {
			l.Addf(l.Resolve(fd.Value), "%s opts in to and out of topic %s at once", where, quote(string(t.OptIn)))
		}
	}
	if fd, ok := fs.Get("set"); ok {
		t.Set = l.set(fd.Value, where)
	}
	if fd, ok := fs.Get("capture"); ok {
		t.Capture = l.capture(fd.Value, where)
		if timer {
			l.Addf(fd.Key, "capture in %s has nothing to capture: a timer fires without a message", where)
		}
	}
}

// gotoTarget decodes a goto: a state of this flow, or flow/state for a
// state of another flow of the business, which only its syntax is checked
// of.
func (l *loader) gotoTarget(n *yaml.Node, where string, t *Transition) {
	s, ok := l.RequiredText(n, "goto in "+where)
	if !ok {
		return
	}
	n = l.Resolve(n)
	flow, state, cross := strings.Cut(s, "/")
	if !cross {
		t.Goto = StateName(s)
		l.refs = append(l.refs, ref{kind: refState, name: s, node: n, use: "goto"})
		return
	}
	if !flowNameRe.MatchString(flow) || !nameRe.MatchString(state) {
		l.Addf(n, "invalid goto %s in %s: write a state of this flow, or flow/state for a state of another flow", quote(s), where)
		return
	}
	t.GotoFlow, t.Goto = flow, StateName(state)
}

// set decodes a transition's set: mapping of variables to values.
func (l *loader) set(n *yaml.Node, where string) map[string]string {
	subject := "set of " + where
	n, ok := l.mapping(n, subject, "a mapping of variable names to values")
	if !ok || len(n.Content) == 0 {
		if ok || isNull(n) {
			l.Addf(n, "%s is empty: give it variable: value pairs (or leave it out)", subject)
		}
		return nil
	}
	out := make(map[string]string)
	for _, e := range l.entries(n, "in "+subject, "variable") {
		name := e.Key.Value
		switch {
		case name == VarBusiness || name == VarCustomer:
			l.Addf(e.Key, "variable %s is built in and cannot be set", quote(name))
			continue
		case !varNameRe.MatchString(name):
			l.Addf(e.Key, "invalid variable name %s in %s: use lowercase letters, digits and '_', starting with a letter", quote(name), subject)
			continue
		}
		s, ok := l.Text(e.Value, "value of "+quote(name)+" in "+subject)
		if !ok {
			continue
		}
		v := l.Resolve(e.Value)
		s = l.richText(s, v, subject, textValue)
		if name == VarLanguage {
			l.langSets = append(l.langSets, langSet{value: s, node: v, where: where})
		} else {
			l.vars = append(l.vars, varDef{name: name, node: e.Key})
		}
		out[name] = s
	}
	return out
}

// capture decodes the variable a transition stores the customer's answer
// in.
func (l *loader) capture(n *yaml.Node, where string) string {
	name, ok := l.RequiredText(n, "capture in "+where)
	if !ok {
		return ""
	}
	n = l.Resolve(n)
	switch {
	case slices.Contains(BuiltinVars, name):
		l.Addf(n, "variable %s is built in and cannot be captured", quote(name))
		return ""
	case !varNameRe.MatchString(name):
		l.Addf(n, "invalid variable name %s in capture of %s: use lowercase letters, digits and '_', starting with a letter", quote(name), where)
		return ""
	}
	l.vars = append(l.vars, varDef{name: name, node: n})
	return name
}

// consentTopic decodes the topic of an opt_in or opt_out. Only opt_out may
// name all topics at once.
func (l *loader) consentTopic(n *yaml.Node, key, where string) Topic {
	s, ok := l.RequiredText(n, key+" in "+where)
	if !ok {
		return ""
	}
	n = l.Resolve(n)
	switch {
	case s == string(TopicAll) && key == "opt_in":
		l.Addf(n, "opt_in in %s cannot be 'all': name the topic the customer opts in to", where)
	case s != string(TopicAll):
		l.refs = append(l.refs, ref{kind: refTopic, name: s, node: n, use: key})
	}
	return Topic(s)
}
