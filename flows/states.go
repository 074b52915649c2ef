package flows

import (
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

var (
	stateKeys      = []string{"prompt", "on"}
	promptKeys     = []string{"text", "buttons"}
	buttonKeys     = []string{"id", "title"}
	transitionKeys = []string{"button", "keywords", "else", "goto", "end", "opt_in", "opt_out"}
)

// nameRe is a state name or a button id.
var nameRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// WhatsApp's limits on what a prompt can be sent as.
const (
	maxButtons     = 3    // quick-reply buttons per message
	maxButtonTitle = 20   // characters of a button title
	maxTextBody    = 4096 // characters of a text message
	maxButtonsBody = 1024 // characters of the body of a message with buttons
)

// states decodes the states and sets the default start state.
func (l *loader) states(root *yaml.Node, fs fieldMap, f *Flow) {
	fd, ok := fs.get("states")
	if !ok {
		if fs.missing("states") {
			l.addf(root, "missing states: a flow needs at least one state")
		}
		return
	}
	n, ok := l.mapping(fd.value, "states", "a mapping of state names to states")
	if !ok {
		if isNull(n) {
			l.addf(fd.key, "no states: a flow needs at least one state")
		}
		return
	}
	entries := l.entries(n, "in states", "state")
	if len(entries) == 0 {
		l.addf(fd.key, "no states: a flow needs at least one state")
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
	name := e.key.Value
	s := &State{Name: StateName(name), Pos: posOf(e.key)}
	if !nameRe.MatchString(name) {
		l.addf(e.key, "invalid state name %s: use letters, digits, '_' and '-', starting with a letter", quote(name))
	}
	where := "state " + quote(name)
	n, ok := l.mapping(e.value, where, "a mapping with prompt and on")
	if !ok {
		if isNull(n) {
			l.addf(e.key, "missing prompt in %s", where)
		}
		return s
	}
	fs := l.fields(n, "in "+where, stateKeys)
	if fd, ok := fs.get("prompt"); ok {
		s.Prompt = l.prompt(fd.value, where)
	} else if fs.missing("prompt") {
		l.addf(e.key, "missing prompt in %s", where)
	}
	if fd, ok := fs.get("on"); ok {
		s.On = l.transitions(fd.value, where, s.Prompt.Buttons)
	}
	return s
}

// prompt decodes a state's prompt: plain text, or text with buttons.
func (l *loader) prompt(n *yaml.Node, where string) Prompt {
	var p Prompt
	n = l.resolve(n)
	text := n // the node of the prompt's text
	switch n.Kind {
	case yaml.ScalarNode:
	case yaml.MappingNode:
		fs := l.fields(n, "in prompt of "+where, promptKeys)
		if fd, ok := fs.get("buttons"); ok {
			p.Buttons = l.buttons(fd.value, where)
		}
		fd, ok := fs.get("text")
		if !ok {
			if fs.missing("text") {
				l.addf(n, "missing text in prompt of %s", where)
			}
			return p
		}
		text = l.resolve(fd.value)
	default:
		l.wrongKind(n, "prompt of "+where, "text, or a mapping with text and buttons")
		return p
	}
	subject := "prompt text of " + where
	p.Text, _ = l.requiredText(text, subject)
	length := utf8.RuneCountInString(p.Text)
	switch {
	case len(p.Buttons) > 0 && length > maxButtonsBody:
		l.addf(text, "%s is %d characters long; WhatsApp allows at most %d in a message with buttons", subject, length, maxButtonsBody)
	case length > maxTextBody:
		l.addf(text, "%s is %d characters long; WhatsApp allows at most %d", subject, length, maxTextBody)
	}
	return p
}

// buttons decodes a prompt's quick-reply buttons.
func (l *loader) buttons(n *yaml.Node, where string) []Button {
	items := l.sequence(n, "buttons of "+where, "a list of buttons")
	var out []Button
	first := make(map[string]int) // id -> line
	for i, item := range items {
		if i == maxButtons {
			l.addf(l.resolve(item), "%s has %d buttons; WhatsApp allows at most %d", where, len(items), maxButtons)
		}
		b, ok := l.button(fmt.Sprintf("button %d of %s", i+1, where), item)
		if !ok {
			continue
		}
		if line, dup := first[b.ID]; dup {
			l.addAt(b.Pos, "duplicate button id %s in %s (first at line %d)", quote(b.ID), where, line)
			continue
		}
		first[b.ID] = b.Pos.Line
		out = append(out, b)
	}
	return out
}

// button decodes one button; ok is false if it has no usable id.
func (l *loader) button(where string, item *yaml.Node) (b Button, ok bool) {
	n, ok := l.mapping(item, where, "a mapping with id and title")
	if !ok {
		if isNull(n) {
			l.addf(n, "%s is empty: give it an id and a title", where)
		}
		return b, false
	}
	b.Pos = posOf(n)
	fs := l.fields(n, "in "+where, buttonKeys)
	if fd, ok := fs.get("id"); ok {
		if id, ok := l.requiredText(fd.value, "id of "+where); ok {
			b.ID = id
			if !nameRe.MatchString(id) {
				l.addf(l.resolve(fd.value), "invalid button id %s in %s: use letters, digits, '_' and '-', starting with a letter", quote(id), where)
			}
		}
	} else if fs.missing("id") {
		l.addf(n, "missing id in %s", where)
	}
	if fd, ok := fs.get("title"); ok {
		if title, ok := l.requiredText(fd.value, "title of "+where); ok {
			b.Title = title
			if length := utf8.RuneCountInString(title); length > maxButtonTitle {
				l.addf(l.resolve(fd.value), "title of %s is %d characters long; WhatsApp allows at most %d", where, length, maxButtonTitle)
			}
		}
	} else if fs.missing("title") {
		l.addf(n, "missing title in %s", where)
	}
	return b, b.ID != ""
}

// triggers is what the transitions of one state match on, to find
// transitions that could never match because an earlier one would.
type triggers struct {
	where     string   // "state 'welcome'"
	buttons   []string // ids of the state's buttons
	count     int      // transitions in the state
	byButton  map[string]int
	byKeyword map[string]int // normalised keyword -> transition number
	elseAt    int            // number of the first else transition, or 0
}

// transitions decodes a state's on: list.
func (l *loader) transitions(n *yaml.Node, where string, buttons []Button) []Transition {
	items := l.sequence(n, "'on' in "+where, "a list of transitions")
	tr := &triggers{where: where, count: len(items), byButton: make(map[string]int), byKeyword: make(map[string]int)}
	for _, b := range buttons {
		tr.buttons = append(tr.buttons, b.ID)
	}
	var out []Transition
	for i, item := range items {
		if t, ok := l.transition(i+1, item, tr); ok {
			out = append(out, t)
		}
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
			l.addf(n, "%s is empty: give it a trigger (button, keywords or else) and goto or end", where)
		}
		return t, false
	}
	t.Pos = posOf(n)
	fs := l.fields(n, "in "+where, transitionKeys)
	l.trigger(i, n, fs, tr, &t)
	l.effects(n, fs, where, &t)
	return t, true
}

// trigger decodes what a transition matches on: button, keywords or else.
func (l *loader) trigger(i int, n *yaml.Node, fs fieldMap, tr *triggers, t *Transition) {
	where := fmt.Sprintf("transition %d of %s", i, tr.where)
	fb, hasButton := fs.get("button")
	fk, hasKeywords := fs.get("keywords")
	fe, hasElse := fs.get("else")
	switch {
	case fs.missing("button") && fs.missing("keywords") && fs.missing("else"):
		l.addf(n, "%s has no trigger: give it button, keywords or else: true", where)
	case hasElse && (hasButton || hasKeywords):
		l.addf(fe.key, "else in %s cannot be combined with button or keywords: else matches any message", where)
	}
	if hasButton {
		l.transitionButton(i, fb.value, where, tr, t)
	}
	if hasKeywords {
		l.transitionKeywords(i, fk.value, where, tr, t)
	}
	if hasElse {
		t.Else = l.flag(fe.value, "else in "+where)
		switch {
		case tr.elseAt != 0:
			l.addf(fe.key, "more than one else in %s (first in transition %d)", tr.where, tr.elseAt)
		case i < tr.count:
			tr.elseAt = i
			l.addf(fe.key, "else in %s is not the last transition: the transitions after it can never match", where)
		default:
			tr.elseAt = i
		}
	}
}

func (l *loader) transitionButton(i int, n *yaml.Node, where string, tr *triggers, t *Transition) {
	id, ok := l.requiredText(n, "button in "+where)
	if !ok {
		return
	}
	t.Button = id
	n = l.resolve(n)
	if !slices.Contains(tr.buttons, id) {
		l.addf(n, "unknown button %s in %s%s", quote(id), where, buttonHint(id, tr))
		return
	}
	if first, dup := tr.byButton[id]; dup {
		l.addf(n, "button %s is already used by transition %d of %s", quote(id), first, tr.where)
		return
	}
	tr.byButton[id] = i
}

// buttonHint completes "unknown button 'x'" with what the state offers.
func buttonHint(id string, tr *triggers) string {
	if len(tr.buttons) == 0 {
		return "; the prompt of " + tr.where + " has no buttons"
	}
	if hint := didYouMean(id, tr.buttons); hint != "" {
		return hint
	}
	return "; the buttons of " + tr.where + " are " + list(tr.buttons)
}

func (l *loader) transitionKeywords(i int, n *yaml.Node, where string, tr *triggers, t *Transition) {
	subject := "keywords of " + where
	nodes, words := l.words(n, subject)
	if isEmptyList(l.resolve(n)) {
		l.addf(l.resolve(n), "%s is empty", subject)
	}
	t.Keywords = words
	for k, w := range words {
		key := normKeyword(w)
		first, dup := tr.byKeyword[key]
		switch {
		case !dup:
			tr.byKeyword[key] = i
		case first != i:
			l.addf(nodes[k], "keyword %s is already used by transition %d of %s", quote(w), first, tr.where)
		}
	}
}

// effects decodes what a transition does: goto, end, opt_in and opt_out.
func (l *loader) effects(n *yaml.Node, fs fieldMap, where string, t *Transition) {
	fg, hasGoto := fs.get("goto")
	fe, hasEnd := fs.get("end")
	if fs.missing("goto") && fs.missing("end") {
		l.addf(n, "%s has neither goto nor end: true", where)
	}
	if hasGoto {
		if s, ok := l.requiredText(fg.value, "goto in "+where); ok {
			t.Goto = StateName(s)
			l.refs = append(l.refs, ref{kind: refState, name: s, node: l.resolve(fg.value), use: "goto"})
		}
	}
	if hasEnd {
		t.End = l.flag(fe.value, "end in "+where)
	}
	if fd, ok := fs.get("opt_in"); ok {
		t.OptIn = l.consentTopic(fd.value, "opt_in", where)
	}
	if fd, ok := fs.get("opt_out"); ok {
		t.OptOut = l.consentTopic(fd.value, "opt_out", where)
		if t.OptIn != "" && t.OptIn == t.OptOut {
			l.addf(l.resolve(fd.value), "%s opts in to and out of topic %s at once", where, quote(string(t.OptIn)))
		}
	}
}

// consentTopic decodes the topic of an opt_in or opt_out. Only opt_out may
// name all topics at once.
func (l *loader) consentTopic(n *yaml.Node, key, where string) Topic {
	s, ok := l.requiredText(n, key+" in "+where)
	if !ok {
		return ""
	}
	n = l.resolve(n)
	switch {
	case s == string(TopicAll) && key == "opt_in":
		l.addf(n, "opt_in in %s cannot be 'all': name the topic the customer opts in to", where)
	case s != string(TopicAll):
		l.refs = append(l.refs, ref{kind: refTopic, name: s, node: n, use: key})
	}
	return Topic(s)
}
