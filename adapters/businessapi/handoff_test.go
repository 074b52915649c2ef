package businessapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/businessapi"
)

const releasePath = "/v1/businesses/acme/customers/+14155550100/handoff/release"

func released(t *testing.T, r response) businessapi.Released {
	t.Helper()
	var rel businessapi.Released
	if r.status != http.StatusOK || json.Unmarshal(r.body, &rel) != nil {
		t.Fatalf("status %d %s, want a release", r.status, r.body)
	}
	return rel
}

func TestReleaseHandoff(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, businessapi.Config{}, "appointments.yaml")
	e.say("acme", alice, "hi")
	e.say("acme", alice, "person")
	rel := released(t, e.do("POST", releasePath, e.acmeKey, strings.NewReader(`{"id":"rel-1","agent":"sam"}`)))
	if !rel.Released || rel.Repeated || rel.Resume != "welcome" || rel.Queue != "front-desk" || rel.ID != "rel-1" {
		t.Fatalf("release: %+v", rel)
	}
	// The same release again changes nothing.
	if rel := released(t, e.do("POST", releasePath, e.acmeKey, strings.NewReader(`{"id":"rel-1"}`))); !rel.Repeated {
		t.Errorf("repeated release: %+v", rel)
	}
	// Nothing left to hand back.
	if r := e.do("POST", releasePath, e.acmeKey, strings.NewReader(`{"id":"rel-2"}`)); r.status != http.StatusConflict || r.problem(t).Code != "no_handoff" {
		t.Errorf("release without a handoff: %d %s", r.status, r.body)
	}
}

func TestReleaseHandoffOptions(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, businessapi.Config{}, "appointments.yaml")
	e.say("acme", alice, "hi")
	e.say("acme", alice, "Maria")
	e.say("acme", alice, "person")
	// No body, the id from Idempotency-Key, a %2B-escaped customer.
	req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/v1/businesses/acme/customers/%2B14155550100/handoff/release", nil)
	req.Header.Set("Authorization", "Bearer "+e.acmeKey)
	req.Header.Set("Idempotency-Key", "key-9")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rel businessapi.Released
	if err := json.NewDecoder(res.Body).Decode(&rel); err != nil || res.StatusCode != 200 || rel.ID != "key-9" || rel.Resume != "ask_reminders" {
		t.Fatalf("release by Idempotency-Key: %d %+v %v", res.StatusCode, rel, err)
	}
	res.Body.Close()
	// No id: one is made up; a state to resume in.
	e.say("acme", alice, "person")
	if rel := released(t, e.do("POST", releasePath, e.acmeKey, strings.NewReader(`{"state":"done"}`))); rel.Resume != "done" || !strings.HasPrefix(rel.ID, "api-") {
		t.Errorf("release without an id: %+v", rel)
	}
}

func TestReleaseHandoffRefusals(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, businessapi.Config{}, "appointments.yaml")
	e.say("acme", alice, "hi")
	e.say("acme", alice, "person")
	for _, tc := range []struct {
		name, path, key, body, idHeader string
		status                          int
		code                            string
	}{
		{"no key", releasePath, "", `{}`, "", 401, "unauthorized"},
		{"another business", "/v1/businesses/globex/customers/+14155550100/handoff/release", "ACME", `{}`, "", 403, "forbidden"},
		{"bad customer", "/v1/businesses/acme/customers/12345/handoff/release", "ACME", `{}`, "", 400, "invalid_request"},
		{"unknown state", releasePath, "ACME", `{"state":"nowhere"}`, "", 400, "invalid_request"},
		{"not JSON", releasePath, "ACME", `state=done`, "", 400, "invalid_json"},
		{"unknown field", releasePath, "ACME", `{"stat":"done"}`, "", 400, "invalid_json"},
		{"two ids", releasePath, "ACME", `{"id":"a"}`, "b", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == "ACME" {
				key = e.acmeKey
			}
			req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+tc.path, strings.NewReader(tc.body))
			if key != "" {
				req.Header.Set("Authorization", "Bearer "+key)
			}
			if tc.idHeader != "" {
				req.Header.Set("Idempotency-Key", tc.idHeader)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var p struct{ Error businessapi.Problem }
			if err := json.NewDecoder(res.Body).Decode(&p); err != nil || res.StatusCode != tc.status || p.Error.Code != tc.code {
				t.Errorf("%d %+v (%v), want %d %s", res.StatusCode, p.Error, err, tc.status, tc.code)
			}
		})
	}
	// None of them ended the handoff.
	if rel := released(t, e.do("POST", releasePath, e.acmeKey, nil)); !rel.Released || rel.Repeated {
		t.Errorf("release after the refusals: %+v", rel)
	}
}
