package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // driver "postgres"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// Store is a bot.Store backed by PostgreSQL or SQLite. It is safe for
// concurrent use.
type Store struct {
	db     *sqlx.DB
	sqlite bool
	bind   int // sqlx bind type of the dialect
	q      queries
	reads  sessionReads
}

// sessionReads are the statements of a turn's reads (LoadSession and the
// suppression check), prepared once. Every turn runs them, and an unprepared query with arguments costs lib/pq two round trips
// (parse, then bind and execute) and PostgreSQL a fresh plan; prepared, it
// is one round trip. database/sql prepares each on a connection the first
// time it runs there. (Behind a PgBouncer in transaction mode, use its
// max_prepared_statements support, PgBouncer 1.21 or newer.)
type sessionReads struct {
	conversation, consent, templates, suppressed *sqlx.Stmt
}

// prepareReads prepares LoadSession's statements once the schema is current.
func (s *Store) prepareReads(ctx context.Context) error {
	for _, st := range []struct {
		into        **sqlx.Stmt
		name, query string
	}{
		{&s.reads.conversation, "conversation", s.q.loadConversation},
		{&s.reads.consent, "consent", s.q.loadConsent},
		{&s.reads.templates, "recent templates", s.q.loadTemplates},
		{&s.reads.suppressed, "suppression", s.q.suppressed},
	} {
		stmt, err := s.db.PreparexContext(ctx, st.query)
		if err != nil {
			return fmt.Errorf("prepare the session's %s query: %w", st.name, err)
		}
		*st.into = stmt
	}
	return nil
}

// Open connects to the database named by dsn and brings its schema up to
// date:
//
//   - "postgres://…" or "postgresql://…": PostgreSQL, with lib/pq's URL
//     options (sslmode, search_path, …);
//   - "sqlite:PATH", "file:PATH" or a PATH ending .db, .sqlite or .sqlite3:
//     SQLite, in WAL mode with a busy timeout and foreign keys on. SQLite
//     has one writer, so the store uses a single connection and every
//     statement waits its turn.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//")
		if path == "" || strings.HasPrefix(path, "?") {
			return nil, errors.New("open store: sqlite DSN has no path: want sqlite:PATH")
		}
		return openSQLite(ctx, path)
	case strings.HasPrefix(dsn, "file:"):
		return openSQLite(ctx, dsn)
	}
	path, _, _ := strings.Cut(dsn, "?")
	for _, ext := range []string{".db", ".sqlite", ".sqlite3"} {
		if strings.HasSuffix(path, ext) {
			return openSQLite(ctx, dsn)
		}
	}
	// Never echo the DSN: it may hold a password.
	return nil, errors.New("open store: unrecognised DSN: want postgres://…, postgresql://…, sqlite:PATH, file:PATH or a path ending .db or .sqlite")
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	where := "PostgreSQL"
	if u, err := url.Parse(dsn); err == nil {
		where = "PostgreSQL at " + u.Redacted()
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	// Serialise concurrent migrations of the same schema (several instances
	// starting at once) without making different schemas wait on each other.
	var schema string
	if err := db.GetContext(ctx, &schema, "SELECT COALESCE(current_schema(), '')"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: read current schema: %w", where, err)
	}
	if schema == "" {
		db.Close()
		return nil, fmt.Errorf("open %s: no schema to create tables in: the search_path names no existing schema", where)
	}
	h := fnv.New64a()
	h.Write([]byte("optinbot migrations " + schema))
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(h.Sum64()>>1)), lock.WithLockTimeout(1, 300))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	s := newStore(db, false)
	if err := s.migrate(ctx, goose.DialectPostgres, "migrations/postgres", goose.WithSessionLocker(locker)); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	if err := s.prepareReads(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	return s, nil
}

// sqliteParams are added to a SQLite DSN unless it sets them itself.
var sqliteParams = []struct{ key, value, prefix string }{
	{"_pragma", "busy_timeout(10000)", "busy_timeout"},
	{"_pragma", "journal_mode(WAL)", "journal_mode"},
	{"_pragma", "foreign_keys(1)", "foreign_keys"},
	// Take the write lock when a transaction begins, so that a transaction
	// never has to upgrade a read lock (which fails with SQLITE_BUSY without
	// waiting for busy_timeout).
	{"_txlock", "immediate", ""},
}

