package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flowtests"
)

func newSimulateCmd() *cobra.Command {
	var flowPath string
	cmd := &cobra.Command{
		Use:   "simulate --flow FILE",
		Short: "Run a flow without NATS: JSON lines in on stdin, one JSON line per effect out",
		Long: `simulate runs the engine on an in-memory store with a clock that starts at
2026-01-01T00:00:00Z. Each stdin line is one of:
  {"from":"+14155550100","text":"hi","id":"optional provider id"}
  {"from":"+14155550100","button":"BUTTON_ID"}
  {"advance":"25h"}
  {"send_template":{"to":"+14155550100","template":"NAME","topic":"optional"}}
  {"send_text":{"to":"+14155550100","text":"..."}}
  {"release":{"customer":"+14155550100","state":"optional","agent":"optional"}}
A release is an agent handing a handed-off conversation back to the bot.
Each effect is one stdout line: reply, consent, sent, refused, handoff (the
flow handed the conversation to a queue), handoff_message (the customer
wrote during the handoff: for the agents, unanswered), handoff_ended
(released, timeout or opted_out, and where the bot resumed), or error for a
bad input line. Exit 0 at end of input; 2 if the flow does not load.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flowPath == "" {
				return &exitError{code: 2, err: errors.New("simulate needs --flow FILE")}
			}
			src, err := os.ReadFile(flowPath)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("read flow: %w", err)}
			}
			flow, err := flows.Load(flowPath, src)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("flow %s does not load:\n%w", flowPath, err)}
			}
			log := zerolog.New(cmd.ErrOrStderr()).Level(zerolog.WarnLevel).With().Timestamp().Logger()
			sim, err := flowtests.NewSimulator(cmd.Context(), flow, src, log)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			return sim.Run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&flowPath, "flow", "", "the flow file to run (required)")
	return cmd
}
