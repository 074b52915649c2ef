package businessapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/businessapi"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/store/sqlstore"
	"github.com/optinbot/optinbot/store/storetest"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// testCode is every verification code the test deployment sends, so that
// docs/api.md can show one confirmed.
const testCode = "271828"

const (
	alice bot.CustomerID = "+14155550100"
	bob   bot.CustomerID = "+14155550101"
	carol bot.CustomerID = "+447700900123"
)

// env is one deployment serving two businesses, acme and globex, on real
// PostgreSQL, with the API on a loopback HTTP server.
type env struct {
	t        testing.TB
	store    *sqlstore.Store
	svc      *bot.Service
	srv      *httptest.Server
	now      time.Time
	acmeKey  string
	globexKy string
	// wonkaKey is the key of wonka, whose flow (testdata/signup.yaml)
	// sends sign-up verification codes.
	wonkaKey string
	seq      int
}

func newEnv(t testing.TB, cfg businessapi.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, examples.Retail)
}

// newEnvWith is newEnv with another shipped flow.
func newEnvWith(t testing.TB, cfg businessapi.Config, flowFile string) *env {
	t.Helper()
	st, err := sqlstore.Open(t.Context(), storetest.PostgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src, err := examples.FS.ReadFile(flowFile)
	if err != nil {
		t.Fatal(err)
	}
	if flowFile == examples.Retail {
		src = grantable(t, src)
	}
	f, err := flows.Load(flowFile, src)
	if err != nil {
		t.Fatal(err)
	}
	signupSrc, err := os.ReadFile("testdata/signup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	signup, err := flows.Load("signup.yaml", signupSrc)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: st, now: t0}
	e.svc, err = bot.NewService(t.Context(), bot.ServiceConfig{Store: st, Clock: func() time.Time { return e.now }, Logger: zerolog.Nop(),
		SuppressionKey: testSuppressionKey, VerificationCode: func() string { return testCode }},
		[]bot.BusinessConfig{
			{ID: "acme", Flow: f, Source: src, Senders: []string{"15550001111"}},
			{ID: "globex", Flow: f, Source: src, Senders: []string{"15550002222"}},
			{ID: "wonka", Flow: signup, Source: signupSrc, Senders: []string{"15550003333"}},
		})
	if err != nil {
		t.Fatal(err)
	}
	e.acmeKey, e.globexKy, e.wonkaKey = e.newKey("acme"), e.newKey("globex"), e.newKey("wonka")
	cfg.Store, cfg.Engine, cfg.Log = st, e.svc, zerolog.Nop()
	cfg.Clock = func() time.Time { return e.now }
	e.srv = httptest.NewServer(businessapi.New(cfg).Handler())
	t.Cleanup(e.srv.Close)
	return e
}

// grantable lets every source other than the chat grant the retail
// flow's order_updates, so that the consent endpoints can record grants.
func grantable(t testing.TB, src []byte) []byte {
	t.Helper()
	const line = "    description: updates about your orders (confirmation, shipping and delivery)\n"
	if !bytes.Contains(src, []byte(line)) {
		t.Fatal("the retail flow no longer describes order_updates as the tests expect")
	}
	return bytes.Replace(src, []byte(line),
		[]byte(line+"    granted_by: [api, signup, sms_campaign, email_campaign, web, live_chat]\n"), 1)
}

func (e *env) newKey(b bot.BusinessID) string {
	e.t.Helper()
	k, token, err := bot.NewAPIKey(b, "test", e.now)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateAPIKey(e.t.Context(), k); err != nil {
		e.t.Fatal(err)
	}
	return token
}

// say is a customer writing to a business in the chat.
func (e *env) say(b bot.BusinessID, c bot.CustomerID, text string) {
	e.t.Helper()
	e.seq++
	sender := map[bot.BusinessID]string{"acme": "15550001111", "globex": "15550002222", "wonka": "15550003333"}[b]
	if _, err := e.svc.HandleInbound(e.t.Context(), bot.Inbound{ID: fmt.Sprintf("wamid.%d", e.seq), Sender: sender,
		Customer: c, Timestamp: e.now, Text: text}); err != nil {
		e.t.Fatal(err)
	}
	e.now = e.now.Add(time.Minute)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t *testing.T) businessapi.Problem {
	t.Helper()
	var p struct{ Error businessapi.Problem }
	if err := json.Unmarshal(r.body, &p); err != nil || p.Error.Code == "" {
		t.Fatalf("status %d body %s is not a problem: %v", r.status, r.body, err)
	}
	return p.Error
}

func (e *env) do(method, path, key string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{res.StatusCode, res.Header, data}
}

func TestConsentCurrentAndHistory(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	e.say("acme", alice, "STOP")
	e.say("acme", alice, "START")
	res := e.do("GET", "/v1/businesses/acme/customers/+14155550100/consent", e.acmeKey, nil)
	if res.status != http.StatusOK {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var v businessapi.ConsentView
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.History) != 3 {
		t.Fatalf("history has %d events, want YES, STOP, START: %s", len(v.History), res.body)
	}
	if len(v.Current) != 1 || v.Current[0].Status != bot.OptedIn || v.Current[0].EventID != v.History[2].ID {
		t.Errorf("current = %+v, want order_updates opted in by the START event", v.Current)
	}
	if h := v.History[0]; h.InboundText != "YES" || h.Hash == "" || h.Prompt == "" || h.Sender != "15550001111" {
		t.Errorf("history[0] lacks its evidence: %+v", h)
	}
}

func TestSendThroughGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	send := func(id, to, kind, extra string) response {
		return e.do("POST", "/v1/businesses/acme/messages", e.acmeKey,
			strings.NewReader(fmt.Sprintf(`{"id":%q,"to":%q,"kind":%q%s}`, id, to, kind, extra)))
	}
	decision := func(r response) businessapi.Decision {
		t.Helper()
		var d businessapi.Decision
		if r.status != http.StatusOK || json.Unmarshal(r.body, &d) != nil {
			t.Fatalf("status %d body %s, want a decision", r.status, r.body)
		}
		return d
	}
	// No YES yet: the guard refuses the template.
	if d := decision(send("r1", string(alice), "template", `,"template":"shipped"`)); d.Decision != "refused" || d.Reason != bot.ReasonNoConsent {
		t.Errorf("template before YES: %+v, want refused no_consent", d)
	}
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	if d := decision(send("r2", string(alice), "template", `,"template":"shipped"`)); d.Decision != "queued" || d.MessageID == "" {
		t.Errorf("template after YES: %+v, want queued with a message id", d)
	}
	// The same id again: 409, nothing sent twice.
	if r := send("r2", string(alice), "template", `,"template":"shipped"`); r.status != http.StatusConflict || r.problem(t).Code != "duplicate_id" {
		t.Errorf("repeated id: status %d %s, want 409 duplicate_id", r.status, r.body)
	}
	// Free-form text outside the window.
	if d := decision(send("r3", string(bob), "text", `,"text":"Hello"`)); d.Decision != "refused" || d.Reason != bot.ReasonWindowClosed {
		t.Errorf("text to a customer who never wrote: %+v, want refused window_closed", d)
	}
	e.say("acme", alice, "STOP")
	if d := decision(send("r4", string(alice), "template", `,"template":"shipped"`)); d.Decision != "refused" || d.Reason != bot.ReasonOptedOut {
		t.Errorf("template after STOP: %+v, want refused opted_out", d)
	}
}

// Every error the API answers, with its status and, for invalid input,
// the fields it names.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{MaxBody: 256})
	e.say("globex", carol, "hi")
	e.say("globex", carol, "YES")
	revoked := e.newKey("acme")
	id, _, _ := bot.ParseAPIToken(revoked)
	if err := e.store.RevokeAPIKey(t.Context(), "acme", id, e.now); err != nil {
		t.Fatal(err)
	}
	wrongSecret := e.acmeKey[:len(e.acmeKey)-4] + "AAAA"
	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
		code                          string
		fields                        []string
	}{
		{"no key", "GET", "/v1/businesses/acme/ledger", "", "", 401, "unauthorized", nil},
		{"malformed key", "GET", "/v1/businesses/acme/ledger", "secret", "", 401, "unauthorized", nil},
		{"wrong secret", "GET", "/v1/businesses/acme/ledger", wrongSecret, "", 401, "unauthorized", nil},
		{"revoked key", "GET", "/v1/businesses/acme/ledger", revoked, "", 401, "unauthorized", nil},
		{"another business's customer", "GET", "/v1/businesses/globex/customers/+447700900123/consent", "ACME", "", 403, "forbidden", nil},
		{"another business's ledger", "GET", "/v1/businesses/globex/ledger", "ACME", "", 403, "forbidden", nil},
		{"sending for another business", "POST", "/v1/businesses/globex/messages", "ACME", `{}`, 403, "forbidden", nil},
		{"no history", "GET", "/v1/businesses/acme/customers/+447700900123/consent", "ACME", "", 404, "no_consent_history", nil},
		{"not a phone number", "GET", "/v1/businesses/acme/customers/12345/consent", "ACME", "", 400, "invalid_request", []string{"customer"}},
		{"unknown endpoint", "GET", "/v1/nothing", "ACME", "", 404, "not_found", nil},
		{"bad export query", "GET", "/v1/businesses/acme/ledger?from=yesterday&format=xml&topic=nope", "ACME", "", 400, "invalid_request",
			[]string{"from", "topic", "format"}},
		{"bad message fields", "POST", "/v1/businesses/acme/messages", "ACME", `{"to":"+1","kind":"template","template":"nope"}`,
			400, "invalid_request", []string{"id", "to", "template"}},
		{"unknown field", "POST", "/v1/businesses/acme/messages", "ACME", `{"id":"x","recipient":"+14155550100"}`, 400, "invalid_json", nil},
		{"not JSON", "POST", "/v1/businesses/acme/messages", "ACME", `id=x`, 400, "invalid_json", nil},
		{"too large", "POST", "/v1/businesses/acme/messages", "ACME", `{"id":"x","to":"+14155550100","kind":"text","text":"` +
			strings.Repeat("a", 300) + `"}`, 413, "too_large", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key == "ACME" {
				key = e.acmeKey
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			res := e.do(tc.method, tc.path, key, body)
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			p := res.problem(t)
			if p.Code != tc.code || p.Message == "" {
				t.Errorf("problem %+v, want code %s and a message", p, tc.code)
			}
			var got []string
			for _, f := range p.Fields {
				got = append(got, f.Field)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.fields) {
				t.Errorf("fields %v, want %v (%+v)", got, tc.fields, p.Fields)
			}
		})
	}
}