func openSQLite(ctx context.Context, dsn string) (*Store, error) {
	path, query, _ := strings.Cut(dsn, "?")
	where := "SQLite database " + path
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("open %s: parse DSN options: %w", where, err)
	}
	for _, p := range sqliteParams {
		set := false
		for _, v := range q[p.key] {
			set = set || p.prefix == "" || strings.HasPrefix(strings.ToLower(strings.TrimSpace(v)), p.prefix)
		}
		if !set {
			q.Add(p.key, p.value)
		}
	}
	db, err := sqlx.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	// One connection: SQLite has one writer, and a single connection makes
	// concurrent Commits queue in the pool instead of failing with
	// SQLITE_BUSY. Other processes on the same file wait for busy_timeout.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	s := newStore(db, true)
	if err := s.migrate(ctx, goose.DialectSQLite3, "migrations/sqlite"); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	if err := s.prepareReads(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	return s, nil
}

func (s *Store) migrate(ctx context.Context, dialect goose.Dialect, dir string, opts ...goose.ProviderOption) error {
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true), goose.WithSlog(slog.New(slog.DiscardHandler)))
	p, err := goose.NewProvider(dialect, s.db.DB, fsys, opts...)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return s.sealLedger(ctx)
}

// Close closes the database connections.
func (s *Store) Close() error {
	for _, stmt := range []*sqlx.Stmt{s.reads.conversation, s.reads.consent, s.reads.templates, s.reads.suppressed} {
		if stmt != nil {
			stmt.Close()
		}
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// ---- queries ----

type queries struct {
	loadConversation, loadConsent, loadTemplates, processed, markProcessed, upsertConversation,
	pending, prune, prunePublished, pruneDeliveries, saveFlow, flowSource, consentEvents, messageStatus, deleteTimers, dueTimers,
	suppressed string
}

const eventColumns = "id, business, customer, channel, topic, category, status, source, trigger, " +
	"inbound_id, inbound_text, prompt, flow, flow_version, at, sender, language, provider_at, prev_hash, hash, " +
	"pii_salt, pii_digest"

func newStore(db *sqlx.DB, sqlite bool) *Store {
	s := &Store{db: db, sqlite: sqlite, bind: sqlx.DOLLAR}
	if sqlite {
		s.bind = sqlx.QUESTION
	}
	r := s.rebind
	s.q = queries{
		loadConversation: r(`SELECT flow, flow_version, state, last_prompt, last_inbound_at, stop,
				window_closed_at, held_since, timers, vars, handoff, prompt_expires_at, stop_asked
			FROM conversations WHERE business = ? AND customer = ?`),
		// The latest event of each topic, by commit order.
		loadConsent: r(`SELECT e.topic, e.status, e.source, e.at FROM consent_events e
			WHERE e.business = ? AND e.customer = ? AND e.seq = (
				SELECT MAX(l.seq) FROM consent_events l
				WHERE l.business = e.business AND l.customer = e.customer AND l.topic = e.topic
					AND l.status IN ('opted_in', 'opted_out'))`),
		loadTemplates: r(`SELECT topic, at FROM sent_templates
			WHERE business = ? AND customer = ? AND at >= ? ORDER BY at, seq`),
		processed:     r(`SELECT COUNT(*) FROM processed_inputs WHERE business = ? AND dedup_id = ?`),
		markProcessed: r(`INSERT INTO processed_inputs (business, dedup_id, processed_at) VALUES (?, ?, ?) ON CONFLICT (business, dedup_id) DO NOTHING`),
		upsertConversation: r(`INSERT INTO conversations
			(business, customer, flow, flow_version, state, last_prompt, last_inbound_at, stop,
				window_closed_at, held_since, timers, vars, handoff, prompt_expires_at, stop_asked, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (business, customer) DO UPDATE SET
				flow = excluded.flow, flow_version = excluded.flow_version, state = excluded.state,
				last_prompt = excluded.last_prompt, last_inbound_at = excluded.last_inbound_at,
				stop = excluded.stop, window_closed_at = excluded.window_closed_at,
				held_since = excluded.held_since, timers = excluded.timers, vars = excluded.vars,
				handoff = excluded.handoff, prompt_expires_at = excluded.prompt_expires_at,
				stop_asked = excluded.stop_asked,
				updated_at = excluded.updated_at`),
		pending: r(`SELECT effect FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?`),
		prune:   r(`DELETE FROM processed_inputs WHERE processed_at < ?`),
		// published_at IS NOT NULL spells out what the partial index
		// outbox_published_at covers; pending rows are never pruned.
		prunePublished:  r(`DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < ?`),
		pruneDeliveries: r(`DELETE FROM message_status WHERE at < ?`),
		saveFlow:        r(`INSERT INTO flow_sources (name, version, source) VALUES (?, ?, ?) ON CONFLICT (name, version) DO NOTHING`),
		flowSource:      r(`SELECT source FROM flow_sources WHERE name = ? AND version = ?`),
		consentEvents:   r(`SELECT ` + eventColumns + ` FROM consent_events WHERE business = ? AND customer = ? ORDER BY seq`),
		messageStatus:   r(`SELECT status FROM message_status WHERE business = ? AND message_id = ?`),
		deleteTimers:    r(`DELETE FROM timers WHERE business = ? AND customer = ?`),
		dueTimers: r(`SELECT business, customer, id, due_at, state, transition FROM timers
			WHERE due_at < ? ORDER BY due_at, business, customer, id LIMIT ?`),
		suppressed: r(`SELECT COUNT(*) FROM suppressions WHERE business = ? AND customer_hash = ? AND lifted_at IS NULL`),
	}
	return s
}

func (s *Store) rebind(q string) string { return sqlx.Rebind(s.bind, q) }

// ---- times ----

func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// timeArg is a time as the dialect stores it: timestamptz in PostgreSQL,
// Unix microseconds in SQLite.
func (s *Store) timeArg(t time.Time) any {
	t = norm(t)
	if s.sqlite {
		return t.UnixMicro()
	}
	return t
}

// nullTimeArg stores the zero time as NULL.
func (s *Store) nullTimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.timeArg(t)
}

// dbTime scans a time of either dialect; NULL is the zero time.
type dbTime struct{ t time.Time }

func (d *dbTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		d.t = time.Time{}
	case int64:
		d.t = time.UnixMicro(v).UTC()
	case time.Time:
		d.t = norm(v)
	default:
		return fmt.Errorf("scan time: unexpected %T", v)
	}
	return nil
}

