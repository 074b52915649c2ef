package bot

import (
	"strings"

	"github.com/optinbot/optinbot/flows"
)

// experimentMark separates the trigger of an opt-in from the experiment
// variant of the prompt the customer answered.
const experimentMark = "; experiment "

// ExperimentTrigger appends to the trigger of an opt-in the variant of the
// state's experiment the customer was shown: "button optin_yes; experiment
// welcome/short". The ledger's hash chain covers the trigger, so old events
// verify as they were and new ones carry the variant under the chain.
func ExperimentTrigger(trigger string, state flows.StateName, variant string) string {
	return trigger + experimentMark + string(state) + "/" + variant
}

// TriggerExperiment returns the state and variant ExperimentTrigger put in
// a trigger; ok is false for a trigger without them.
func TriggerExperiment(trigger string) (state flows.StateName, variant string, ok bool) {
	i := strings.LastIndex(trigger, experimentMark)
	if i < 0 {
		return "", "", false
	}
	st, v, ok := strings.Cut(trigger[i+len(experimentMark):], "/")
	if !ok || st == "" || v == "" {
		return "", "", false
	}
	return flows.StateName(st), v, true
}

// variant is the variant of the experiment of a state's prompt that the
// customer is shown (see flows.Prompt.Assign), or nil when the state has
// no experiment.
func (m *Machine) variant(business BusinessID, state flows.StateName, customer CustomerID) *flows.Variant {
	cs := m.states[state]
	if cs == nil {
		return nil
	}
	return cs.state.Prompt.Assign(string(business), m.Flow.Name, state, string(customer))
}