func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{RequestsPerSecond: 0.001, Burst: 2})
	path := "/v1/businesses/acme/ledger"
	for i := range 2 {
		if r := e.do("GET", path, e.acmeKey, nil); r.status != 200 {
			t.Fatalf("request %d: status %d", i, r.status)
		}
	}
	r := e.do("GET", path, e.acmeKey, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.problem(t).Code != "rate_limited" {
		t.Errorf("third request: status %d Retry-After %q %s, want 429 with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	// Another business's key has its own budget.
	if r := e.do("GET", "/v1/businesses/globex/ledger", e.globexKy, nil); r.status != 200 {
		t.Errorf("globex's key after acme's ran out: status %d", r.status)
	}
}

// Two businesses share the deployment and even a customer: each key sees
// only its own business's events, in the consent view and in the export.
func TestIsolationBetweenBusinesses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	e.say("globex", alice, "hi")
	e.say("globex", alice, "YES")
	e.say("globex", alice, "STOP")
	for _, tc := range []struct {
		business, key string
		events        int
		status        bot.ConsentStatus
	}{{"acme", e.acmeKey, 1, bot.OptedIn}, {"globex", e.globexKy, 2, bot.OptedOut}} {
		res := e.do("GET", "/v1/businesses/"+tc.business+"/customers/+14155550100/consent", tc.key, nil)
		var v businessapi.ConsentView
		if err := json.Unmarshal(res.body, &v); err != nil || len(v.History) != tc.events || v.Current[0].Status != tc.status {
			t.Errorf("%s sees %s (%v), want %d events, now %s", tc.business, res.body, err, tc.events, tc.status)
		}
		for _, ev := range v.History {
			if string(ev.Business) != tc.business {
				t.Errorf("%s's key read an event of %s", tc.business, ev.Business)
			}
		}
		exp := e.do("GET", "/v1/businesses/"+tc.business+"/ledger", tc.key, nil)
		if n := bytes.Count(exp.body, []byte("\n")); n != tc.events || bytes.Contains(exp.body, []byte(`"business":"`+other(tc.business))) {
			t.Errorf("%s's export has %d lines, want %d of its own:\n%s", tc.business, n, tc.events, exp.body)
		}
	}
}

func other(b string) string {
	if b == "acme" {
		return "globex"
	}
	return "acme"
}

func TestExportFiltersAndFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES") // t0+1m
	e.say("acme", bob, "hi")
	e.say("acme", bob, "YES") // t0+3m
	e.say("acme", alice, "STOP")
	mid := t0.Add(2 * time.Minute).Format(time.RFC3339)

	all := e.do("GET", "/v1/businesses/acme/ledger", e.acmeKey, nil)
	if all.status != 200 || all.header.Get("Content-Type") != "application/jsonl" {
		t.Fatalf("export: status %d type %q", all.status, all.header.Get("Content-Type"))
	}
	var entries []bot.LedgerEntry
	for line := range strings.Lines(string(all.body)) {
		var le bot.LedgerEntry
		if err := json.Unmarshal([]byte(line), &le); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		entries = append(entries, le)
	}
	if len(entries) != 3 {
		t.Fatalf("export has %d events, want 3", len(entries))
	}
	var v bot.ChainVerifier
	for _, le := range entries {
		if err := v.Add(le); err != nil {
			t.Errorf("the exported chain does not verify: %v", err)
		}
	}

	later := e.do("GET", "/v1/businesses/acme/ledger?from="+mid, e.acmeKey, nil)
	if n := strings.Count(string(later.body), "\n"); n != 2 {
		t.Errorf("from %s: %d events, want bob's YES and alice's STOP", mid, n)
	}
	earlier := e.do("GET", "/v1/businesses/acme/ledger?to="+mid+"&customer=%2B14155550100", e.acmeKey, nil)
	if n := strings.Count(string(earlier.body), "\n"); n != 1 || !strings.Contains(string(earlier.body), `"inbound_text":"YES"`) {
		t.Errorf("to %s for alice: %s, want alice's YES only", mid, earlier.body)
	}

	res := e.do("GET", "/v1/businesses/acme/ledger?format=csv&topic=order_updates", e.acmeKey, nil)
	if res.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("csv content type %q", res.header.Get("Content-Type"))
	}
	records, err := csv.NewReader(bytes.NewReader(res.body)).ReadAll()
	if err != nil || len(records) != 4 {
		t.Fatalf("csv export: %d records, %v, want a header and 3 rows:\n%s", len(records), err, res.body)
	}
	if records[0][0] != "seq" || records[0][len(records[0])-1] != "hash" || records[3][8] != "opted_out" || records[3][12] != "STOP" {
		t.Errorf("csv export:\n%s", res.body)
	}
}

// The export reads the ledger page by page and streams every event once.
func TestExportManyPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	const customers = 1100 // more than one page of 1000 events
	var turns []bot.Turn
	for i := range customers {
		c := bot.CustomerID(fmt.Sprintf("+1415556%04d", i))
		turns = append(turns, bot.Turn{Business: "acme", Customer: c, DedupID: fmt.Sprintf("in:%d", i), At: t0,
			Conversation: bot.Conversation{FlowName: "retail", FlowVersion: "v", State: "done"},
			Consent: []bot.ConsentEvent{{ID: fmt.Sprintf("acme/%d/0", i), Business: "acme", Customer: c, Channel: bot.Channel,
				Topic: "order_updates", Category: "utility", Status: bot.OptedIn, Source: bot.SourceAPI, Trigger: "import",
				Prompt: "Order updates from Acme on WhatsApp?", At: t0}}})
	}
	ctx := context.Background()
	for _, tr := range turns {
		if err := e.store.Commit(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	res := e.do("GET", "/v1/businesses/acme/ledger", e.acmeKey, nil)
	if n := strings.Count(string(res.body), "\n"); n != customers {
		t.Errorf("export streamed %d events, want %d", n, customers)
	}
}
