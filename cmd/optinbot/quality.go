package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

// qualityWindow is how far back an alert looks for what preceded a
// downgrade.
const qualityWindow = 24 * time.Hour

// qualityStore records the sender numbers' quality events and says what
// preceded them.
type qualityStore interface {
	QualityHistory(ctx context.Context, business bot.BusinessID) ([]bot.QualityEvent, error)
	RecordQuality(ctx context.Context, id string, business bot.BusinessID, sender string,
		build func(prev *bot.QualityEvent) bot.QualityEvent) (bot.QualityEvent, bool, error)
	QualityContext(ctx context.Context, business bot.BusinessID, since, until time.Time) (bot.QualityContext, error)
}

// alertPublisher publishes quality alerts.
type alertPublisher interface {
	Alert(ctx context.Context, a envelope.QualityAlert) (*jetstream.PubAck, error)
}

// qualityWatcher consumes the provider events, records every quality
// update of the businesses' numbers and alerts on a downgrade: a warn log,
// the metrics optinbot_quality_downgrades_total and optinbot_quality_rating,
// and a quality_alert envelope on NATS naming what the business did in the
// 24 hours before.
type qualityWatcher struct {
	consumer *natsbus.EventConsumer
	store    qualityStore
	pub      alertPublisher
	business func(sender string) (bot.BusinessID, bool)
	metrics  *metrics
	clock    func() time.Time
	log      zerolog.Logger
}

