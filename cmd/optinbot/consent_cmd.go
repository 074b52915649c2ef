package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newConsentCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consent",
		Short: "Work with the consent ledger",
	}
	cmd.AddCommand(newConsentVerifyCmd(), newConsentImportCmd())
	return cmd
}

func newConsentImportCmd() *cobra.Command {
	var configPath, business string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE --config FILE --business B",
		Short: "Record a CSV file of opt-ins and opt-outs gathered outside the chat",
		Long: `import records a CSV file of opt-ins and opt-outs a business gathered by
SMS or email campaigns, web forms, live chat or at sign-up, row by row,
through the engine's checks, exactly as POST /v1/businesses/{b}/consent/import
does (see docs/api.md for the columns). An opt-in whose wording does not say
WhatsApp and name the business is invalid; a row whose evidence is not newer
than the customer's latest opt-out is skipped (stale_evidence), never
recorded. It prints what became of each row that was not recorded, and a
summary; --json prints the whole report. Importing the same file again
records nothing twice.

It commits through an engine of its own: the engine keeps one customer's
turns in order only within one process, so while optinbot serve runs for the
business, send the file to the API's import endpoint instead.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configPath == "" || business == "" {
				return errors.New("consent import needs --config FILE and --business B")
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			businesses, err := cfg.BusinessConfigs()
			if err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("open the import file: %w", err)
			}
			defer f.Close()
			records, err := consentimport.ParseCSV(f, consentimport.MaxRows)
			if err != nil {
				return fmt.Errorf("import file %s: %w", args[0], err)
			}
			st, err := sqlstore.Open(cmd.Context(), cfg.Store.DSN)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			defer st.Close()
			svc, err := bot.NewService(cmd.Context(), bot.ServiceConfig{Store: st, Logger: zerolog.Nop()}, businesses)
			if err != nil {
				return err
			}
			biz, ok := svc.Business(bot.BusinessID(business))
			if !ok {
				return fmt.Errorf("business %q is not in %s", business, configPath)
			}
			rep, err := consentimport.Import(cmd.Context(), svc, biz.Machine.Flow, biz.ID, records, time.Now())
			if err != nil {
				return fmt.Errorf("import %s: %w", args[0], err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				return enc.Encode(rep)
			}
			for _, r := range rep.Results {
				if r.Outcome == consentimport.Recorded {
					continue
				}
				fmt.Fprintf(out, "line %d: %s %s: %s\n", r.Line, r.Outcome, r.Reason, r.Message)
				for _, fe := range r.Fields[min(1, len(r.Fields)):] {
					fmt.Fprintf(out, "line %d: %s %s: %s\n", r.Line, fe.Field, fe.Code, fe.Message)
				}
			}
			fmt.Fprintf(out, "%d rows: %d recorded, %d duplicate, %d skipped_stale, %d refused, %d invalid\n", rep.Rows,
				rep.Counts[consentimport.Recorded], rep.Counts[consentimport.Duplicate], rep.Counts[consentimport.SkippedStale],
				rep.Counts[consentimport.Refused], rep.Counts[consentimport.Invalid])
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database and the businesses (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business the file's customers gave consent to (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the whole report as one JSON object")
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