// ---- bot.Store ----

type conversationRow struct {
	Flow           string `db:"flow"`
	FlowVersion    string `db:"flow_version"`
	State          string `db:"state"`
	LastPrompt     string `db:"last_prompt"`
	LastInboundAt  dbTime `db:"last_inbound_at"`
	Stop           []byte `db:"stop"`
	WindowClosedAt dbTime `db:"window_closed_at"`
	HeldSince      dbTime `db:"held_since"`
	Timers         []byte `db:"timers"`
	Vars           []byte `db:"vars"`
	Handoff        string `db:"handoff"`
	PromptExpires  dbTime `db:"prompt_expires_at"`
	StopAsked      []byte `db:"stop_asked"`
}

type consentRow struct {
	Topic  string `db:"topic"`
	Status string `db:"status"`
	Source string `db:"source"`
	At     dbTime `db:"at"`
}

type templateRow struct {
	Topic string `db:"topic"`
	At    dbTime `db:"at"`
}

// LoadSession implements bot.Store.
func (s *Store) LoadSession(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, since time.Time) (bot.Session, error) {
	fail := func(what string, err error) (bot.Session, error) {
		return bot.Session{}, fmt.Errorf("load session of %s/%s: %s: %w", business, customer.Redacted(), what, err)
	}
	sess := bot.Session{Business: business, Customer: customer}

	var conv conversationRow
	switch err := s.reads.conversation.GetContext(ctx, &conv, business, customer); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return fail("read conversation", err)
	default:
		sess.Conversation = bot.Conversation{
			FlowName: conv.Flow, FlowVersion: conv.FlowVersion, State: flows.StateName(conv.State),
			LastPrompt: conv.LastPrompt, LastInboundAt: conv.LastInboundAt.t,
			WindowClosedAt: conv.WindowClosedAt.t, HeldSince: conv.HeldSince.t,
			PromptExpires: conv.PromptExpires.t,
		}
		if conv.Stop != nil {
			var stop bot.StopRecord
			if err := json.Unmarshal(conv.Stop, &stop); err != nil {
				return fail("decode stop record", err)
			}
			sess.Conversation.Stop = &stop
		}
		if len(conv.Timers) > 0 {
			var timers []bot.Timer
			if err := json.Unmarshal(conv.Timers, &timers); err != nil {
				return fail("decode timers", err)
			}
			if len(timers) > 0 {
				sess.Conversation.Timers = timers
			}
		}
		if len(conv.Vars) > 0 {
			if err := json.Unmarshal(conv.Vars, &sess.Conversation.Vars); err != nil {
				return fail("decode vars", err)
			}
			if len(sess.Conversation.Vars) == 0 {
				sess.Conversation.Vars = nil
			}
		}
		sess.Conversation.Handoff = conv.Handoff
		if conv.StopAsked != nil {
			var q bot.StopQuestion
			if err := json.Unmarshal(conv.StopAsked, &q); err != nil {
				return fail("decode stop question", err)
			}
			sess.Conversation.StopAsked = &q
		}
	}

	var consent []consentRow
	if err := s.reads.consent.SelectContext(ctx, &consent, business, customer); err != nil {
		return fail("read consent", err)
	}
	for _, c := range consent {
		if sess.Consent == nil {
			sess.Consent = make(map[flows.Topic]bot.ConsentStatus, len(consent))
			sess.Latest = make(map[flows.Topic]bot.LatestConsent, len(consent))
		}
		sess.Consent[flows.Topic(c.Topic)] = bot.ConsentStatus(c.Status)
		sess.Latest[flows.Topic(c.Topic)] = bot.LatestConsent{Status: bot.ConsentStatus(c.Status), Source: bot.Source(c.Source), At: c.At.t}
	}

	var templates []templateRow
	if err := s.reads.templates.SelectContext(ctx, &templates, business, customer, s.timeArg(since)); err != nil {
		return fail("read recent templates", err)
	}
	if len(templates) > 0 {
		sess.RecentTemplates = make([]bot.SentTemplate, len(templates))
		for i, tpl := range templates {
			sess.RecentTemplates[i] = bot.SentTemplate{At: tpl.At.t, Topic: flows.Topic(tpl.Topic)}
		}
	}
	return sess, nil
}