func newQualityWatcher(ctx context.Context, js jetstream.JetStream, st qualityStore, cfg *Config, m *metrics,
	log zerolog.Logger) (*qualityWatcher, error) {
	pub, err := natsbus.NewPublisher(js, cfg.NATS.SubjectPrefix)
	if err != nil {
		return nil, err
	}
	w := &qualityWatcher{store: st, pub: pub, business: qualityBusiness(cfg), metrics: m, clock: time.Now,
		log: log.With().Str("component", "quality").Logger()}
	if err := w.restoreRatings(ctx, cfg); err != nil {
		return nil, err
	}
	w.consumer, err = natsbus.NewEventConsumer(ctx, js, w.handle, natsbus.EventConsumerConfig{
		Prefix: cfg.NATS.SubjectPrefix, Durable: natsbus.EventDurableName(cfg.NATS.SubjectPrefix, "quality"), Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("quality watcher: %w", err)
	}
	return w, nil
}

// restoreRatings sets optinbot_quality_rating from each number's last
// recorded event, so the gauge holds across restarts.
func (w *qualityWatcher) restoreRatings(ctx context.Context, cfg *Config) error {
	for _, b := range cfg.Business {
		events, err := w.store.QualityHistory(ctx, bot.BusinessID(b.ID))
		if err != nil {
			return fmt.Errorf("quality watcher: %w", err)
		}
		last := map[string]bot.QualityRating{}
		for _, e := range events {
			last[e.Sender] = e.Rating
		}
		for sender, r := range last {
			if r.Rank() >= 0 {
				w.metrics.qualityRating.WithLabelValues(b.ID, sender).Set(float64(r.Rank()))
			}
		}
	}
	return nil
}

// qualityBusiness resolves the business of a number a quality update
// names: the one listing it in senders or quality_numbers, else the only
// business.
func qualityBusiness(cfg *Config) func(string) (bot.BusinessID, bool) {
	numbers := map[string]bot.BusinessID{}
	for _, b := range cfg.Business {
		for _, s := range append(append([]string(nil), b.Senders...), b.QualityNumbers...) {
			numbers[s] = bot.BusinessID(b.ID)
		}
	}
	return func(sender string) (bot.BusinessID, bool) {
		if b, ok := numbers[sender]; ok {
			return b, true
		}
		if len(cfg.Business) == 1 {
			return bot.BusinessID(cfg.Business[0].ID), true
		}
		return "", false
	}
}

func (w *qualityWatcher) run(ctx context.Context) error { return w.consumer.Run(ctx) }

// handle records a quality update and alerts on a downgrade. A repeat is
// recorded once and counted once; its alert is published again under the
// same Nats-Msg-Id, which JetStream drops within its duplicate window.
func (w *qualityWatcher) handle(ctx context.Context, e envelope.ProviderEvent) error {
	if e.Event != envelope.EventQualityUpdate {
		return nil
	}
	biz, ok := w.business(e.Sender)
	if !ok {
		w.log.Warn().Str("provider", e.Provider).Str("sender", e.Sender).Str("id", e.ID).
			Msg("quality update for a number no business lists in senders or quality_numbers: ignored")
		return nil
	}
	rec, fresh, err := w.store.RecordQuality(ctx, e.ID, biz, e.Sender, func(prev *bot.QualityEvent) bot.QualityEvent {
		var was bot.QualityRating
		if prev != nil {
			was = prev.Rating
		}
		rating, event, tier := bot.QualityFromDetail(e.Detail, was)
		return bot.ClassifyQuality(prev, bot.QualityEvent{Provider: e.Provider, Rating: rating, Event: event, Tier: tier,
			ProviderAt: e.Timestamp, RecordedAt: w.clock()})
	})
	if err != nil {
		return fmt.Errorf("quality update %s: %w", e.ID, err)
	}
	if r := rec.Rating.Rank(); r >= 0 {
		w.metrics.qualityRating.WithLabelValues(string(biz), rec.Sender).Set(float64(r))
	}
	if !rec.Downgrade {
		if fresh {
			w.log.Info().Str("business", string(biz)).Str("event", rec.Event).
				Str("rating", string(rec.Rating)).Str("tier", rec.Tier).Msg("sender quality update recorded")
		}
		return nil
	}
	qc, err := w.store.QualityContext(ctx, biz, rec.ProviderAt.Add(-qualityWindow), rec.ProviderAt)
	if err != nil {
		return fmt.Errorf("quality update %s: %w", e.ID, err)
	}
	if fresh {
		w.metrics.qualityDowngrades.WithLabelValues(string(biz), rec.Sender).Inc()
		w.log.Warn().Str("business", string(biz)).Str("sender", rec.Sender).Str("event", rec.Event).
			Str("rating", string(rec.Rating)).Str("previous_rating", string(rec.PreviousRating)).
			Str("tier", rec.Tier).Str("previous_tier", rec.PreviousTier).
			Str("preceded_by", summarize(qc)).Msg("sender quality downgraded")
	}
	if _, err := w.pub.Alert(ctx, envelope.QualityAlert{ID: rec.ID, Business: biz, Provider: rec.Provider, Sender: rec.Sender,
		Event: rec.Event, Rating: rec.Rating, PreviousRating: rec.PreviousRating, Tier: rec.Tier, PreviousTier: rec.PreviousTier,
		At: rec.ProviderAt, Preceding: qc}); err != nil {
		return fmt.Errorf("quality update %s: publish the alert: %w", e.ID, err)
	}
	return nil
}

// summarize says in one line what a quality context holds.
func summarize(qc bot.QualityContext) string {
	var parts []string
	for _, t := range qc.Templates {
		parts = append(parts, fmt.Sprintf("%d %s templates", t.Sent, t.Topic))
	}
	for _, p := range qc.Prompts {
		parts = append(parts, fmt.Sprintf("%d %s answers to %s v%s", p.Count, p.Status, p.Flow, p.Version))
	}
	if len(parts) == 0 {
		return "no templates sent and no opt-in prompts answered"
	}
	return strings.Join(parts, ", ")
}

// qualityReport is one entry of `optinbot quality`.
type qualityReport struct {
	Provider       string              `json:"provider"`
	Sender         string              `json:"sender"`
	Event          string              `json:"event"`
	Rating         bot.QualityRating   `json:"rating"`
	PreviousRating bot.QualityRating   `json:"previous_rating,omitempty"`
	Tier           string              `json:"tier,omitempty"`
	PreviousTier   string              `json:"previous_tier,omitempty"`
	Downgrade      bool                `json:"downgrade"`
	At             time.Time           `json:"at"`
	RecordedAt     time.Time           `json:"recorded_at"`
	Preceding      *bot.QualityContext `json:"preceding,omitempty"` // downgrades only
}

func newQualityCmd() *cobra.Command {
	var configPath, business string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "quality --config FILE --business ID [--json]",
		Short: "Print the quality history of a business's numbers, with what preceded each downgrade",
		Long: `quality prints, oldest first, every quality update the provider reported
for the business's sender numbers (rating GREEN, YELLOW, RED or UNKNOWN,
the messaging limit, the provider's event) and, for each downgrade, what
the business did in the 24 hours before: the templates sent, by topic, and
the opt-in prompts its customers answered, by flow, version and answer.
With --json it prints one JSON object per line. It reads the database of
the configuration and changes nothing (docs/quality.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" || business == "" {
				return errors.New("quality needs --config FILE and --business ID")
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			st, err := sqlstore.Open(cmd.Context(), cfg.Store.DSN)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			defer st.Close()
			reports, err := qualityReports(cmd.Context(), st, bot.BusinessID(business))
			if err != nil {
				return err
			}
			if len(reports) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no quality updates recorded for business %q\n", business)
				return nil
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetEscapeHTML(false)
				for _, r := range reports {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			return printQuality(cmd.OutOrStdout(), reports)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business id (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON lines")
	return cmd
}

// qualityHistory is what `optinbot quality` reads.
type qualityHistory interface {
	QualityHistory(ctx context.Context, business bot.BusinessID) ([]bot.QualityEvent, error)
	QualityContext(ctx context.Context, business bot.BusinessID, since, until time.Time) (bot.QualityContext, error)
}

func qualityReports(ctx context.Context, st qualityHistory, business bot.BusinessID) ([]qualityReport, error) {
	events, err := st.QualityHistory(ctx, business)
	if err != nil {
		return nil, err
	}
	reports := make([]qualityReport, len(events))
	for i, e := range events {
		reports[i] = qualityReport{Provider: e.Provider, Sender: e.Sender, Event: e.Event, Rating: e.Rating,
			PreviousRating: e.PreviousRating, Tier: e.Tier, PreviousTier: e.PreviousTier, Downgrade: e.Downgrade,
			At: e.ProviderAt, RecordedAt: e.RecordedAt}
		if e.Downgrade {
			qc, err := st.QualityContext(ctx, business, e.ProviderAt.Add(-qualityWindow), e.ProviderAt)
			if err != nil {
				return nil, err
			}
			reports[i].Preceding = &qc
		}
	}
	return reports, nil
}

func printQuality(out io.Writer, reports []qualityReport) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tSENDER\tEVENT\tRATING\tTIER\tDOWNGRADE")
	for _, r := range reports {
		rating, tier := string(r.Rating), r.Tier
		if r.PreviousRating != "" && r.PreviousRating != r.Rating {
			rating = string(r.PreviousRating) + "→" + rating
		}
		if r.PreviousTier != "" && r.PreviousTier != r.Tier {
			tier = r.PreviousTier + "→" + tier
		}
		down := ""
		if r.Downgrade {
			down = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.RFC3339), r.Sender, r.Event, rating, tier, down)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reports {
		if r.Preceding == nil {
			continue
		}
		fmt.Fprintf(out, "\n%s %s %s: in the 24 hours before\n", r.At.UTC().Format(time.RFC3339), r.Sender, r.Event)
		if len(r.Preceding.Templates) == 0 {
			fmt.Fprintln(out, "  templates sent: none")
		}
		for _, t := range r.Preceding.Templates {
			fmt.Fprintf(out, "  templates sent, topic %s: %d\n", t.Topic, t.Sent)
		}
		if len(r.Preceding.Prompts) == 0 {
			fmt.Fprintln(out, "  opt-in prompts answered: none")
		}
		for _, p := range r.Preceding.Prompts {
			fmt.Fprintf(out, "  opt-in prompts answered, flow %s version %s, %s: %d\n", p.Flow, p.Version, p.Status, p.Count)
		}
	}
	return nil
}
