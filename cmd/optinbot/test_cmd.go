package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/flowtests"
)

var errTestsFailed = errors.New("flowtests failed")

func newTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test PATH…",
		Short: "Run conversation tests (*.flowtest.yaml) against their flows",
		Long: `test runs the flowtests in the given files and directories (searched
recursively for *.flowtest.yaml; see docs/flowtests.md). Each test runs on a
fresh engine with a clock that starts at 2026-01-01T00:00:00Z. A failing step
prints the conversation so far, what was expected and what came.
Exit status: 0 all passed, 1 a test failed, 2 a file does not load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := flowtests.Run(cmd.OutOrStdout(), args); code != 0 {
				return &exitError{code: code, err: errTestsFailed}
			}
			return nil
		},
	}
}