// Processed implements bot.Store.
func (s *Store) Processed(ctx context.Context, business bot.BusinessID, dedupID string) (bool, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.q.processed, business, dedupID); err != nil {
		return false, fmt.Errorf("check processed %s for %s: %w", dedupID, business, err)
	}
	return n > 0, nil
}

// Commit implements bot.Store: one transaction that first claims the
// DedupID, so a redelivery stores nothing and reports bot.ErrDuplicate.
func (s *Store) Commit(ctx context.Context, turn bot.Turn) (err error) {
	fail := func(what string, err error) error {
		return fmt.Errorf("commit turn %q of %s/%s: %s: %w", turn.DedupID, turn.Business, turn.Customer.Redacted(), what, err)
	}
	// Encode before the transaction, to hold it as briefly as possible.
	var stop any
	if turn.Conversation.Stop != nil {
		st := *turn.Conversation.Stop
		st.At = norm(st.At)
		data, err := json.Marshal(st)
		if err != nil {
			return fail("encode stop record", err)
		}
		stop = string(data)
	}
	var stopAsked any
	if q := turn.Conversation.StopAsked; q != nil {
		cp := *q
		cp.At = norm(cp.At)
		data, err := json.Marshal(cp)
		if err != nil {
			return fail("encode stop question", err)
		}
		stopAsked = string(data)
	}
	var varsJSON any
	if len(turn.Conversation.Vars) > 0 {
		data, err := json.Marshal(turn.Conversation.Vars)
		if err != nil {
			return fail("encode vars", err)
		}
		varsJSON = string(data)
	}
	timersJSON, timers, err := s.timerRows(turn)
	if err != nil {
		return fail("encode timers", err)
	}
	at := turn.At
	if at.IsZero() {
		at = time.Now()
	}
	atArg := s.timeArg(at)
	templates := make([][]any, len(turn.Templates))
	for i, tpl := range turn.Templates {
		templates[i] = []any{turn.Business, turn.Customer, tpl.Topic, s.timeArg(tpl.At)}
	}
	effects := make([][]any, len(turn.Effects))
	for i, e := range turn.Effects {
		data, err := json.Marshal(e)
		if err != nil {
			return fail("encode effect "+e.ID, err)
		}
		effects[i] = []any{e.ID, string(data), atArg}
	}
	deliveries := deliveryRows(turn.Business, turn.Customer, turn.Deliveries, s.timeArg)
	asks := make([][]any, len(turn.Asks))
	for i, a := range turn.Asks {
		asks[i] = []any{turn.Business, turn.Customer, a.Flow, a.FlowVersion, a.State, a.Variant, s.timeArg(a.At)}
	}

	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fail("begin", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the error that made us roll back is the one to report
		}
	}()
	if turn.DedupID != "" {
		res, err := tx.ExecContext(ctx, s.q.markProcessed, turn.Business, turn.DedupID, atArg)
		if err != nil {
			return fail("mark input processed", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fail("mark input processed", err)
		}
		if n == 0 {
			return fmt.Errorf("commit turn for %s: %w", turn.DedupID, bot.ErrDuplicate)
		}
	}
	c := turn.Conversation
	if _, err := tx.ExecContext(ctx, s.q.upsertConversation, turn.Business, turn.Customer, c.FlowName, c.FlowVersion,
		c.State, c.LastPrompt, s.nullTimeArg(c.LastInboundAt), stop,
		s.nullTimeArg(c.WindowClosedAt), s.nullTimeArg(c.HeldSince), timersJSON, varsJSON, c.Handoff,
		s.nullTimeArg(c.PromptExpires), stopAsked, atArg); err != nil {
		return fail("save conversation", err)
	}
	// The timers table mirrors the conversation's Timers: replaced whole.
	if _, err := tx.ExecContext(ctx, s.q.deleteTimers, turn.Business, turn.Customer); err != nil {
		return fail("clear timers", err)
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO timers (business, customer, id, due_at, state, transition)", "", 6, timers); err != nil {
		return fail("save timers", err)
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO sent_templates (business, customer, topic, at)", "", 4, templates); err != nil {
		return fail("record templates", err)
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO prompt_asks (business, customer, flow, flow_version, state, variant, at)", "", 7, asks); err != nil {
		return fail("record prompt asks", err)
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO message_status (business, message_id, status, at, customer)",
		" ON CONFLICT (business, message_id) DO UPDATE SET status = excluded.status, at = excluded.at, customer = excluded.customer",
		5, deliveries); err != nil {
		return fail("record message statuses", err)
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO outbox (id, effect, created_at)", "", 3, effects); err != nil {
		return fail("queue effects", err)
	}
	if turn.Unsuppress != "" {
		if err := s.liftSuppression(ctx, tx, turn.Business, turn.Unsuppress, atArg); err != nil {
			return fail("lift suppression", err)
		}
	}
	// Last: appending locks the business's ledger head until the commit,
	// and every consent change of the business waits for that lock.
	if err := s.appendEvents(ctx, tx, turn.Consent); err != nil {
		return fail("append consent events", err)
	}
	if err := tx.Commit(); err != nil {
		return fail("commit", err)
	}
	return nil
}

