package main

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newAPIKeyCmd() *cobra.Command {
	var configPath, business string
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create, list and revoke a business's API keys (docs/api.md)",
	}
	cmd.PersistentFlags().StringVar(&configPath, "config", "", "the configuration file naming the database (required)")
	cmd.PersistentFlags().StringVar(&business, "business", "", "the business the key acts for (required)")
	// open checks the flags and the business, and opens the store.
	open := func(cmd *cobra.Command) (*sqlstore.Store, error) {
		if configPath == "" || business == "" {
			return nil, errors.New("apikey needs --config FILE and --business ID")
		}
		cfg, err := LoadConfig(configPath)
		if err != nil {
			return nil, fmt.Errorf("config %s:\n%w", configPath, err)
		}
		if !slices.ContainsFunc(cfg.Business, func(b BusinessConfig) bool { return b.ID == business }) {
			return nil, fmt.Errorf("business %q is not in %s", business, configPath)
		}
		st, err := sqlstore.Open(cmd.Context(), cfg.Store.DSN)
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}

	var label string
	create := &cobra.Command{
		Use:   "create --config FILE --business ID [--label TEXT]",
		Short: "Create an API key and print it, once",
		Long: `create makes a new API key for the business and prints it on standard
output. Only its hash is stored: copy it now, it cannot be shown again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			k, token, err := bot.NewAPIKey(bot.BusinessID(business), label, time.Now())
			if err != nil {
				return err
			}
			if err := st.CreateAPIKey(cmd.Context(), k); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			fmt.Fprintf(cmd.ErrOrStderr(), "API key %s for business %s created. Store it now: only its hash is kept, it cannot be shown again.\n", k.ID, business)
			return nil
		},
	}
	create.Flags().StringVar(&label, "label", "", "what the key is for, e.g. the system using it")

	list := &cobra.Command{
		Use:   "list --config FILE --business ID",
		Short: "List the business's API keys (ids, labels, dates; never secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			keys, err := st.APIKeys(cmd.Context(), bot.BusinessID(business))
			if err != nil {
				return err
			}
			for _, k := range keys {
				state := "active"
				if !k.RevokedAt.IsZero() {
					state = "revoked " + k.RevokedAt.Format(time.RFC3339)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%s\t%s\t%q\n", k.ID, k.CreatedAt.Format(time.RFC3339), state, k.Label)
			}
			return nil
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke --config FILE --business ID KEY_ID",
		Short: "Revoke an API key: requests with it get 401 from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeAPIKey(cmd.Context(), bot.BusinessID(business), args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "API key %s revoked\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke)
	return cmd
}
