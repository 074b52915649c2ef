package consentimport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// retail is the shipped retail flow, with every other source allowed to
// grant order_updates.
func retail(t testing.TB) (*flows.Flow, []byte) {
	t.Helper()
	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		t.Fatal(err)
	}
	const line = "    description: updates about your orders (confirmation, shipping and delivery)\n"
	src = bytes.Replace(src, []byte(line), []byte(line+"    granted_by: [api, signup, sms_campaign, email_campaign, web, live_chat]\n"), 1)
	f, err := flows.Load(examples.Retail, src)
	if err != nil {
		t.Fatal(err)
	}
	return f, src
}

func TestNormalizeCustomer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+14155550100", "+14155550100"},
		{" +1 (415) 555-0100 ", "+14155550100"},
		{"+44 7700.900.123", "+447700900123"},
		{"0044 7700 900123", "+447700900123"},
		{"US.1234", "US.1234"},
		{"4155550100", ""}, // no country code
		{"+1415", ""},      // too short
		{"+1 415 CALL NOW", ""},
		{"", ""},
		{"+999 1234567", ""}, // no such country
	} {
		got, err := consentimport.NormalizeCustomer(tc.in)
		if string(got) != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("NormalizeCustomer(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// The parsed records of a file and each one's validation, against a
// golden file.
func TestParseAndValidateGolden(t *testing.T) {
	f, _ := retail(t)
	data, err := os.ReadFile(filepath.Join("testdata", "mixed.csv"))
	if err != nil {
		t.Fatal(err)
	}
	records, err := consentimport.ParseCSV(bytes.NewReader(data), consentimport.MaxRows)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Line   int                        `json:"line"`
		Entry  *consentimport.Entry       `json:"entry,omitempty"`
		Errors []consentimport.FieldError `json:"errors,omitempty"`
	}
	var rows []row
	for _, r := range records {
		e, bad := r.Validate(f, now)
		out := row{Line: r.Line, Errors: bad}
		if bad == nil {
			out.Entry = &e
		}
		rows = append(rows, out)
	}
	got, err := json.MarshalIndent(rows, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "mixed.golden.json")
	if *update {
		if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != string(got)+"\n" {
		t.Errorf("validation of testdata/mixed.csv differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

func TestParseCSVRejectsFiles(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		header     bool // a *HeaderError
		tooMany    bool
	}{
		{"empty", "", true, false},
		{"unknown column", "customer,action,source,consented_at,colour\n", true, false},
		{"column twice", "customer,action,source,consented_at,Customer\n", true, false},
		{"required column missing", "customer,action,source\n", true, false},
		{"too many rows", "customer,action,source,consented_at\n" + strings.Repeat("+14155550100,opt_out,web,2026-03-01T00:00:00Z\n", 4), false, true},
		{"broken quoting", "customer,action,source,consented_at\n\"+1415\"x,opt_out,web,now\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := consentimport.ParseCSV(strings.NewReader(tc.file), 3)
			var he *consentimport.HeaderError
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tc.header != errors.As(err, &he):
				t.Errorf("err %v: header error %v, want %v", err, !tc.header, tc.header)
			case tc.tooMany != errors.Is(err, consentimport.ErrTooManyRows):
				t.Errorf("err %v: too many rows %v, want %v", err, !tc.tooMany, tc.tooMany)
			}
		})
	}
	// Exactly the limit is fine; blank lines do not count.
	file := "customer,action,source,consented_at\n" + strings.Repeat("+14155550100,opt_out,web,2026-03-01T00:00:00Z\n\n", 3)
	if records, err := consentimport.ParseCSV(strings.NewReader(file), 3); err != nil || len(records) != 3 || records[2].Line != 6 {
		t.Errorf("3 rows with blank lines: %d records, %v", len(records), err)
	}
}

// FuzzParseCSV: any input either is rejected as a whole or yields at most
// maxRows records in line order, each of which validates without panicking.
func FuzzParseCSV(f *testing.F) {
	flow, _ := retail(f)
	seeds, _ := os.ReadFile(filepath.Join("testdata", "mixed.csv"))
	f.Add(string(seeds))
	f.Add("customer,action,source,consented_at\n")
	f.Add("\ufeffCUSTOMER , action,source,consented_at,wording\n+14155550100,opt_in,web,2026-03-01T00:00:00Z,\"a\"\"b\"\n")
	f.Add("customer,action,source,consented_at\n\"unterminated\n")
	f.Fuzz(func(t *testing.T, file string) {
		records, err := consentimport.ParseCSV(strings.NewReader(file), 50)
		if err != nil {
			if records != nil {
				t.Fatalf("records and an error: %v", err)
			}
			return
		}
		if len(records) > 50 {
			t.Fatalf("%d records over the limit", len(records))
		}
		last := 1
		for _, r := range records {
			if r.Line <= last {
				t.Fatalf("line %d after line %d", r.Line, last)
			}
			last = r.Line
			e, bad := r.Validate(flow, now)
			if len(bad) == 0 && (e.ID == "" || e.Customer == "" || e.At.IsZero() || e.Source == "") {
				t.Fatalf("a valid record lacks what the engine needs: %+v", e)
			}
		}
	})
}