// timerRows encodes the conversation's Timers for its timers column (NULL
// when there are none) and as rows of the timers table. A timer id repeated
// within the conversation is an error.
func (s *Store) timerRows(turn bot.Turn) (column any, rows [][]any, err error) {
	timers := turn.Conversation.Timers
	if len(timers) == 0 {
		return nil, nil, nil
	}
	normed := make([]bot.Timer, len(timers))
	rows = make([][]any, len(timers))
	seen := make(map[string]struct{}, len(timers))
	for i, tm := range timers {
		if _, dup := seen[tm.ID]; dup {
			return nil, nil, fmt.Errorf("timer id %q appears twice in the conversation", tm.ID)
		}
		seen[tm.ID] = struct{}{}
		tm.Due = norm(tm.Due)
		normed[i] = tm
		rows[i] = []any{turn.Business, turn.Customer, tm.ID, s.timeArg(tm.Due), tm.State, tm.Transition}
	}
	data, err := json.Marshal(normed)
	if err != nil {
		return nil, nil, err
	}
	return string(data), rows, nil
}

// deliveryRows are the message_status rows of a Turn's Deliveries: the last
// record of each message id (a multi-row upsert may not touch a row twice),
// ordered by message id so that concurrent Commits lock rows in one order.
func deliveryRows(business bot.BusinessID, customer bot.CustomerID, deliveries []bot.DeliveryRecord, timeArg func(time.Time) any) [][]any {
	if len(deliveries) == 0 {
		return nil
	}
	last := make(map[string]bot.DeliveryRecord, len(deliveries))
	for _, d := range deliveries {
		last[d.MessageID] = d
	}
	ids := slices.Sorted(maps.Keys(last))
	rows := make([][]any, len(ids))
	for i, id := range ids {
		d := last[id]
		rows[i] = []any{business, d.MessageID, d.Status, timeArg(d.At), customer}
	}
	return rows
}

