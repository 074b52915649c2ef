package main

import (
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/flows/lint"
)

func newLintCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "lint [--format text|json] FLOW…",
		Short: "Check flows for WhatsApp compliance and structural mistakes",
		Long: `lint loads each flow and checks what WhatsApp's policy asks of an opt-in
request (the business's name, "WhatsApp", what messages follow, how to opt
out) and the mistakes a flow can make (keywords a global keyword hides,
templates no state can grant, unreachable states…). Each finding reads
file:line:col: CODE severity: message (docs/lint.md#CODE).
Exit status: 0 clean or warnings only, 1 an error, 2 a file that does not load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := lint.Run(cmd.OutOrStdout(), args, format); code != 0 {
				return &exitError{code: code, err: errLintFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json (one JSON object per line)")
	return cmd
}
