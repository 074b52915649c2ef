package sqlstore

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// The consent ledger is append-only (database triggers refuse UPDATE,
// DELETE and TRUNCATE) and every event is linked into its business's hash
// chain. Appending an event takes the business's ledger_heads row lock for
// the rest of the transaction, so a business's events chain in commit
// order, seq order; other businesses do not wait.

type eventRow struct {
	Seq         int64  `db:"seq"`
	ID          string `db:"id"`
	Business    string `db:"business"`
	Customer    string `db:"customer"`
	Channel     string `db:"channel"`
	Topic       string `db:"topic"`
	Category    string `db:"category"`
	Status      string `db:"status"`
	Source      string `db:"source"`
	Trigger     string `db:"trigger"`
	InboundID   string `db:"inbound_id"`
	InboundText string `db:"inbound_text"`
	Prompt      string `db:"prompt"`
	Flow        string `db:"flow"`
	FlowVersion string `db:"flow_version"`
	At          dbTime `db:"at"`
	Sender      string `db:"sender"`
	Language    string `db:"language"`
	ProviderAt  dbTime `db:"provider_at"`
	PrevHash    string `db:"prev_hash"`
	Hash        string `db:"hash"`
	PIISalt     string `db:"pii_salt"`
	PIIDigest   string `db:"pii_digest"`
}

func (r eventRow) event() bot.ConsentEvent {
	return bot.ConsentEvent{
		ID: r.ID, Business: bot.BusinessID(r.Business), Customer: bot.CustomerID(r.Customer), Sender: r.Sender,
		Channel: r.Channel, Topic: flows.Topic(r.Topic), Category: flows.Category(r.Category),
		Status: bot.ConsentStatus(r.Status), Source: bot.Source(r.Source), Trigger: r.Trigger,
		InboundID: r.InboundID, InboundText: r.InboundText, Prompt: r.Prompt, Language: r.Language,
		FlowName: r.Flow, FlowVersion: r.FlowVersion, ProviderAt: r.ProviderAt.t, At: r.At.t,
		PrevHash: r.PrevHash, Hash: r.Hash, PIISalt: r.PIISalt, PIIDigestHex: r.PIIDigest,
	}
}

// appendEvents chains and inserts a turn's consent events inside tx.
func (s *Store) appendEvents(ctx context.Context, tx *sqlx.Tx, events []bot.ConsentEvent) error {
	if len(events) == 0 {
		return nil
	}
	heads := map[bot.BusinessID]string{}
	rows := make([][]any, len(events))
	for i, e := range events {
		prev, ok := heads[e.Business]
		if !ok {
			var err error
			if prev, err = s.lockHead(ctx, tx, e.Business); err != nil {
				return err
			}
		}
		e.Seal(prev, bot.NewPIISalt())
		heads[e.Business] = e.Hash
		rows[i] = []any{e.ID, e.Business, e.Customer, e.Channel, e.Topic, e.Category, e.Status, e.Source,
			e.Trigger, e.InboundID, e.InboundText, e.Prompt, e.FlowName, e.FlowVersion, s.timeArg(e.At),
			e.Sender, e.Language, s.nullTimeArg(e.ProviderAt), e.PrevHash, e.Hash, e.PIISalt, e.PIIDigestHex}
	}
	if err := s.insertRows(ctx, tx, "INSERT INTO consent_events ("+eventColumns+")", "", 22, rows); err != nil {
		return err
	}
	for business, head := range heads {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE ledger_heads SET hash = ? WHERE business = ?`), head, business); err != nil {
			return fmt.Errorf("move the ledger head of %s: %w", business, err)
		}
	}
	return nil
}

// lockHead returns the last hash of the business's chain ("" before its
// first event) and, in PostgreSQL, holds the head's row lock until tx ends:
// one statement creates the head if need be and locks it (the no-op update
// of an existing head takes its row lock, as SELECT … FOR UPDATE would).
// SQLite transactions already hold the database's one write lock.
func (s *Store) lockHead(ctx context.Context, tx *sqlx.Tx, business bot.BusinessID) (string, error) {
	var head string
	if err := tx.GetContext(ctx, &head, s.rebind(`INSERT INTO ledger_heads (business, hash) VALUES (?, '')
		ON CONFLICT (business) DO UPDATE SET hash = ledger_heads.hash RETURNING hash`), business); err != nil {
		return "", fmt.Errorf("lock the ledger head of %s: %w", business, err)
	}
	return head, nil
}

// ConsentEvents returns a customer's whole consent ledger in commit order.
func (s *Store) ConsentEvents(ctx context.Context, business bot.BusinessID, customer bot.CustomerID) ([]bot.ConsentEvent, error) {
	var rows []eventRow
	if err := s.db.SelectContext(ctx, &rows, s.q.consentEvents, business, customer); err != nil {
		return nil, fmt.Errorf("consent events of %s/%s: %w", business, customer.Redacted(), err)
	}
	var events []bot.ConsentEvent
	if len(rows) > 0 {
		events = make([]bot.ConsentEvent, len(rows))
	}
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}

// Ledger returns up to limit entries of the whole ledger, every business,
// in commit order, starting after seq `after` (0 for the start). Page on by
// passing the last entry's Seq.
func (s *Store) Ledger(ctx context.Context, after int64, limit int) ([]bot.LedgerEntry, error) {
	if limit < 1 {
		return nil, fmt.Errorf("read ledger after %d: limit %d, want at least 1", after, limit)
	}
	var rows []eventRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT seq, `+eventColumns+` FROM consent_events
		WHERE seq > ? ORDER BY seq LIMIT ?`), after, limit); err != nil {
		return nil, fmt.Errorf("read ledger after %d: %w", after, err)
	}
	entries := make([]bot.LedgerEntry, len(rows))
	for i, r := range rows {
		entries[i] = bot.LedgerEntry{Seq: r.Seq, Event: r.event()}
	}
	return entries, nil
}

