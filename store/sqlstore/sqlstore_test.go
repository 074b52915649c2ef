package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/storetest"
)

var _ storetest.Store = (*Store)(nil)

func open(tb testing.TB, dsn string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func openSQLiteTemp(tb testing.TB) *Store {
	return open(tb, "sqlite:"+filepath.Join(tb.TempDir(), "optinbot.db"))
}

func openPostgresTemp(tb testing.TB) *Store { return open(tb, storetest.PostgresDSN(tb)) }

func TestContractSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return openSQLiteTemp(t) })
}

func TestContractPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return openPostgresTemp(t) })
}

func TestMigrationsIdempotentSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "twice.db")
	ctx := t.Context()
	s1, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("first Open: %v", err)
	}
	if err := s1.SaveFlowSource(ctx, "retail", "v1", []byte("src")); err != nil {
		t.Fatalf("SaveFlowSource: %v", err)
	}
	if err := s1.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2 := open(t, path)
	if got, err := s2.FlowSource(ctx, "retail", "v1"); err != nil || string(got) != "src" {
		t.Fatalf("after reopening: FlowSource = %q, %v; want \"src\"", got, err)
	}
	// Open again while the first is still open.
	open(t, "sqlite:"+path)
	var versions int
	if err := s2.db.GetContext(ctx, &versions, "SELECT COUNT(*) FROM goose_db_version WHERE version_id > 0"); err != nil {
		t.Fatalf("read goose versions: %v", err)
	}
	entries, _ := migrations.ReadDir("migrations/sqlite")
	if versions != len(entries) {
		t.Errorf("goose_db_version has %d applied migrations, want %d", versions, len(entries))
	}
}

func TestMigrationsIdempotentPostgres(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var wg sync.WaitGroup
	for range 3 { // concurrent Opens of one schema take turns on the migration lock
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(t.Context(), dsn)
			if err != nil {
				t.Errorf("Open: %v", err)
				return
			}
			s.Close()
		}()
	}
	wg.Wait()
	s := open(t, dsn)
	if _, err := s.FlowSource(t.Context(), "x", "y"); err == nil {
		t.Errorf("FlowSource on an empty store succeeded")
	}
}