// insertRows inserts rows with multi-row INSERTs of at most 100 rows, each
// statement ending with tail (e.g. an ON CONFLICT clause).
func (s *Store) insertRows(ctx context.Context, tx *sqlx.Tx, head, tail string, cols int, rows [][]any) error {
	const batch = 100
	one := "(?" + strings.Repeat(", ?", cols-1) + ")"
	for len(rows) > 0 {
		n := min(batch, len(rows))
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, n*cols)
		for i, row := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, row...)
		}
		b.WriteString(tail)
		if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// SaveFlowSource implements bot.Store. The first source saved for a
// (name, version) is kept.
func (s *Store) SaveFlowSource(ctx context.Context, name, version string, source []byte) error {
	if source == nil {
		source = []byte{}
	}
	if _, err := s.db.ExecContext(ctx, s.q.saveFlow, name, version, source); err != nil {
		return fmt.Errorf("save flow source %s@%s: %w", name, version, err)
	}
	return nil
}

// FlowSource implements bot.Store.
func (s *Store) FlowSource(ctx context.Context, name, version string) ([]byte, error) {
	var src []byte
	switch err := s.db.GetContext(ctx, &src, s.q.flowSource, name, version); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("load flow source %s@%s: %w", name, version, bot.ErrNotFound)
	case err != nil:
		return nil, fmt.Errorf("load flow source %s@%s: %w", name, version, err)
	}
	if src == nil {
		src = []byte{}
	}
	return src, nil
}

// MessageStatus implements bot.Store.
func (s *Store) MessageStatus(ctx context.Context, business bot.BusinessID, messageID string) (string, error) {
	var status string
	switch err := s.db.GetContext(ctx, &status, s.q.messageStatus, business, messageID); {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("message status of %s for %s: %w", messageID, business, err)
	}
	return status, nil
}

type timerRow struct {
	Business   string `db:"business"`
	Customer   string `db:"customer"`
	ID         string `db:"id"`
	DueAt      dbTime `db:"due_at"`
	State      string `db:"state"`
	Transition int    `db:"transition"`
}

