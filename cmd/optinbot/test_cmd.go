package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/flowtests"
	"github.com/optinbot/optinbot/flowtests/compliance"
)

var errTestsFailed = errors.New("flowtests failed")

func newTestCmd() *cobra.Command {
	var compliant bool
	cmd := &cobra.Command{
		Use:   "test [--compliance] PATH…",
		Short: "Run conversation tests (*.flowtest.yaml) against their flows",
		Long: `test runs the flowtests in the given files and directories (searched
recursively for *.flowtest.yaml; see docs/flowtests.md). Each test runs on a
fresh engine with a clock that starts at 2026-01-01T00:00:00Z. A failing step
prints the conversation so far, what was expected and what came.
With --compliance the paths are flows, not tests: every reachable state is
explored with every kind of input, and what WhatsApp's rules require is
proved for each (docs/compliance.md): STOP ends every topic, HELP is
answered, no template without a YES, a duplicate changes nothing, no
"no" records consent, a near miss of STOP ("Unsubscribe me", "basta",
"🛑") opts out or asks whether to stop. A violation prints the shortest
conversation that shows it.
Exit status: 0 all passed, 1 a test failed, 2 a file does not load.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			run := flowtests.Run
			if compliant {
				run = compliance.Run
			}
			if code := run(cmd.OutOrStdout(), args); code != 0 {
				return &exitError{code: code, err: errTestsFailed}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&compliant, "compliance", false, "explore flows and prove the compliance properties instead of running flowtests")
	return cmd
}
