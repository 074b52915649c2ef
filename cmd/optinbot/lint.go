package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/lint"
	"github.com/optinbot/optinbot/flowtests/compliance"
)

func newLintCmd() *cobra.Command {
	var format string
	var skipCompliance bool
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
			code := lint.Run(cmd.OutOrStdout(), args, format)
			if code != 2 && !skipCompliance {
				// The generated compliance checks run too: a violation is an
				// error finding at the state where it happens.
				if complianceFindings(cmd.OutOrStdout(), args, format) {
					code = 1
				}
			}
			if code != 0 {
				return &exitError{code: code, err: errLintFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json (one JSON object per line)")
	cmd.Flags().BoolVar(&skipCompliance, "no-compliance", false, "skip the generated compliance checks (optinbot test --compliance)")
	return cmd
}

// complianceFindings explores each flow (they all loaded: lint checked) and
// prints each violation as a lint finding. It reports whether there was any.
func complianceFindings(w io.Writer, paths []string, format string) bool {
	found := false
	for _, path := range paths {
		src, err := os.ReadFile(path)
		if err != nil {
			continue // lint reported it
		}
		f, err := flows.Load(path, src)
		if err != nil {
			continue
		}
		for _, v := range compliance.Check(f, src) {
			found = true
			msg := fmt.Sprintf("%s (shortest conversation: %s)", v.Message, strings.Join(v.Conversation, " / "))
			const doc = "docs/compliance.md#the-properties"
			if format == "json" {
				data, _ := json.Marshal(map[string]any{"file": path, "line": v.Pos.Line, "col": v.Pos.Col,
					"code": string(v.Property), "severity": "error", "message": msg, "doc": doc})
				fmt.Fprintln(w, string(data))
				continue
			}
			where := path
			if v.Pos.Line > 0 {
				where = fmt.Sprintf("%s:%d:%d", path, v.Pos.Line, v.Pos.Col)
			}
			fmt.Fprintf(w, "%s: %s error: %s (%s)\n", where, v.Property, msg, doc)
		}
	}
	return found
}