// DueTimers implements bot.Store: the timers of every conversation due
// before `before`, by due time (then business, customer and timer id), at
// most limit. limit < 1 is an error.
func (s *Store) DueTimers(ctx context.Context, before time.Time, limit int) ([]bot.DueTimer, error) {
	fail := func(err error) ([]bot.DueTimer, error) {
		return nil, fmt.Errorf("timers due before %s: %w", before.UTC().Format(time.RFC3339Nano), err)
	}
	if limit < 1 {
		return fail(fmt.Errorf("limit %d, want at least 1", limit))
	}
	var rows []timerRow
	if err := s.db.SelectContext(ctx, &rows, s.q.dueTimers, s.timeArg(before), limit); err != nil {
		return fail(err)
	}
	var due []bot.DueTimer
	if len(rows) > 0 {
		due = make([]bot.DueTimer, len(rows))
	}
	for i, r := range rows {
		due[i] = bot.DueTimer{Business: bot.BusinessID(r.Business), Customer: bot.CustomerID(r.Customer),
			Timer: bot.Timer{ID: r.ID, Due: r.DueAt.t, State: flows.StateName(r.State), Transition: r.Transition}}
	}
	return due, nil
}

// ---- outbox, ledger, housekeeping ----

// PendingEffects returns up to limit effects not yet marked published,
// oldest commit first. limit < 1 is an error.
func (s *Store) PendingEffects(ctx context.Context, limit int) ([]bot.Effect, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending effects: limit %d, want at least 1", limit)
	}
	var rows [][]byte
	if err := s.db.SelectContext(ctx, &rows, s.q.pending, limit); err != nil {
		return nil, fmt.Errorf("pending effects: %w", err)
	}
	var effects []bot.Effect
	if len(rows) > 0 {
		effects = make([]bot.Effect, len(rows))
	}
	for i, data := range rows {
		if err := json.Unmarshal(data, &effects[i]); err != nil {
			return nil, fmt.Errorf("pending effects: decode effect %d of %d: %w", i+1, len(rows), err)
		}
	}
	return effects, nil
}

// MarkPublished removes effects from the pending ones. Unknown or already
// published ids are ignored.
func (s *Store) MarkPublished(ctx context.Context, ids []string) error {
	const batch = 500
	now := s.timeArg(time.Now())
	for len(ids) > 0 {
		n := min(batch, len(ids))
		q, args, err := sqlx.In(`UPDATE outbox SET published_at = ? WHERE published_at IS NULL AND id IN (?)`, now, ids[:n])
		if err != nil {
			return fmt.Errorf("mark %d effects published: %w", n, err)
		}
		if _, err := s.db.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return fmt.Errorf("mark %d effects published (first %s): %w", n, ids[0], err)
		}
		ids = ids[n:]
	}
	return nil
}

// PruneProcessed forgets processed input ids whose turn's At is before
// `before`, and reports how many it removed.
func (s *Store) PruneProcessed(ctx context.Context, before time.Time) (int64, error) {
	return s.pruneBefore(ctx, s.q.prune, "processed inputs", before)
}

// PrunePublished deletes the outbox rows of effects published before
// `before`, and reports how many it removed. Pending effects are kept,
// however old.
func (s *Store) PrunePublished(ctx context.Context, before time.Time) (int64, error) {
	return s.pruneBefore(ctx, s.q.prunePublished, "published effects", before)
}

// PruneDeliveries forgets the message statuses whose record's At is before
// `before`, and reports how many it removed.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	return s.pruneBefore(ctx, s.q.pruneDeliveries, "message statuses", before)
}

// pruneBefore runs a DELETE whose one argument is `before` and reports the
// rows it removed.
func (s *Store) pruneBefore(ctx context.Context, query, what string, before time.Time) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("prune %s before %s: %w", what, before.UTC().Format(time.RFC3339), err)
	}
	res, err := s.db.ExecContext(ctx, query, s.timeArg(before))
	if err != nil {
		return fail(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fail(err)
	}
	return n, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping store: %w", err)
	}
	return nil
}
