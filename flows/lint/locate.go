package lint

import (
	"go.yaml.in/yaml/v3"

	"github.com/optinbot/optinbot/flows"
)

// locator finds the position of a value in a flow file's YAML, for the
// rules whose subject has no position in flows' types (a keyword of a
// transition, a keyword list, the text of a prompt). Its zero value, for a
// flow linted without its source, finds nothing.
type locator struct {
	root *yaml.Node
}

// newLocator parses src. Source that does not parse (it cannot be the
// source of a loaded flow) finds nothing.
func newLocator(src []byte) (l locator) {
	if src == nil {
		return locator{}
	}
	defer func() {
		// As in flows.Load: a bug in the YAML parser must not take down
		// a linter of uploaded flows.
		if recover() != nil {
			l = locator{}
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return locator{}
	}
	return locator{root: doc.Content[0]}
}

// find follows path from the root: a string is a key of a mapping, an int
// an index of a list. It returns nil when the path leads nowhere. Aliases
// are followed but never expanded, so find costs the length of the path
// times the width of the mappings on it.
func (l locator) find(path ...any) *yaml.Node {
	n := l.root
	for _, step := range path {
		n = resolve(n)
		if n == nil {
			return nil
		}
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return nil
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				// The loader keeps the first of repeated keys (and
				// refuses the file), so the first is the one.
				if k := resolve(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == s {
					next = n.Content[i+1]
					break
				}
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return nil
			}
			n = n.Content[s]
		default:
			return nil
		}
	}
	return resolve(n)
}

// pos returns the position of the node at path, or fallback when there is
// none.
func (l locator) pos(fallback flows.Pos, path ...any) flows.Pos {
	if n := l.find(path...); n != nil && n.Line > 0 {
		return flows.Pos{Line: n.Line, Col: n.Column}
	}
	return fallback
}

// resolve follows aliases to the node they name, giving up (nil) on chains
// the loader would have refused.
func resolve(n *yaml.Node) *yaml.Node {
	for hops := 0; n != nil && n.Kind == yaml.AliasNode; hops++ {
		if hops > 8 {
			return nil
		}
		n = n.Alias
	}
	return n
}
