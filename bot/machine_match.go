package bot

import "github.com/optinbot/optinbot/flows"

// MatchText returns the transition of a state that a typed message takes,
// as the engine matches it once the global keywords have let the message
// through (keywords and regular expressions in order, a digit naming a
// button or list row, else), with its index in the state's transitions and
// what matched ("keyword yes", "regex ^y", "else", "button ok (by
// number)"). It returns nil, -1 and "" when no transition takes it, or the
// state does not exist. The linter uses it to see which answers a
// transition takes.
func (m *Machine) MatchText(state flows.StateName, text string) (t *flows.Transition, index int, trigger string) {
	cs := m.states[state]
	if cs == nil {
		return nil, -1, ""
	}
	// As on a channel that numbers the choices: a digit may name a button.
	numbered := func(int) bool { return true }
	mv, trigger := cs.match("", "", text, Normalize(text), numbered)
	if mv == nil {
		return nil, -1, ""
	}
	for i := range cs.moves {
		if &cs.moves[i] == mv {
			return mv.t, i, trigger
		}
	}
	return mv.t, -1, trigger
}
