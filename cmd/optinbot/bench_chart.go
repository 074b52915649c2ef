package main

import (
	"fmt"
	"html"
	"math"
	"os"
	"strings"
	"time"
)

// Chart geometry, in SVG user units.
const (
	chartW, chartH             = 900, 320
	chartLeft, chartRight      = 70, 70
	chartTop, chartBottom      = 30, 45
	chartPlotW, chartPlotH     = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartHistBuckets           = 60
	chartFont                  = `font-family="sans-serif" font-size="12"`
	chartColP50, chartColP99   = "#1f77b4", "#d62728"
	chartColRate, chartColHist = "#c7d7e8", "#4c72b0"
)

// writeBenchChart writes a self-contained HTML page with two inline SVG
// charts: the latency percentiles and throughput of every second of the
// run, and the histogram of inbound→outbound latencies. The page is
// well-formed XML, and loads nothing from elsewhere.
func writeBenchChart(path string, r *benchReport) error {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
	b.WriteString("<title>optinbot bench</title>\n<style>body{font-family:sans-serif;margin:2em}td{padding:0 1em 0 0}</style>\n</head>\n<body>\n")
	b.WriteString("<h1>optinbot bench</h1>\n<table>\n")
	row := func(k, v string) {
		fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>\n", html.EscapeString(k), html.EscapeString(v))
	}
	row("setup", fmt.Sprintf("store %s, NATS %s, %d workers, %d businesses, GOMAXPROCS %d", r.Store, r.NATS, r.Workers, r.Business, r.CPUs))
	row("customers", fmt.Sprintf("%d at once, %d in all", r.Customers, r.Scripts))
	row("throughput", fmt.Sprintf("%.0f msgs/s over %.1fs (median second %d, best %d)", r.MsgsPerSec, r.Seconds, r.MedianPerSec, r.PeakPerSec))
	lat := func(l benchLatency) string {
		return fmt.Sprintf("p50 %.1f ms, p99 %.1f ms, p99.9 %.1f ms, max %.1f ms (n=%d)", l.P50, l.P99, l.P999, l.Max, l.Count)
	}
	row("inbound→outbound", lat(r.Reply))
	row("STOP→consent change", lat(r.StopToOK))
	row("CPU", fmt.Sprintf("%.1f s user + %.1f s sys, peak RSS %.0f MB", r.CPUUserSec, r.CPUSysSec, r.PeakRSSMB))
	row("violations", fmt.Sprint(r.Violations()))
	b.WriteString("</table>\n<h2>Latency and throughput per second</h2>\n")
	timelineSVG(&b, r.timeline)
	b.WriteString("<h2>Inbound→outbound latency histogram</h2>\n")
	histogramSVG(&b, r.replyLat)
	b.WriteString("</body>\n</html>\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("bench: --chart: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// niceMax rounds v up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func svgOpen(b *strings.Builder) {
	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" %s>\n",
		chartW, chartH, chartW, chartH, chartFont)
	fmt.Fprintf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", chartLeft, chartTop, chartPlotW, chartPlotH)
}

func svgText(b *strings.Builder, x, y float64, anchor, fill, text string) {
	fmt.Fprintf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">%s</text>\n", x, y, anchor, fill, html.EscapeString(text))
}

