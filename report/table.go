package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func (r ExperimentReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write experiments report of %s: %w", r.Business, err)
	}
	return nil
}

// WriteTable writes the report as a table per experiment, then each
// variant against the baseline.
//
//	retail / welcome
//	VARIANT  ASKED  YES  YES RATE (95% CI)     STOP 7D  STOP RATE (95% CI)  BLOCKED 7D
//	control  100    30   30.0% (21.9-39.6%)    3        10.0% (3.5-25.6%)   0
//	short    100    45   45.0% (35.6-54.8%)    2        4.4% (1.2-14.8%)    1
//	short vs control: YES +15.0 points (p = 0.028); STOP 7D -5.6 points (p = 0.35)
func (r ExperimentReport) WriteTable(w io.Writer) error {
	var b strings.Builder
	if len(r.Prompts) == 0 {
		fmt.Fprintf(&b, "no experiment prompts were asked at business %s", r.Business)
		if r.Flow != "" {
			fmt.Fprintf(&b, " in flow %s", r.Flow)
		}
		if !r.Since.IsZero() {
			fmt.Fprintf(&b, " since %s", r.Since.UTC().Format("2006-01-02T15:04:05Z"))
		}
		b.WriteString("\n")
	}
	for i, p := range r.Prompts {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s / %s\n", p.Flow, p.State)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VARIANT\tASKED\tYES\tYES RATE (95% CI)\tSTOP 7D\tSTOP RATE (95% CI)\tBLOCKED 7D")
		for _, v := range p.Variants {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%s\t%d\n", v.Variant, v.Asked, v.Yes, formatRate(v.YesRate), v.Stopped, formatRate(v.StopRate), v.Blocked)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, c := range p.Comparisons {
			fmt.Fprintf(&b, "%s vs %s: YES %s; STOP 7D %s\n", c.Variant, c.Baseline, formatDiff(c.Yes), formatDiff(c.Stop))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write experiments report of %s: %w", r.Business, err)
	}
	return nil
}

func formatRate(r *Rate) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%% (%.1f-%.1f%%)", 100*r.Value, 100*r.CI95.Low, 100*r.CI95.High)
}

func formatDiff(d *Difference) string {
	if d == nil {
		return "no data"
	}
	return fmt.Sprintf("%+.1f points (p = %s)", 100*d.Diff, formatP(d.P))
}

// formatP writes a p-value to 2 significant digits, and tiny ones as a
// bound.
func formatP(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.2g", p)
}
