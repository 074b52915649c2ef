package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/optinbot/optinbot/bot"
)

const qualityColumns = "id, business, provider, sender, rating, event, tier, previous_rating, previous_tier, downgrade, provider_at, recorded_at"

type qualityRow struct {
	ID             string `db:"id"`
	Business       string `db:"business"`
	Provider       string `db:"provider"`
	Sender         string `db:"sender"`
	Rating         string `db:"rating"`
	Event          string `db:"event"`
	Tier           string `db:"tier"`
	PreviousRating string `db:"previous_rating"`
	PreviousTier   string `db:"previous_tier"`
	Downgrade      bool   `db:"downgrade"`
	ProviderAt     dbTime `db:"provider_at"`
	RecordedAt     dbTime `db:"recorded_at"`
}

func (r qualityRow) event() bot.QualityEvent {
	return bot.QualityEvent{ID: r.ID, Business: bot.BusinessID(r.Business), Provider: r.Provider, Sender: r.Sender,
		Rating: bot.QualityRating(r.Rating), Event: r.Event, Tier: r.Tier, PreviousRating: bot.QualityRating(r.PreviousRating),
		PreviousTier: r.PreviousTier, Downgrade: r.Downgrade, ProviderAt: r.ProviderAt.t, RecordedAt: r.RecordedAt.t}
}

// RecordQuality records a quality event of a business's sender. build
// makes the event from the sender's previous one (nil when none is
// recorded). An event whose id is already recorded is returned as it was
// recorded, with fresh false, and build is not called: a redelivered
// provider event gives the same answer.
func (s *Store) RecordQuality(ctx context.Context, id string, business bot.BusinessID, sender string,
	build func(prev *bot.QualityEvent) bot.QualityEvent) (_ bot.QualityEvent, fresh bool, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return bot.QualityEvent{}, false, fmt.Errorf("record quality event %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var row qualityRow
	err = tx.GetContext(ctx, &row, s.rebind(`SELECT `+qualityColumns+` FROM quality_events WHERE id = ?`), id)
	if err == nil {
		return row.event(), false, tx.Commit()
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return bot.QualityEvent{}, false, fmt.Errorf("record quality event %s: %w", id, err)
	}
	var prev *bot.QualityEvent
	err = tx.GetContext(ctx, &row, s.rebind(`SELECT `+qualityColumns+` FROM quality_events
		WHERE business = ? AND sender = ? ORDER BY seq DESC LIMIT 1`), business, sender)
	switch {
	case err == nil:
		p := row.event()
		prev = &p
	case !errors.Is(err, sql.ErrNoRows):
		return bot.QualityEvent{}, false, fmt.Errorf("record quality event %s: previous event: %w", id, err)
	}
	e := build(prev)
	e.ID, e.Business, e.Sender = id, business, sender
	if _, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO quality_events (`+qualityColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), e.ID, e.Business, e.Provider, e.Sender, e.Rating, e.Event, e.Tier,
		e.PreviousRating, e.PreviousTier, e.Downgrade, s.timeArg(e.ProviderAt), s.timeArg(e.RecordedAt)); err != nil {
		return bot.QualityEvent{}, false, fmt.Errorf("record quality event %s: %w", id, err)
	}
	if err = tx.Commit(); err != nil {
		return bot.QualityEvent{}, false, fmt.Errorf("record quality event %s: commit: %w", id, err)
	}
	e.ProviderAt, e.RecordedAt = norm(e.ProviderAt), norm(e.RecordedAt)
	return e, true, nil
}

// QualityHistory lists a business's quality events, oldest first.
func (s *Store) QualityHistory(ctx context.Context, business bot.BusinessID) ([]bot.QualityEvent, error) {
	var rows []qualityRow
	if err := s.db.SelectContext(ctx, &rows, s.rebind(`SELECT `+qualityColumns+` FROM quality_events
		WHERE business = ? ORDER BY seq`), business); err != nil {
		return nil, fmt.Errorf("quality history of %s: %w", business, err)
	}
	events := make([]bot.QualityEvent, len(rows))
	for i, r := range rows {
		events[i] = r.event()
	}
	return events, nil
}

// QualityContext counts what a business did from since to until: the
// templates sent, by topic (sent_templates), and the answers to opt-in
// prompts the ledger recorded, by flow, version and status.
func (s *Store) QualityContext(ctx context.Context, business bot.BusinessID, since, until time.Time) (bot.QualityContext, error) {
	qc := bot.QualityContext{Since: norm(since), Until: norm(until), Templates: []bot.TemplateCount{}, Prompts: []bot.PromptCount{}}
	if err := s.db.SelectContext(ctx, &qc.Templates, s.rebind(`SELECT topic, COUNT(*) AS sent FROM sent_templates
		WHERE business = ? AND at >= ? AND at <= ? GROUP BY topic ORDER BY COUNT(*) DESC, topic`),
		business, s.timeArg(since), s.timeArg(until)); err != nil {
		return bot.QualityContext{}, fmt.Errorf("templates sent by %s: %w", business, err)
	}
	if err := s.db.SelectContext(ctx, &qc.Prompts, s.rebind(`SELECT flow, flow_version AS version, status, COUNT(*) AS count
		FROM consent_events WHERE business = ? AND at >= ? AND at <= ? AND flow <> ''
		GROUP BY flow, flow_version, status ORDER BY COUNT(*) DESC, flow, flow_version, status`),
		business, s.timeArg(since), s.timeArg(until)); err != nil {
		return bot.QualityContext{}, fmt.Errorf("opt-in prompts answered at %s: %w", business, err)
	}
	return qc, nil
}
