package memstore

import (
	"fmt"
	"strings"
)

// Dump is everything the store holds as text, for the erase contract.
func (s *Store) Dump() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n",
		s.conversations, s.ledger, s.entries, s.heads, s.eventIDs, s.templates, s.processed, s.effectIDs, s.deliveries, s.deliveredTo)
	for _, o := range s.outbox {
		b.WriteString(o.id + " " + string(o.effect) + "\n")
	}
	fmt.Fprintf(&b, "%+v\n%+v\n", s.suppressions, s.asks)
	b.WriteString(s.dumpVerifications())
	return b.String()
}
