// Command optinbot runs the optinbot conversation engine: `demo` chats with
// the shipped example flow in the terminal, `serve` runs it against NATS and
// PostgreSQL, `simulate` drives a flow from JSON lines for scripts and tests.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "optinbot",
		Short:         "A WhatsApp in-channel opt-in conversation engine",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDemoCmd(), newServeCmd(), newSimulateCmd(), newLintCmd(), newAdapterCmd(), newWebhookCmd(), newTestCmd(), newChatCmd(), newLedgerCmd(), newConsentCmd(), newAPIKeyCmd(), newCustomerCmd(), newReportCmd(), newQualityCmd(), newBenchCmd())
	return root
}

// errLintFailed and its kin carry only an exit status: the command already
// printed why.
var errLintFailed = errors.New("lint found problems")

// quiet reports whether an error's message was already printed.
func quiet(err error) bool {
	return errors.Is(err, errLintFailed) || errors.Is(err, errTestsFailed)
}

func main() {
	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	if !quiet(err) {
		fmt.Fprintln(os.Stderr, "optinbot:", err)
	}
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}
