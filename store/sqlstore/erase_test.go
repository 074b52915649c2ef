package sqlstore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/storetest"
)

var _ bot.CustomerEraser = (*Store)(nil)

// dump reads every row of every table of the store's schema as text.
func dump(t *testing.T, s *Store) string {
	t.Helper()
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`
	if s.sqlite {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`
	}
	var tables []string
	if err := s.db.SelectContext(t.Context(), &tables, q); err != nil {
		t.Fatalf("list tables: %v", err)
	}
	if len(tables) < 10 {
		t.Fatalf("found tables %v only", tables)
	}
	var b strings.Builder
	for _, table := range tables {
		rows, err := s.db.QueryxContext(t.Context(), `SELECT * FROM `+table)
		if err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		for rows.Next() {
			cols, err := rows.SliceScan()
			if err != nil {
				t.Fatalf("read table %s: %v", table, err)
			}
			b.WriteString(table)
			for _, c := range cols {
				if bs, ok := c.([]byte); ok {
					c = string(bs)
				}
				fmt.Fprintf(&b, " | %v", c)
			}
			b.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read table %s: %v", table, err)
		}
		rows.Close()
	}
	return b.String()
}

func TestEraseContractSQLite(t *testing.T) {
	t.Parallel()
	storetest.RunErase(t, func(t *testing.T) (storetest.EraseStore, storetest.Dump) {
		s := openSQLiteTemp(t)
		return s, func(t *testing.T) string { return dump(t, s) }
	})
}

func TestEraseContractPostgres(t *testing.T) {
	t.Parallel()
	storetest.RunErase(t, func(t *testing.T) (storetest.EraseStore, storetest.Dump) {
		s := openPostgresTemp(t)
		return s, func(t *testing.T) string { return dump(t, s) }
	})
}

// TestLedgerEraseUpdateInDatabase: the database lets exactly the erase of
// a row's personal data through its append-only trigger; an erase that
// changes anything else, or keeps personal data, is refused like any
// other update, and the ledger verifies after the allowed one.
func TestLedgerEraseUpdateInDatabase(t *testing.T) {
	t.Parallel()
	hash := bot.CustomerHash([]byte("a test suppression key of 32+ bytes"), "+14155550101")
	erased := "customer = 'erased:" + hash + "', id = 'erased:' || seq, inbound_id = '', inbound_text = '', prompt = '', pii_salt = ''"
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			s := d.open(t)
			es := fourEvents(t, s)
			seq := es[1].Seq
			for _, tc := range []struct{ name, set string }{
				{"erase and change the status", erased + ", status = 'opted_out'"},
				{"erase and change the topic", erased + ", topic = 'offers'"},
				{"erase and change the trigger", erased + ", trigger = 'keyword STOP'"},
				{"erase and forge the digest", erased + ", pii_digest = 'forged'"},
				{"erase and forge the hash", erased + ", hash = 'forged'"},
				{"erase keeping the words", "customer = 'erased:" + hash + "', id = 'erased:' || seq, inbound_id = '', prompt = '', pii_salt = ''"},
				{"erase keeping the salt", "customer = 'erased:" + hash + "', id = 'erased:' || seq, inbound_id = '', inbound_text = '', prompt = ''"},
				{"erase to a customer that is no hash", "customer = 'erased:+14155550199', id = 'erased:' || seq, inbound_id = '', inbound_text = '', prompt = '', pii_salt = ''"},
				{"erase to another id", "customer = 'erased:" + hash + "', id = 'erased:x', inbound_id = '', inbound_text = '', prompt = '', pii_salt = ''"},
				{"only the words", "inbound_text = ''"},
				{"only the customer", "customer = 'erased:" + hash + "'"},
			} {
				if _, err := s.db.ExecContext(t.Context(), s.rebind("UPDATE consent_events SET "+tc.set+" WHERE seq = ?"), seq); err == nil ||
					!strings.Contains(err.Error(), "append-only") {
					t.Errorf("%s: err = %v, want the append-only refusal", tc.name, err)
				}
			}
			if _, err := s.db.ExecContext(t.Context(), s.rebind("UPDATE consent_events SET "+erased+" WHERE seq = ?"), seq); err != nil {
				t.Fatalf("the erase update is refused: %v", err)
			}
			// once erased, a row can be changed no further
			if _, err := s.db.ExecContext(t.Context(), s.rebind("UPDATE consent_events SET status = 'opted_out' WHERE seq = ?"), seq); err == nil {
				t.Error("an erased row's status could be changed")
			}
			rep, err := bot.VerifyLedger(t.Context(), s, 100)
			if err != nil || rep.Break != nil || rep.Events != 4 {
				t.Errorf("VerifyLedger after the erase = %+v, %v; want 4 events and no break", rep, err)
			}
			after, err := s.Ledger(t.Context(), seq-1, 1)
			if err != nil || len(after) != 1 || !after[0].Event.Erased() {
				t.Errorf("the row after the erase: %+v, %v; want it erased", after, err)
			}
		})
	}
}
