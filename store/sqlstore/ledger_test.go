package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// dialects opens an empty store of each dialect.
var dialects = []struct {
	name string
	open func(testing.TB) *Store
}{
	{"sqlite", openSQLiteTemp},
	{"postgres", openPostgresTemp},
}

// fourEvents commits four opt-ins: acme, acme, globex, acme.
func fourEvents(t *testing.T, s *Store) []bot.LedgerEntry {
	t.Helper()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, b := range []bot.BusinessID{"acme", "acme", "globex", "acme"} {
		c := bot.CustomerID(fmt.Sprintf("+1415555010%d", i))
		id := fmt.Sprintf("ev-%d", i)
		turn := bot.Turn{Business: b, Customer: c, DedupID: "in:" + id, At: at,
			Conversation: bot.Conversation{FlowName: "retail", FlowVersion: "v1", State: "done"},
			Consent: []bot.ConsentEvent{{ID: id, Business: b, Customer: c, Sender: "15550001111", Channel: bot.Channel,
				Topic: "order_updates", Category: flows.CategoryUtility, Status: bot.OptedIn, Source: bot.SourceInChannel,
				Trigger: "button optin_yes", InboundID: "wamid." + id, InboundText: "Yes", Prompt: "Updates on WhatsApp?",
				Language: "en", FlowName: "retail", FlowVersion: "v1", ProviderAt: at.Add(-time.Second), At: at}}}
		if err := s.Commit(t.Context(), turn); err != nil {
			t.Fatalf("Commit %s: %v", id, err)
		}
		at = at.Add(time.Minute)
	}
	es, err := s.Ledger(t.Context(), 0, 10)
	if err != nil || len(es) != 4 {
		t.Fatalf("Ledger = %d entries, %v; want 4", len(es), err)
	}
	return es
}

// TestLedgerAppendOnlyInDatabase: the database itself refuses to change or
// remove a ledger row, whatever the application asks.
func TestLedgerAppendOnlyInDatabase(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			s := d.open(t)
			es := fourEvents(t, s)
			seq := es[1].Seq
			for _, stmt := range []string{
				"UPDATE consent_events SET inbound_text = 'No' WHERE seq = ?",
				"UPDATE consent_events SET status = 'opted_out' WHERE seq = ?",
				"UPDATE consent_events SET hash = 'forged', prev_hash = '' WHERE seq = ?",
				"DELETE FROM consent_events WHERE seq = ?",
			} {
				_, err := s.db.ExecContext(t.Context(), s.rebind(stmt), seq)
				if err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
				}
			}
			if !s.sqlite {
				if _, err := s.db.ExecContext(t.Context(), "TRUNCATE consent_events"); err == nil || !strings.Contains(err.Error(), "append-only") {
					t.Errorf("TRUNCATE: err = %v, want the append-only refusal", err)
				}
			}
			if rep, err := bot.VerifyLedger(t.Context(), s, 100); err != nil || rep.Break != nil || rep.Events != 4 {
				t.Errorf("VerifyLedger after refused changes = %+v, %v; want 4 events and no break", rep, err)
			}
		})
	}
}

// tamper runs statements the way someone with the database's keys could,
// past the append-only triggers: PostgreSQL's replica mode skips triggers
// (superusers only), and SQLite's triggers can be dropped.
func tamper(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := s.db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if s.sqlite {
		stmts = append([]string{"DROP TRIGGER consent_events_no_update", "DROP TRIGGER consent_events_no_delete"}, stmts...)
	} else {
		stmts = append([]string{"SET session_replication_role = replica"}, stmts...)
		defer conn.ExecContext(ctx, "SET session_replication_role = DEFAULT") //nolint:errcheck // the connection is closed next
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("tamper: %s: %v", q, err)
		}
	}
}

// TestVerifyFindsTampering: each way of changing the ledger behind the
// application's back is found, at the first broken link.
func TestVerifyFindsTampering(t *testing.T) {
	t.Parallel()
	for _, d := range dialects {
		for _, tc := range []struct {
			name   string
			stmts  func(es []bot.LedgerEntry) []string
			brokeN int // index of the entry the break names
			reason string
		}{
			{"customer's words changed", func(es []bot.LedgerEntry) []string {
				return []string{fmt.Sprintf("UPDATE consent_events SET inbound_text = 'No' WHERE seq = %d", es[1].Seq)}
			}, 1, "changed after it was recorded"},
			{"opt-out turned into an opt-in, hash recomputed without the chain", func(es []bot.LedgerEntry) []string {
				return []string{fmt.Sprintf("UPDATE consent_events SET prompt = 'forged', hash = 'x' WHERE seq = %d", es[0].Seq)}
			}, 0, "changed after it was recorded"},
			{"event removed from the middle", func(es []bot.LedgerEntry) []string {
				return []string{fmt.Sprintf("DELETE FROM consent_events WHERE seq = %d", es[1].Seq)}
			}, 3, "removed, inserted or changed"},
			{"first event removed", func(es []bot.LedgerEntry) []string {
				return []string{fmt.Sprintf("DELETE FROM consent_events WHERE seq = %d", es[0].Seq)}
			}, 1, "first of its business"},
			{"last event removed", func(es []bot.LedgerEntry) []string {
				return []string{fmt.Sprintf("DELETE FROM consent_events WHERE seq = %d", es[3].Seq)}
			}, 2, "removed from the end"},
		} {
			t.Run(d.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				s := d.open(t)
				es := fourEvents(t, s)
				tamper(t, s, tc.stmts(es)...)
				rep, err := bot.VerifyLedger(t.Context(), s, 2)
				if err != nil {
					t.Fatalf("VerifyLedger: %v", err)
				}
				want := es[tc.brokeN]
				if rep.Break == nil {
					t.Fatalf("VerifyLedger found no break after tampering; report %+v", rep)
				}
				if rep.Break.Seq != want.Seq || !strings.Contains(rep.Break.Reason, tc.reason) {
					t.Errorf("break = %v\nwant seq %d (event %s) and a reason saying %q", rep.Break, want.Seq, want.Event.ID, tc.reason)
				}
			})
		}
	}
}
