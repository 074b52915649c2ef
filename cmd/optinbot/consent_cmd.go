package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newConsentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Work with the consent ledger",
	}
	cmd.AddCommand(newConsentVerifyCmd())
	return cmd
}

// errChainBroken makes the command exit non-zero once the report is out.
var errChainBroken = errors.New("the consent ledger's hash chain is broken")

func newConsentVerifyCmd() *cobra.Command {
	var configPath string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --config FILE",
		Short: "Recompute the consent ledger's hash chains and report the first broken link",
		Long: `verify reads the whole consent ledger of the configured database in commit
order, recomputes every business's hash chain and compares each link and
each business's recorded last hash. It prints the number of events and the
last hash of each chain — keep those somewhere outside the database (a
ticket, an email) and a rewrite of the whole chain becomes evident too. A
changed, inserted or removed event is reported with its position (seq),
its id and why, and the command exits with status 1. It changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("consent verify needs --config FILE")
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
			rep, err := bot.VerifyLedger(cmd.Context(), st, 1000)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				if rep.Break != nil {
					fmt.Fprintf(out, "BROKEN at seq %d (event %s, business %s): %s\n", rep.Break.Seq, rep.Break.EventID, rep.Break.Business, rep.Break.Reason)
					fmt.Fprintf(out, "%d events before it verified\n", rep.Events)
				} else {
					fmt.Fprintf(out, "ok: %d events in %d chains verified\n", rep.Events, len(rep.Heads))
				}
				for _, b := range slices.Sorted(maps.Keys(rep.Heads)) {
					fmt.Fprintf(out, "head %s %s\n", b, rep.Heads[b])
				}
			}
			if rep.Break != nil {
				cmd.SilenceUsage = true
				return errChainBroken
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	return cmd
}
