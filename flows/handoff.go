package flows

import (
	"time"

	"go.yaml.in/yaml/v3"
)

var (
	// handoffSettingKeys are the keys of the top-level handoff: mapping.
	handoffSettingKeys = []string{"timeout"}
	// handoffKeys are the keys of a transition's handoff: in its mapping
	// form.
	handoffKeys = []string{"queue", "timeout", "resume"}
)

// handoffSettings decodes the top-level handoff: settings of every handoff
// of the flow, and returns their timeout (0 when not given).
func (l *loader) handoffSettings(n *yaml.Node) time.Duration {
	n, ok := l.mapping(n, "handoff", "a mapping with timeout")
	if !ok {
		return 0
	}
	fs := l.Fields(n, "in handoff", handoffSettingKeys)
	if fd, ok := fs.Get("timeout"); ok {
		return l.duration(fd.Value, "timeout of handoff", windowLength)
	}
	return 0
}

// transitionHandoff decodes a transition's handoff: a queue, or a mapping
// with the queue, the handoff's own timeout and the state to resume in.
func (l *loader) transitionHandoff(fh field, where string, t *Transition) {
	queue := fh.Value
	switch v := l.Resolve(fh.Value); v.Kind {
	case yaml.ScalarNode:
	default:
		l.WrongKind(v, "handoff in "+where, "a queue, or a mapping with queue, timeout and resume")
		return
	case yaml.MappingNode:
		queue = nil
		subject := "handoff of " + where
		fs := l.Fields(v, "in "+subject, handoffKeys)
		if fd, ok := fs.Get("queue"); ok {
			queue = fd.Value
		} else if fs.Missing("queue") {
			l.Addf(v, "missing queue in %s", subject)
		}
		if fd, ok := fs.Get("timeout"); ok {
			t.HandoffTimeout = l.duration(fd.Value, "timeout of handoff in "+where, windowLength)
		}
		if fd, ok := fs.Get("resume"); ok {
			if s, ok := l.RequiredText(fd.Value, "resume of handoff in "+where); ok {
				t.HandoffResume = StateName(s)
				l.refs = append(l.refs, ref{kind: refState, name: s, node: l.Resolve(fd.Value), use: "resume of handoff"})
			}
		}
	}
	if queue == nil {
		return
	}
	if s, ok := l.RequiredText(queue, "handoff in "+where); ok {
		t.Handoff = s
		if !queueRe.MatchString(s) {
			l.Addf(l.Resolve(queue), "invalid handoff queue %s in %s: use letters, digits, '_', '-' and '.'", quote(s), where)
		}
	}
}