// A database at migration 00001, holding a conversation, upgrades in place:
// the new conversation columns read as zero (no timers), and message_status
// and timers start empty.
func TestUpgradeFromV1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, driver, dir string
		dialect           goose.Dialect
		dsn               func(t *testing.T) (open, raw string)
	}{
		{"sqlite", "sqlite", "migrations/sqlite", goose.DialectSQLite3, func(t *testing.T) (string, string) {
			path := filepath.Join(t.TempDir(), "v1.db")
			return path, path
		}},
		{"postgres", "postgres", "migrations/postgres", goose.DialectPostgres, func(t *testing.T) (string, string) {
			dsn := storetest.PostgresDSN(t)
			return dsn, dsn
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dsn, raw := tc.dsn(t)
			db, err := sql.Open(tc.driver, raw)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer db.Close()
			v1, err := fs.ReadFile(migrations, tc.dir+"/00001_init.sql")
			if err != nil {
				t.Fatalf("read 00001: %v", err)
			}
			p, err := goose.NewProvider(tc.dialect, db, fstest.MapFS{"00001_init.sql": {Data: v1}},
				goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatalf("goose: %v", err)
			}
			if _, err := p.Up(ctx); err != nil {
				t.Fatalf("migrate to 00001: %v", err)
			}
			at := any(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			if tc.driver == "sqlite" {
				at = at.(time.Time).UnixMicro()
			}
			ins := `INSERT INTO conversations (business, customer, flow, flow_version, state, last_prompt, last_inbound_at, stop, updated_at)
				VALUES ('acme', '+14155550100', 'retail', 'v1', 'ask', 'Hi', $1, NULL, $2)`
			if _, err := db.ExecContext(ctx, ins, at, at); err != nil {
				t.Fatalf("insert v1 conversation: %v", err)
			}
			for i, id := range []string{"ev-1", "ev-2", "ev-3"} {
				business := []string{"acme", "globex", "acme"}[i]
				if _, err := db.ExecContext(ctx, `INSERT INTO consent_events (id, business, customer, channel, topic, category,
					status, source, trigger, inbound_id, inbound_text, prompt, flow, flow_version, at)
					VALUES ($1, $2, '+14155550100', 'whatsapp', 'order_updates', 'utility', 'opted_in', 'in_channel',
					'keyword yes', 'wamid.1', 'yes', 'Want updates on WhatsApp?', 'retail', 'v1', $3)`, id, business, at); err != nil {
					t.Fatalf("insert v1 consent event: %v", err)
				}
			}

			s := open(t, dsn)
			sess, err := s.LoadSession(ctx, "acme", "+14155550100", time.Time{})
			if err != nil {
				t.Fatalf("LoadSession after upgrade: %v", err)
			}
			want := bot.Conversation{FlowName: "retail", FlowVersion: "v1", State: "ask", LastPrompt: "Hi",
				LastInboundAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
			if !reflect.DeepEqual(sess.Conversation, want) {
				t.Errorf("conversation after upgrade:\n got  %#v\n want %#v", sess.Conversation, want)
			}
			if st, err := s.MessageStatus(ctx, "acme", "wamid.1"); err != nil || st != "" {
				t.Errorf("MessageStatus after upgrade = %q, %v; want \"\", nil", st, err)
			}
			if due, err := s.DueTimers(ctx, time.Now().Add(1000*time.Hour), 10); err != nil || len(due) != 0 {
				t.Errorf("DueTimers after upgrade = %v, %v; want none", due, err)
			}
			// Events recorded before the hash chains are sealed into them, in
			// commit order, and verify.
			rep, err := bot.VerifyLedger(ctx, s, 100)
			if err != nil || rep.Break != nil || rep.Events != 3 {
				t.Errorf("VerifyLedger after upgrade = %+v, %v; want 3 events and no break", rep, err)
			}
			evs, err := s.ConsentEvents(ctx, "acme", "+14155550100")
			if err != nil || len(evs) != 2 || evs[0].Hash == "" || evs[1].PrevHash != evs[0].Hash {
				t.Errorf("acme's events after upgrade = %+v, %v; want two chained events", evs, err)
			}
			// Opening again finds nothing to seal and changes nothing.
			again := open(t, dsn)
			if rep2, err := bot.VerifyLedger(ctx, again, 100); err != nil || rep2.Break != nil || !reflect.DeepEqual(rep2.Heads, rep.Heads) {
				t.Errorf("VerifyLedger after reopening = %+v, %v; want the same heads %v", rep2, err, rep.Heads)
			}
		})
	}
}

func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	s := openSQLiteTemp(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := s.db.GetContext(t.Context(), &got, "PRAGMA "+pragma); err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	// A DSN's own settings win.
	s = open(t, "sqlite:"+filepath.Join(t.TempDir(), "own.db")+"?_pragma=busy_timeout(1234)")
	var got string
	if err := s.db.GetContext(t.Context(), &got, "PRAGMA busy_timeout"); err != nil || got != "1234" {
		t.Errorf("PRAGMA busy_timeout = %s, %v; want the DSN's 1234", got, err)
	}
}

func TestOpenDSNForms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"sqlite://" + filepath.Join(dir, "b.db"),
		"file:" + filepath.Join(dir, "c.db"),
		filepath.Join(dir, "d.sqlite"),
		filepath.Join(dir, "e.sqlite3"),
		filepath.Join(dir, "f.db") + "?_pragma=synchronous(FULL)",
	} {
		s, err := Open(t.Context(), dsn)
		if err != nil {
			t.Errorf("Open(%q): %v", dsn, err)
			continue
		}
		s.Close()
	}
	for _, dsn := range []string{"", "mysql://u:secret@h/db", "host=h password=secret", "sqlite:", filepath.Join(dir, "x.txt")} {
		s, err := Open(t.Context(), dsn)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", dsn)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("Open(%q) error leaks the password: %v", dsn, err)
		}
	}
	if _, err := Open(t.Context(), "postgres://u:secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"); err == nil ||
		strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of an unreachable PostgreSQL: err = %v, want an error without the password", err)
	}
}

// Two stores on one SQLite file (as two processes would be) commit
// concurrently: the busy timeout and immediate transactions make them wait
// rather than fail.
func TestSQLiteTwoStoresOneFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shared.db")
	stores := []*Store{open(t, path), open(t, path)}
	var wg sync.WaitGroup
	for i, s := range stores {
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 10 {
					id := fmt.Sprintf("%d-%d-%d", i, g, n)
					cust := bot.CustomerID(fmt.Sprintf("+1415555%02d%02d", i*10+g, n))
					err := s.Commit(t.Context(), bot.Turn{Business: "acme", Customer: cust, DedupID: id, At: time.Now(),
						Consent: []bot.ConsentEvent{{ID: "ev-" + id, Business: "acme", Customer: cust, Topic: "t",
							Status: bot.OptedIn, At: time.Now()}},
						Effects: []bot.Effect{{ID: "fx-" + id, Kind: bot.EffectConsent, Business: "acme", Customer: cust}}})
					if err != nil {
						t.Errorf("Commit %s: %v", id, err)
					}
				}
			}()
		}
	}
	wg.Wait()
	effs, err := stores[0].PendingEffects(t.Context(), 1000)
	if err != nil || len(effs) != 80 {
		t.Errorf("PendingEffects = %d effects, %v; want 80", len(effs), err)
	}
}

func BenchmarkCommit(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { storetest.BenchCommit(b, openSQLiteTemp(b)) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchCommit(b, openPostgresTemp(b)) })
}

func BenchmarkLoadSession(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { storetest.BenchLoadSession(b, openSQLiteTemp(b)) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchLoadSession(b, openPostgresTemp(b)) })
}

// BenchmarkEngineTurn is one inbound message through the engine on each
// SQL store (see storetest.BenchEngineTurn).
func BenchmarkEngineTurn(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { storetest.BenchEngineTurn(b, openSQLiteTemp(b)) })
	b.Run("postgres", func(b *testing.B) { storetest.BenchEngineTurn(b, openPostgresTemp(b)) })
}
