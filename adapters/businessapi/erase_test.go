package businessapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/businessapi"
	"github.com/optinbot/optinbot/bot"
)

var testSuppressionKey = []byte("business API tests' suppression key")

func TestEraseCustomer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	e.say("acme", alice, "STOP")
	e.say("acme", bob, "hi")
	e.say("acme", bob, "YES")
	e.say("globex", alice, "hi")
	e.say("globex", alice, "YES")
	erase := func(path, key string) response { return e.do("POST", path, key, nil) }

	for _, tc := range []struct {
		name       string
		path, key  string
		status     int
		code       string
		suppressed bool
	}{
		{"no key", "/v1/businesses/acme/customers/+14155550100/erase", "", http.StatusUnauthorized, "unauthorized", false},
		{"another business's key", "/v1/businesses/acme/customers/+14155550100/erase", e.globexKy, http.StatusForbidden, "forbidden", false},
		{"unknown business", "/v1/businesses/initech/customers/+14155550100/erase", e.newKey("initech"), http.StatusNotFound, "unknown_business", false},
		{"invalid number", "/v1/businesses/acme/customers/+1/erase", e.acmeKey, http.StatusBadRequest, "invalid_request", false},
		{"opted out: suppressed", "/v1/businesses/acme/customers/+14155550100/erase", e.acmeKey, http.StatusOK, "", true},
		{"opted in: not suppressed", "/v1/businesses/acme/customers/+14155550101/erase", e.acmeKey, http.StatusOK, "", false},
		{"again: still suppressed", "/v1/businesses/acme/customers/+14155550100/erase", e.acmeKey, http.StatusOK, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := erase(tc.path, tc.key)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			if tc.code != "" {
				p := res.problem(t)
				if p.Code != tc.code {
					t.Errorf("code %q, want %q", p.Code, tc.code)
				}
				if tc.code == "invalid_request" && (len(p.Fields) != 1 || p.Fields[0].Field != "customer" || p.Fields[0].Message == "") {
					t.Errorf("fields %+v, want one naming the customer", p.Fields)
				}
				return
			}
			var got businessapi.Erased
			if err := json.Unmarshal(res.body, &got); err != nil {
				t.Fatal(err)
			}
			if !got.Erased || got.Suppressed != tc.suppressed || !strings.HasPrefix(got.EventID, "acme/erase:") {
				t.Errorf("answer %+v, want erased, suppressed %v, an event id", got, tc.suppressed)
			}
			if strings.Contains(string(res.body), "4155550") {
				t.Errorf("the answer names the number: %s", res.body)
			}
		})
	}

	// The erased customer's consent is gone, and so is every message to
	// them; globex keeps its own.
	res := e.do("GET", "/v1/businesses/acme/customers/+14155550100/consent", e.acmeKey, nil)
	if res.status != http.StatusNotFound || res.problem(t).Code != "no_consent_history" {
		t.Errorf("consent after the erase: %d %s, want 404 no_consent_history", res.status, res.body)
	}
	send := func(id, to string) businessapi.Decision {
		r := e.do("POST", "/v1/businesses/acme/messages", e.acmeKey,
			strings.NewReader(fmt.Sprintf(`{"id":%q,"to":%q,"kind":"template","template":"shipped"}`, id, to)))
		var d businessapi.Decision
		if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil {
			t.Fatalf("send: status %d %s", r.status, r.body)
		}
		return d
	}
	if d := send("after-erase-1", string(alice)); d.Decision != "refused" || d.Reason != bot.ReasonSuppressed {
		t.Errorf("template to the suppressed customer: %+v, want refused suppressed", d)
	}
	if d := send("after-erase-2", string(bob)); d.Decision != "refused" || d.Reason != bot.ReasonNoConsent {
		t.Errorf("template to the erased, opted-in customer: %+v, want refused no_consent", d)
	}
	if rep, err := bot.VerifyLedger(t.Context(), e.store, 100); err != nil || rep.Break != nil {
		t.Errorf("ledger after the erases: %+v, %v", rep, err)
	}
	res = e.do("GET", "/v1/businesses/globex/customers/+14155550100/consent", e.globexKy, nil)
	var v businessapi.ConsentView
	if res.status != http.StatusOK || json.Unmarshal(res.body, &v) != nil || len(v.History) != 1 {
		t.Errorf("globex's consent after acme's erase: %d %s, want its one event", res.status, res.body)
	}
}
