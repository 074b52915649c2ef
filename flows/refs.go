package flows

import "go.yaml.in/yaml/v3"

// refKind is what a reference names.
type refKind int

const (
	refState refKind = iota
	refTopic
)

// ref is a name used before the loader knows every name it could be: a
// goto or start naming a state, an opt_in, opt_out or template naming a
// topic.
type ref struct {
	kind refKind
	name string
	node *yaml.Node // the name as written, for the problem's position
	use  string     // where the name is used: "goto", "start", "template 2"
}

// maxListed is how many declared names a message lists when a reference
// matches none of them.
const maxListed = 8

// checkRefs reports references to states and topics that do not exist.
func (l *loader) checkRefs(f *Flow) {
	states := make([]string, len(f.StateOrder))
	for i, s := range f.StateOrder {
		states[i] = string(s)
	}
	topics := make([]string, len(f.Topics))
	for i, t := range f.Topics {
		topics[i] = string(t.Name)
	}
	for _, r := range l.refs {
		switch r.kind {
		case refState:
			// Without states, "missing states" has said it all.
			if _, ok := f.States[StateName(r.name)]; !ok && len(states) > 0 {
				l.Addf(r.node, "unknown state %s in %s%s", quote(r.name), r.use, didYouMean(r.name, states))
			}
		case refTopic:
			if _, ok := f.Topic(Topic(r.name)); !ok {
				l.Addf(r.node, "unknown topic %s in %s%s", quote(r.name), r.use, topicHint(r.name, topics))
			}
		}
	}
}

// topicHint completes "unknown topic 'x'" with the closest topic or, as a
// flow has few topics, the list of them.
func topicHint(name string, topics []string) string {
	switch {
	case len(topics) == 0:
		return "; the flow declares no topics"
	case didYouMean(name, topics) != "":
		return didYouMean(name, topics)
	case len(topics) <= maxListed:
		return "; declared topics are " + list(topics)
	}
	return ""
}