// LedgerHeads returns the last hash of every business's chain, as the
// store recorded it on each append.
func (s *Store) LedgerHeads(ctx context.Context) (map[bot.BusinessID]string, error) {
	var rows []struct {
		Business string `db:"business"`
		Hash     string `db:"hash"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT business, hash FROM ledger_heads`); err != nil {
		return nil, fmt.Errorf("read ledger heads: %w", err)
	}
	heads := make(map[bot.BusinessID]string, len(rows))
	for _, r := range rows {
		heads[bot.BusinessID(r.Business)] = r.Hash
	}
	return heads, nil
}

// sealLedger links the events recorded before the ledger had hash chains
// (hash "") into their businesses' chains, in commit order. It runs when
// the store opens, in one transaction; with no such events it only reads.
func (s *Store) sealLedger(ctx context.Context) error {
	var unsealed int
	if err := s.db.GetContext(ctx, &unsealed, `SELECT COUNT(*) FROM consent_events WHERE hash = ''`); err != nil {
		return fmt.Errorf("seal ledger: count unsealed events: %w", err)
	}
	if unsealed == 0 {
		return nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seal ledger: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if !s.sqlite {
		// Instances opening at once seal one after the other: the second
		// finds nothing left to seal.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('optinbot seal ledger ' || current_schema()))`); err != nil {
			return fmt.Errorf("seal ledger: take the seal lock: %w", err)
		}
	}
	var rows []eventRow
	if err := tx.SelectContext(ctx, &rows, `SELECT seq, `+eventColumns+` FROM consent_events WHERE hash = '' ORDER BY seq`); err != nil {
		return fmt.Errorf("seal ledger: read unsealed events: %w", err)
	}
	heads := map[bot.BusinessID]string{}
	for _, r := range rows {
		ev := r.event()
		prev, ok := heads[ev.Business]
		if !ok {
			if prev, err = s.lockHead(ctx, tx, ev.Business); err != nil {
				return fmt.Errorf("seal ledger: %w", err)
			}
		}
		ev.Seal(prev, bot.NewPIISalt())
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE consent_events SET prev_hash = ?, hash = ?, pii_salt = ?, pii_digest = ?
			WHERE seq = ?`), ev.PrevHash, ev.Hash, ev.PIISalt, ev.PIIDigestHex, r.Seq); err != nil {
			return fmt.Errorf("seal ledger: seal event %s: %w", ev.ID, err)
		}
		heads[ev.Business] = ev.Hash
	}
	for business, head := range heads {
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE ledger_heads SET hash = ? WHERE business = ?`), head, business); err != nil {
			return fmt.Errorf("seal ledger: move the head of %s: %w", business, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seal ledger: commit: %w", err)
	}
	return nil
}

// LedgerOf returns up to f.Limit entries of a business's ledger matching
// the filter, in commit order.
func (s *Store) LedgerOf(ctx context.Context, f bot.LedgerFilter) ([]bot.LedgerEntry, error) {
	if f.Limit < 1 {
		return nil, fmt.Errorf("read ledger of %s: limit %d, want at least 1", f.Business, f.Limit)
	}
	q := `SELECT seq, ` + eventColumns + ` FROM consent_events WHERE business = ? AND seq > ?`
	args := []any{f.Business, f.After}
	if f.Customer != "" {
		q += ` AND customer = ?`
		args = append(args, f.Customer)
	}
	if f.Topic != "" {
		q += ` AND topic = ?`
		args = append(args, f.Topic)
	}
	if !f.From.IsZero() {
		q += ` AND at >= ?`
		args = append(args, s.timeArg(f.From))
	}
	if !f.To.IsZero() {
		q += ` AND at < ?`
		args = append(args, s.timeArg(f.To))
	}
	q += ` ORDER BY seq LIMIT ?`
	args = append(args, f.Limit)
	var rows []eventRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(q), args...); err != nil {
		return nil, fmt.Errorf("read ledger of %s after %d: %w", f.Business, f.After, err)
	}
	entries := make([]bot.LedgerEntry, len(rows))
	for i, r := range rows {
		entries[i] = bot.LedgerEntry{Seq: r.Seq, Event: r.event()}
	}
	return entries, nil
}
