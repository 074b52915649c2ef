package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/report"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newReportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Reports from the consent ledger",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newReportExperimentsCmd())
	return cmd
}

func newReportExperimentsCmd() *cobra.Command {
	var configPath, business, flow, since string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "experiments --config FILE --business ID [--flow NAME] [--since TIME] [--json]",
		Short: "Compare the variants of opt-in experiments: asked, YES rate, STOP within 7 days",
		Long: `experiments prints, for every opt-in prompt with an experiment that the
business's customers were shown, each variant's funnel: the customers asked,
those who opted in from it with the YES rate and its 95% Wilson score
interval, those who stopped within 7 days of opting in with that rate and its
interval, and those the provider reported blocking within 7 days. Each
variant is then compared with the prompt's first variant (in the flow's
order): the difference of the rates and the p-value of a two-proportion
z-test. It reads the database of the configuration and changes nothing; it
prints no customer data.

--since counts only customers asked at that time or later: an RFC 3339 time
(2026-03-01T00:00:00Z), a date (2026-03-01, UTC) or a duration back from
now (720h).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" || business == "" {
				return errors.New("report experiments needs --config FILE and --business ID")
			}
			from, err := parseSince(since, time.Now())
			if err != nil {
				return fmt.Errorf("--since: %w", err)
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			q := report.ExperimentQuery{Business: bot.BusinessID(business), Flow: flow, Since: from, Order: map[string][]string{}}
			known := false
			for _, b := range cfg.Business {
				if b.ID != business {
					continue
				}
				known = true
				// The flow's current order of variants names the baseline;
				// a flow that no longer loads only loses that order.
				path := cfg.FlowPath(b)
				src, err := os.ReadFile(path)
				if err != nil {
					continue
				}
				f, err := flows.Load(path, src)
				if err != nil {
					continue
				}
				for _, name := range f.StateOrder {
					for _, v := range f.States[name].Prompt.Experiment {
						key := f.Name + "/" + string(name)
						q.Order[key] = append(q.Order[key], v.ID)
					}
				}
			}
			if !known {
				return fmt.Errorf("business %q is not in %s", business, configPath)
			}
			st, err := sqlstore.Open(cmd.Context(), cfg.Store.DSN)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			defer st.Close()
			rep, err := report.Experiments(cmd.Context(), st, q)
			if err != nil {
				return err
			}
			if asJSON {
				return rep.WriteJSON(cmd.OutOrStdout())
			}
			return rep.WriteTable(cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business id (required)")
	cmd.Flags().StringVar(&flow, "flow", "", "only this flow's experiments")
	cmd.Flags().StringVar(&since, "since", "", "only customers asked at or after this time: RFC 3339, a date, or a duration back from now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of tables")
	return cmd
}

// parseSince parses --since: an RFC 3339 time, a date (UTC) or a duration
// back from now; "" is no bound.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time (2026-03-01T00:00:00Z), a date (2026-03-01) nor a duration (720h)", s)
}
