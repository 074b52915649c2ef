package flows

import (
	"slices"
	"testing"
	"time"
)

func TestOptInExpiry(t *testing.T) {
	if f := mustLoad(t, "a.yaml", minimal); f.OptInExpiry != 0 {
		t.Errorf("default opt_in_expiry = %v, want 0 (the customer service window)", f.OptInExpiry)
	}
	for value, want := range map[string]time.Duration{"1h": time.Hour, "30m": 30 * time.Minute, "24h": 24 * time.Hour, `" 2h "`: 2 * time.Hour} {
		if f := mustLoad(t, "a.yaml", "opt_in_expiry: "+value+"\n"+minimal); f.OptInExpiry != want {
			t.Errorf("opt_in_expiry: %s = %v, want %v", value, f.OptInExpiry, want)
		}
	}
	for value, want := range map[string]string{
		"720h":  "1:16: opt_in_expiry must be at most 24h: an opt-in request expires at the latest when the customer service window closes; found '720h'",
		"24h1s": "1:16: opt_in_expiry must be at most 24h: an opt-in request expires at the latest when the customer service window closes; found '24h1s'",
		"0s":    "1:16: opt_in_expiry must be above 0; found '0s'",
		"-1h":   "1:16: opt_in_expiry must be above 0; found '-1h'",
		"soon":  "1:16: opt_in_expiry must be a duration such as 1h or 30m; found 'soon'",
		"[1h]":  "1:16: opt_in_expiry must be a string; found a list",
	} {
		if got := problems(t, "opt_in_expiry: "+value+"\n"+minimal); !slices.Contains(got, want) {
			t.Errorf("opt_in_expiry: %s: problems %q, want %q", value, got, want)
		}
	}
}

// The schema knows opt_in_expiry too.
func TestSchemaAcceptsOptInExpiry(t *testing.T) {
	v := loadSchema(t)
	doc, err := yamlToJSON([]byte("opt_in_expiry: 2h\n" + minimal))
	if err != nil {
		t.Fatal(err)
	}
	if errs := v.validate(doc); len(errs) > 0 {
		t.Errorf("rejected by the schema: %v", errs)
	}
}
