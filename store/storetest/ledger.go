package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// ledgerTests are the contract of the ledger's hash chains.
var ledgerTests = []struct {
	name string
	fn   func(t *testing.T, s Store)
}{
	{"LedgerChainsPerBusiness", testLedgerChains},
	{"LedgerPages", testLedgerPages},
	{"LedgerConcurrentAppendsChain", testLedgerConcurrentAppends},
	{"LedgerEmptyVerifies", testLedgerEmpty},
}

func verify(t *testing.T, s Store, pageSize int) bot.LedgerReport {
	t.Helper()
	rep, err := bot.VerifyLedger(t.Context(), s, pageSize)
	if err != nil {
		t.Fatalf("VerifyLedger: %v", err)
	}
	return rep
}

func entries(t *testing.T, s Store, after int64, limit int) []bot.LedgerEntry {
	t.Helper()
	es, err := s.Ledger(t.Context(), after, limit)
	if err != nil {
		t.Fatalf("Ledger(%d, %d): %v", after, limit, err)
	}
	return es
}

// testLedgerChains: each business's events link to that business's previous
// event, across customers and turns, several events in one turn included;
// the heads are the last hashes; the whole ledger verifies.
func testLedgerChains(t *testing.T, s Store) {
	at := t0
	turn := func(b bot.BusinessID, c bot.CustomerID, ids ...string) {
		tr := bot.Turn{Business: b, Customer: c, DedupID: "in:" + ids[0], At: at, Conversation: conversation("s", at)}
		for _, id := range ids {
			tr.Consent = append(tr.Consent, event(id, b, c, flows.Topic("t_"+id), bot.OptedIn, at))
		}
		commit(t, s, tr)
		at = at.Add(time.Minute)
	}
	turn(acme, phone, "a1")
	turn(globex, phone, "g1")
	turn(acme, phone2, "a2", "a3")
	turn(acme, userID, "a4")
	turn(globex, phone2, "g2")

	all := entries(t, s, 0, 100)
	if len(all) != 6 {
		t.Fatalf("Ledger has %d entries, want 6", len(all))
	}
	last := map[bot.BusinessID]string{}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Errorf("entry %d: seq %d after %d, want increasing", i, e.Seq, all[i-1].Seq)
		}
		ev := e.Event
		if ev.PrevHash != last[ev.Business] {
			t.Errorf("event %s links to %q, want the previous %s event's hash %q", ev.ID, ev.PrevHash, ev.Business, last[ev.Business])
		}
		if want := ev.ChainHash(ev.PrevHash); ev.Hash != want {
			t.Errorf("event %s hash = %q, want %q", ev.ID, ev.Hash, want)
		}
		last[ev.Business] = ev.Hash
	}
	if want := []string{"a1", "g1", "a2", "a3", "a4", "g2"}; fmt.Sprint(ids(all)) != fmt.Sprint(want) {
		t.Errorf("ledger order %v, want %v", ids(all), want)
	}
	// The evidence round-trips whole, links included.
	evs, err := s.ConsentEvents(t.Context(), acme, phone2)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "a2 a3 as stored", evs, []bot.ConsentEvent{all[2].Event, all[3].Event})
	heads, err := s.LedgerHeads(t.Context())
	if err != nil {
		t.Fatalf("LedgerHeads: %v", err)
	}
	equal(t, "heads", heads, last)
	rep := verify(t, s, 100)
	if rep.Break != nil || rep.Events != 6 {
		t.Errorf("VerifyLedger = %+v, want 6 events and no break", rep)
	}
}

func ids(es []bot.LedgerEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Event.ID
	}
	return out
}

// testLedgerPages: paging by seq returns every entry once, in order.
func testLedgerPages(t *testing.T, s Store) {
	for i := range 7 {
		at := t0.Add(time.Duration(i) * time.Minute)
		commit(t, s, bot.Turn{Business: acme, Customer: phone, DedupID: fmt.Sprintf("in:%d", i), At: at,
			Conversation: conversation("s", at),
			Consent:      []bot.ConsentEvent{event(fmt.Sprintf("p%d", i), acme, phone, "order_updates", bot.OptedIn, at)}})
	}
	var got []string
	for after := int64(0); ; {
		page := entries(t, s, after, 3)
		got = append(got, ids(page)...)
		if len(page) < 3 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if want := "[p0 p1 p2 p3 p4 p5 p6]"; fmt.Sprint(got) != want {
		t.Errorf("paged ledger %v, want %s", got, want)
	}
	if _, err := s.Ledger(t.Context(), 0, 0); err == nil {
		t.Error("Ledger with limit 0: no error")
	}
	if rep := verify(t, s, 2); rep.Break != nil || rep.Events != 7 {
		t.Errorf("VerifyLedger with pages of 2 = %+v, want 7 events and no break", rep)
	}
}

// testLedgerConcurrentAppends: customers of one business committing at
// once still make one unbroken chain in commit order.
func testLedgerConcurrentAppends(t *testing.T, s Store) {
	const customers, turns = 8, 5
	var wg sync.WaitGroup
	for c := range customers {
		wg.Go(func() {
			cust := bot.CustomerID(fmt.Sprintf("+1415555%04d", c))
			for i := range turns {
				at := t0.Add(time.Duration(i) * time.Second)
				id := fmt.Sprintf("c%d-%d", c, i)
				if err := s.Commit(t.Context(), bot.Turn{Business: acme, Customer: cust, DedupID: "in:" + id, At: at,
					Conversation: conversation("s", at),
					Consent:      []bot.ConsentEvent{event(id, acme, cust, "order_updates", bot.OptedIn, at)}}); err != nil {
					t.Errorf("Commit %s: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	if rep := verify(t, s, 10); rep.Break != nil || rep.Events != customers*turns {
		t.Errorf("VerifyLedger after concurrent appends = %+v (break %v), want %d events and no break",
			rep, rep.Break, customers*turns)
	}
}

func testLedgerEmpty(t *testing.T, s Store) {
	if rep := verify(t, s, 10); rep.Break != nil || rep.Events != 0 {
		t.Errorf("VerifyLedger of an empty ledger = %+v, want nothing", rep)
	}
}
