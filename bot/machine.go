package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/looplab/fsm"

	"github.com/optinbot/optinbot/flows"
)

// Machine is a flow version compiled for the engine: its transitions as
// looplab/fsm events, and a matcher per keyword transition. It is built once
// per flow version and shared by every conversation on that version; the
// YAML stays the only source of truth.
type Machine struct {
	Flow   *flows.Flow
	events fsm.Events
	states map[flows.StateName]*compiledState
	// pool holds reusable FSMs: building one costs O(flow size), restoring
	// a state and firing one event costs ~0.5 µs whatever the size.
	pool sync.Pool
}

type compiledState struct {
	state *flows.State
	moves []move
}

// move is one transition of a state with its FSM event name and matcher.
type move struct {
	t        *flows.Transition
	event    string // unique per (state, transition index); never a state name
	keywords *PhraseMatcher
}

// Compile turns a loaded flow into a Machine. polite is the list of polite
// words a flow keyword may come with ("yes please").
func Compile(f *flows.Flow, polite []string) (*Machine, error) {
	m := &Machine{Flow: f, states: make(map[flows.StateName]*compiledState, len(f.States))}
	for _, name := range f.StateOrder {
		st := f.States[name]
		cs := &compiledState{state: st}
		for i := range st.On {
			t := &st.On[i]
			mv := move{t: t, event: "on:" + string(name) + "#" + strconv.Itoa(i)}
			if len(t.Keywords) > 0 {
				mv.keywords = NewPhraseMatcher(t.Keywords, polite)
			}
			dst := t.Goto
			if dst == "" || (t.GotoFlow != "" && t.GotoFlow != f.Name) {
				// An end-only, handoff or other-flow transition stays where it
				// is until the conversation closes.
				dst = name
			}
			if _, ok := f.States[dst]; !ok {
				return nil, fmt.Errorf("compile flow %s@%s: state %q: transition %d goes to unknown state %q", f.Name, f.Version, name, i+1, dst)
			}
			m.events = append(m.events, fsm.EventDesc{Name: mv.event, Src: []string{string(name)}, Dst: string(dst)})
			cs.moves = append(cs.moves, mv)
		}
		m.states[name] = cs
	}
	if _, ok := f.States[f.Start]; !ok {
		return nil, fmt.Errorf("compile flow %s@%s: start state %q does not exist", f.Name, f.Version, f.Start)
	}
	m.pool.New = func() any { return fsm.NewFSM(string(f.Start), m.events, nil) }
	return m, nil
}

// fire moves from state src along the move's event with a pooled FSM and
// returns the state it lands in.
func (m *Machine) fire(src flows.StateName, mv *move) (flows.StateName, error) {
	machine := m.pool.Get().(*fsm.FSM)
	defer m.pool.Put(machine)
	machine.SetState(string(src))
	// A done context would leave the FSM stuck "in transition" (looplab/fsm
	// issue #115); the step is pure and short, so it never needs cancelling.
	err := machine.Event(context.Background(), mv.event)
	var noTransition fsm.NoTransitionError
	if err != nil && !(errors.As(err, &noTransition) && noTransition.Err == nil) {
		return src, fmt.Errorf("flow %s@%s: state %q: event %s: %w", m.Flow.Name, m.Flow.Version, src, mv.event, err)
	}
	return flows.StateName(machine.Current()), nil
}

// options are the ids the customer can tap: the prompt's buttons, or its
// list's rows.
func (cs *compiledState) options() []flows.Button {
	if l := cs.state.Prompt.List; l != nil {
		out := make([]flows.Button, len(l.Rows))
		for i, r := range l.Rows {
			out[i] = flows.Button{ID: r.ID, Title: r.Title}
		}
		return out
	}
	return cs.state.Prompt.Buttons
}

// optionTitle is the title the customer saw for a button or row id.
func (cs *compiledState) optionTitle(id string) string {
	for _, o := range cs.options() {
		if o.ID == id {
			return o.Title
		}
	}
	return ""
}

// match returns the first transition of the state that the input triggers
// and what matched: a tapped button or list row by id, then the text
// against keyword lists and regular expressions, then a number naming a
// button or row where numbered(n) says the customer saw the choices
// numbered, then "anything else". A button the state no longer has (an
// old message's) is matched by its title like typed text. Timer
// transitions never match a message.
func (cs *compiledState) match(buttonID, buttonTitle, text, normalized string, numbered func(n int) bool) (mv *move, trigger string) {
	if buttonID != "" {
		for i := range cs.moves {
			if cs.moves[i].t.Button == buttonID {
				return &cs.moves[i], "button " + buttonID
			}
		}
		text, normalized = buttonTitle, Normalize(buttonTitle)
	}
	for i := range cs.moves {
		t := cs.moves[i].t
		if kw := cs.moves[i].keywords; kw != nil {
			if phrase, ok := kw.Match(normalized); ok {
				return &cs.moves[i], "keyword " + phrase
			}
		}
		if t.Regex != nil && t.Regex.MatchString(text) {
			return &cs.moves[i], "regex " + t.Regex.String()
		}
	}
	// A number picks the nth option where the choices were shown numbered:
	// channels that cannot show quick replies list them as "1) Yes", and
	// customers answer "1". Elsewhere "1" is no answer: the customer may
	// mean anything by it.
	if options := cs.options(); buttonID == "" && len(normalized) > 0 && len(normalized) <= 2 {
		if n, err := strconv.Atoi(normalized); err == nil && n >= 1 && n <= len(options) && numbered(n) {
			id := options[n-1].ID
			for i := range cs.moves {
				if cs.moves[i].t.Button == id {
					return &cs.moves[i], "button " + id + " (by number)"
				}
			}
		}
	}
	for i := range cs.moves {
		if cs.moves[i].t.Else {
			return &cs.moves[i], "else"
		}
	}
	return nil, ""
}
