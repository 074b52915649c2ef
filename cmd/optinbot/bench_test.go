package main

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchShortRun drives 50 customers at once through two rounds of the
// script (100 customers, 400 messages) on SQLite and the embedded NATS
// server, and checks the report's counts: every message answered once, in
// order, every STOP in the ledger, and the chart written.
func TestBenchShortRun(t *testing.T) {
	chart := filepath.Join(t.TempDir(), "bench.html")
	stdout, stderr, err := runCLI(t, "", "bench", "--customers", "50", "--messages", "400", "--store", "sqlite",
		"--workers", "4", "--publishers", "8", "--businesses", "3", "--json", "--chart", chart, "--progress-every", "1h")
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr)
	}
	var rep struct {
		Customers, Scripts, Finished, Sent, Replies int
		Consent                                     int                 `json:"consent_changes"`
		Ledger                                      int                 `json:"ledger_events"`
		Lost                                        int                 `json:"lost_replies"`
		Duplicates                                  int                 `json:"duplicate_replies"`
		OutOfOrder                                  int                 `json:"out_of_order_replies"`
		Unexpected                                  int                 `json:"unexpected_replies"`
		PublishErrors                               int                 `json:"publish_errors"`
		MissingOptOut                               int                 `json:"stops_without_consent_change"`
		MissingLedger                               int                 `json:"stops_not_in_ledger"`
		ChainBreaks                                 int                 `json:"ledger_chain_breaks"`
		Reply                                       struct{ Count int } `json:"inbound_to_outbound"`
		Stop                                        struct{ Count int } `json:"stop_to_consent_change"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	want := map[string][2]int{
		"customers":       {rep.Customers, 50},
		"scripts":         {rep.Scripts, 100},
		"finished":        {rep.Finished, 100},
		"sent":            {rep.Sent, 400},
		"replies":         {rep.Replies, 400},
		"consent changes": {rep.Consent, 200}, // an opt-in and an opt-out each
		"ledger opt-outs": {rep.Ledger, 100},
		"reply latencies": {rep.Reply.Count, 400},
		"STOP latencies":  {rep.Stop.Count, 100},
		"lost":            {rep.Lost, 0},
		"duplicates":      {rep.Duplicates, 0},
		"out of order":    {rep.OutOfOrder, 0},
		"unexpected":      {rep.Unexpected, 0},
		"publish errors":  {rep.PublishErrors, 0},
		"missing opt-out": {rep.MissingOptOut, 0},
		"missing ledger":  {rep.MissingLedger, 0},
		"chain breaks":    {rep.ChainBreaks, 0},
	}
	for what, gw := range want {
		if gw[0] != gw[1] {
			t.Errorf("%s = %d, want %d", what, gw[0], gw[1])
		}
	}
	checkChart(t, chart)
}

// checkChart checks the chart is well-formed XML holding two SVG charts
// and loads nothing from elsewhere.
func checkChart(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("chart: %v", err)
	}
	local := strings.NewReplacer(`xmlns="http://www.w3.org/1999/xhtml"`, "", `xmlns="http://www.w3.org/2000/svg"`, "").Replace(string(data))
	if strings.Contains(local, "http") || strings.Contains(local, "<script") {
		t.Errorf("chart loads something from elsewhere or runs script")
	}
	dec := xml.NewDecoder(strings.NewReader(string(data)))
	svgs, rects := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("chart is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "svg":
				svgs++
			case "rect":
				rects++
			}
		}
	}
	if svgs != 2 || rects < 4 {
		t.Errorf("chart has %d svg and %d rect elements, want 2 charts with bars", svgs, rects)
	}
}

// TestBenchStopsMidScript ends the run while customers are mid-script: the
// customers stop talking, and what was sent is still answered, each STOP
// sent still opts out.
func TestBenchStopsMidScript(t *testing.T) {
	stdout, stderr, err := runCLI(t, "", "bench", "--customers", "200", "--duration", "1ms", "--store", "sqlite",
		"--workers", "4", "--json", "--progress-every", "1h")
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr)
	}
	var rep struct {
		Sent, Replies int
		Violations    int `json:"violations"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	if rep.Sent == 0 || rep.Replies != rep.Sent || rep.Violations != 0 {
		t.Errorf("sent %d, replies %d, violations %d: want every message sent answered\n%s", rep.Sent, rep.Replies, rep.Violations, stdout)
	}
}

func TestBenchMsgID(t *testing.T) {
	for _, tc := range []struct {
		id        string
		num, step int
		ok        bool
	}{
		{benchMsgID(12, 3), 12, 3, true},
		{benchMsgID(0, 0), 0, 0, true},
		{"bench-1-4", 0, 0, false}, // past the script
		{"bench-x-1", 0, 0, false},
		{"wamid.1", 0, 0, false},
		{"", 0, 0, false},
	} {
		num, step, ok := parseBenchMsgID(tc.id)
		if ok != tc.ok || (ok && (num != tc.num || step != tc.step)) {
			t.Errorf("parseBenchMsgID(%q) = %d, %d, %v; want %d, %d, %v", tc.id, num, step, ok, tc.num, tc.step, tc.ok)
		}
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--customers", "0", "--store", "sqlite"},
		{"bench", "--messages", "3", "--store", "sqlite"},
		{"bench", "--pg", "mysql://x", "--customers", "1"},
	} {
		if _, _, err := runCLI(t, "", args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