// timelineSVG draws, per second, the replies as bars (right axis) and p50
// and p99 latency as lines (left axis).
func timelineSVG(b *strings.Builder, secs []benchSecond) {
	svgOpen(b)
	defer b.WriteString("</svg>\n")
	if len(secs) == 0 {
		svgText(b, chartW/2, chartH/2, "middle", "#000", "no replies")
		return
	}
	var maxLat float64
	maxRate := 0
	for _, s := range secs {
		maxLat = math.Max(maxLat, ms(s.P99))
		maxRate = max(maxRate, s.Replies)
	}
	latTop, rateTop := niceMax(maxLat), niceMax(float64(maxRate))
	bw := float64(chartPlotW) / float64(len(secs))
	x := func(i int) float64 { return chartLeft + bw*float64(i) }
	yLat := func(v float64) float64 { return chartTop + chartPlotH - v/latTop*chartPlotH }
	for i, s := range secs {
		h := float64(s.Replies) / rateTop * chartPlotH
		fmt.Fprintf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
			x(i), chartTop+chartPlotH-h, math.Max(bw-1, 0.5), h, chartColRate)
	}
	for _, line := range []struct {
		col string
		get func(benchSecond) time.Duration
	}{{chartColP50, func(s benchSecond) time.Duration { return s.P50 }}, {chartColP99, func(s benchSecond) time.Duration { return s.P99 }}} {
		var pts []string
		for i, s := range secs {
			if s.Replies == 0 {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i)+bw/2, yLat(ms(line.get(s)))))
		}
		fmt.Fprintf(b, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"/>\n", strings.Join(pts, " "), line.col)
	}
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		y := chartTop + chartPlotH - f*chartPlotH
		svgText(b, chartLeft-6, y+4, "end", "#000", fmt.Sprintf("%g ms", latTop*f))
		svgText(b, chartLeft+chartPlotW+6, y+4, "start", "#555", fmt.Sprintf("%g/s", rateTop*f))
	}
	for i := 0; i <= 5; i++ {
		s := int(math.Round(float64(len(secs)) * float64(i) / 5))
		svgText(b, x(s), chartTop+chartPlotH+16, "middle", "#000", fmt.Sprintf("%ds", s))
	}
	svgText(b, chartLeft, chartTop-10, "start", chartColP50, "p50 latency")
	svgText(b, chartLeft+100, chartTop-10, "start", chartColP99, "p99 latency")
	svgText(b, chartLeft+200, chartTop-10, "start", "#555", "replies per second (bars)")
	svgText(b, chartLeft+chartPlotW/2, chartH-8, "middle", "#000", "seconds since the first message")
}

// histogramSVG draws the latencies in logarithmic buckets.
func histogramSVG(b *strings.Builder, lat []time.Duration) {
	svgOpen(b)
	defer b.WriteString("</svg>\n")
	if len(lat) == 0 {
		svgText(b, chartW/2, chartH/2, "middle", "#000", "no replies")
		return
	}
	lo, hi := math.Inf(1), 0.0
	for _, d := range lat {
		v := math.Max(ms(d), 0.01)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	lo, hi = math.Log10(lo), math.Log10(hi)
	if hi-lo < 1e-9 {
		hi = lo + 1
	}
	counts := make([]int, chartHistBuckets)
	for _, d := range lat {
		i := int((math.Log10(math.Max(ms(d), 0.01)) - lo) / (hi - lo) * chartHistBuckets)
		counts[min(max(i, 0), chartHistBuckets-1)]++
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	yTop := niceMax(float64(top))
	bw := float64(chartPlotW) / chartHistBuckets
	for i, c := range counts {
		h := float64(c) / yTop * chartPlotH
		fmt.Fprintf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
			chartLeft+bw*float64(i), chartTop+chartPlotH-h, math.Max(bw-1, 0.5), h, chartColHist)
	}
	for i := 0; i <= 4; i++ {
		f := float64(i) / 4
		svgText(b, chartLeft-6, chartTop+chartPlotH-f*chartPlotH+4, "end", "#000", fmt.Sprintf("%g", yTop*f))
	}
	for i := 0; i <= 6; i++ {
		f := float64(i) / 6
		v := math.Pow(10, lo+f*(hi-lo))
		svgText(b, chartLeft+f*chartPlotW, chartTop+chartPlotH+16, "middle", "#000", fmt.Sprintf("%.3g ms", v))
	}
	svgText(b, chartLeft+chartPlotW/2, chartH-8, "middle", "#000", "inbound→outbound latency (log scale); bars: replies")
}
