package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newCustomerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "customer",
		Short: "Work with one customer's data",
	}
	cmd.AddCommand(newCustomerEraseCmd())
	return cmd
}

// erasedReport is what `customer erase --json` prints.
type erasedReport struct {
	Business   bot.BusinessID `json:"business"`
	Erased     bool           `json:"erased"`
	Suppressed bool           `json:"suppressed"`
	EventID    string         `json:"event_id"`
}

func newCustomerEraseCmd() *cobra.Command {
	var configPath, business string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "erase --config FILE --business ID NUMBER",
		Short: "Erase a customer's personal data, and suppress them unless they are opted in",
		Long: `erase removes a customer's personal data from the business's records in
the configured database, for a privacy (right to erasure) request: their
conversation, messages, message statuses, timers and pending messages, and
their number, words and the prompts they were shown from their consent
events, which keep the rest of their evidence and still verify (see
docs/ledger.md). The erase is recorded in the ledger by a keyed hash of the
number, never the number.

When no consent of theirs stands (they opted out, or never opted in), the
hash goes on the business's suppression list: no message goes to the
number again until the customer opts in again in the chat. Running it again
is harmless.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configPath == "" || business == "" {
				return errors.New("customer erase needs --config FILE and --business ID")
			}
			customer, err := bot.ParseCustomerID(args[0])
			if err != nil {
				return fmt.Errorf("customer erase: %w", err)
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			businesses, err := cfg.BusinessConfigs()
			if err != nil {
				return err
			}
			st, err := sqlstore.Open(cmd.Context(), cfg.Store.DSN)
			if err != nil {
				return fmt.Errorf("open store: %w", err)
			}
			defer st.Close()
			key, err := suppressionKey(cmd.Context(), cfg, st)
			if err != nil {
				return err
			}
			svc, err := bot.NewService(cmd.Context(), bot.ServiceConfig{Store: st, Logger: zerolog.Nop(), SuppressionKey: key}, businesses)
			if err != nil {
				return err
			}
			res, err := svc.EraseCustomer(cmd.Context(), bot.BusinessID(business), customer, bot.SourceCLI)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetEscapeHTML(false)
				return enc.Encode(erasedReport{Business: bot.BusinessID(business), Erased: true, Suppressed: res.Suppressed, EventID: res.EventID})
			}
			what := "not suppressed: their opt-in stood"
			if res.Suppressed {
				what = "suppressed: no message goes to them until they opt in again in the chat"
			}
			_, err = fmt.Fprintf(out, "erased customer %s of %s (ledger event %s); %s\n", customer.Redacted(), business, res.EventID, what)
			return err
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business whose customer to erase (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the outcome as one JSON object")
	return cmd
}
