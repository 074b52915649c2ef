package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// TestEventHeader marks the sample consent change of `optinbot webhook
// test`, so the business's receiver can tell it from a real one.
const TestEventHeader = "Optinbot-Test"

var errWebhookTest = errors.New("the consent webhook did not answer 2xx")

// newWebhookTestCmd is `optinbot webhook test`: one signed sample consent
// change to a business's consent webhook.
func newWebhookTestCmd() *cobra.Command {
	var configPath, business string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "test --config FILE --business ID",
		Short: "POST a signed sample consent change to a business's consent webhook",
		Long: `test sends one sample consent change (a STOP of the fictional customer
+14155550100, id "test:…", with the header Optinbot-Test: true) to the
consent_webhook of a business of the config file, signed with its secret
exactly like the real ones (docs/api.md, "Consent webhooks"), and prints
the answer. It is sent once, without retries. Exit 1 unless the answer is
2xx.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" || business == "" {
				return errors.New("webhook test needs --config FILE and --business ID")
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			targets, err := cfg.consentWebhooks()
			if err != nil {
				return err
			}
			var target *consenthook.Target
			for i := range targets {
				if targets[i].Business == bot.BusinessID(business) {
					target = &targets[i]
				}
			}
			if target == nil {
				return fmt.Errorf("business %q has no consent_webhook in %s", business, configPath)
			}
			now := time.Now().UTC()
			change := envelope.ConsentChange{
				ID: fmt.Sprintf("test:%s:%d", business, now.UnixNano()), Customer: "+14155550100",
				Business: target.Business, Channel: "whatsapp", Topic: "all", Status: bot.OptedOut,
				Source: bot.SourceInChannel, Trigger: "optinbot webhook test", InboundText: "STOP", At: now,
			}
			body, err := change.MarshalJSON()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := consenthook.NewRequest(ctx, target.URL, target.Secret, change.ID, body, now)
			if err != nil {
				return err
			}
			req.Header.Set(TestEventHeader, "true")
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "POST %s\n%s: %s\n%s: %s\n\n%s\n\n", target.URL, consenthook.SignatureHeader,
				req.Header.Get(consenthook.SignatureHeader), consenthook.IdempotencyHeader, change.ID, body)
			resp, err := consenthook.NewClient(timeout).Do(req)
			if err != nil {
				return fmt.Errorf("POST to the consent webhook of %s: %w", business, err)
			}
			defer resp.Body.Close()
			answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
			fmt.Fprintf(out, "%s\n", resp.Status)
			if s := strings.TrimSpace(string(answer)); s != "" {
				fmt.Fprintf(out, "%s\n", s)
			}
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return &exitError{code: 1, err: fmt.Errorf("%w: %s", errWebhookTest, resp.Status)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file (required)")
	cmd.Flags().StringVar(&business, "business", "", "the business whose consent_webhook to call (required)")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "how long to wait for the answer")
	return cmd
}
