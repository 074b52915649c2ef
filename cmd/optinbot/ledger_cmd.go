package main

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newLedgerCmd() *cobra.Command {
	var configPath, business, customer string
	cmd := &cobra.Command{
		Use:   "ledger --config FILE --business ID --customer ID",
		Short: "Print a customer's consent ledger: every opt-in and opt-out with its evidence",
		Long: `ledger prints, as JSON lines in the order they were recorded, every consent
event of one customer with one business: topic, status, source, what the
customer wrote and the exact prompt they had been shown, the flow version
and the time. It reads the database of the configuration and changes
nothing. The output is personal data: handle it as such.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" || business == "" || customer == "" {
				return errors.New("ledger needs --config FILE, --business ID and --customer ID")
			}
			c, err := bot.ParseCustomerID(customer)
			if err != nil {
				return fmt.Errorf("--customer: %w", err)
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
			events, err := st.ConsentEvents(cmd.Context(), bot.BusinessID(business), c)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			for _, e := range events {
				if err := enc.Encode(e); err != nil {
					return err
				}
			}
			if len(events) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "no consent events for %s at business %q\n", c.Redacted(), business)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business id (required)")
	cmd.Flags().StringVar(&customer, "customer", "", "the customer: an E.164 number or a WhatsApp user id (required)")
	return cmd
}
