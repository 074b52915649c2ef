package businessapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/businessapi"
	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/bot"
)

const whatsappWording = "Yes, send me updates about your orders from Acme Outfitters on WhatsApp. Reply STOP to opt out."

// doCT is do with a content type of its own.
func (e *env) doCT(method, path, key, contentType, body string) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", contentType)
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

// record posts a consent record for a customer of acme.
func (e *env) record(key string, c bot.CustomerID, body map[string]any) response {
	e.t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.doCT("POST", "/v1/businesses/acme/customers/"+string(c)+"/consent", key, "application/json", string(data))
}

func optIn(id string, at time.Time, wording string) map[string]any {
	return map[string]any{"id": id, "action": "opt_in", "topic": "order_updates", "source": "sms",
		"wording": wording, "language": "en", "where": "spring SMS campaign", "consented_at": at.Format(time.RFC3339)}
}

// currentStatus is the customer's order_updates status as the API reads it
// ("" with no history).
func (e *env) currentStatus(key string, b bot.BusinessID, c bot.CustomerID) bot.ConsentStatus {
	e.t.Helper()
	res := e.do("GET", "/v1/businesses/"+string(b)+"/customers/"+string(c)+"/consent", key, nil)
	if res.status == http.StatusNotFound {
		return ""
	}
	var v businessapi.ConsentView
	if err := json.Unmarshal(res.body, &v); err != nil || res.status != http.StatusOK {
		e.t.Fatalf("consent of %s: status %d %s", c, res.status, res.body)
	}
	for _, tc := range v.Current {
		if tc.Topic == "order_updates" {
			return tc.Status
		}
	}
	return ""
}

func TestRecordOptIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	res := e.record(e.acmeKey, bob, optIn("sms-2026-0042", t0.Add(-24*time.Hour), whatsappWording))
	if res.status != http.StatusCreated {
		t.Fatalf("status %d: %s", res.status, res.body)
	}
	var got businessapi.RecordedConsent
	if err := json.Unmarshal(res.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Events) != 1 {
		t.Fatalf("events = %d, want 1: %s", len(got.Events), res.body)
	}
	ev := got.Events[0]
	if ev.Status != bot.OptedIn || ev.Source != bot.SourceSMSCampaign || ev.Prompt != whatsappWording || ev.Language != "en" ||
		ev.InboundID != "sms-2026-0042" || ev.Trigger != "granted by sms_campaign (spring SMS campaign) at 2026-03-01T10:00:00Z" || ev.Hash == "" {
		t.Errorf("event lacks its evidence: %+v", ev)
	}
	if s := e.currentStatus(e.acmeKey, "acme", bob); s != bot.OptedIn {
		t.Errorf("bob's order_updates = %q, want opted_in", s)
	}
	// The guard now lets a template through.
	send := e.do("POST", "/v1/businesses/acme/messages", e.acmeKey,
		strings.NewReader(`{"id":"m1","to":"+14155550101","kind":"template","template":"shipped"}`))
	if !strings.Contains(string(send.body), `"queued"`) {
		t.Errorf("template after an API opt-in: %s, want queued", send.body)
	}
	// An opt-out from another channel ends it.
	res = e.record(e.acmeKey, bob, map[string]any{"id": "unsub-9", "action": "opt_out", "source": "email",
		"where": "unsubscribe link", "consented_at": t0.Format(time.RFC3339)})
	if res.status != http.StatusCreated {
		t.Fatalf("opt-out: status %d: %s", res.status, res.body)
	}
	if s := e.currentStatus(e.acmeKey, "acme", bob); s != bot.OptedOut {
		t.Errorf("after the opt-out bob's order_updates = %q, want opted_out", s)
	}
}

func TestSMSOnlyWordingRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	at := t0.Add(-time.Hour)
	for i, tc := range []struct {
		wording string
		codes   []string // the wording's field codes; none means recorded
	}{
		{"Yes, text me updates about your orders from Acme Outfitters by SMS. Reply STOP to opt out.", []string{"wording_missing_whatsapp"}},
		{"Yes, send me updates about your orders on WhatsApp.", []string{"wording_missing_business"}},
		{"Yes, send me updates about your orders from Acme Outfitters on WA.", []string{"wording_missing_whatsapp"}},
		{"Sign me up!", []string{"wording_missing_whatsapp", "wording_missing_business", "wording_missing_topic"}},
		{"", []string{"wording_empty"}},
		{"Yes, send me updates about your orders from ACME OUTFITTERS on ＷｈａｔｓＡｐｐ.", nil},
		{"Oui : updates about your orders from Acmé Outfitters on Whats App.", nil},
	} {
		customer := bot.CustomerID(fmt.Sprintf("+1415555020%d", i))
		res := e.record(e.acmeKey, customer, optIn(fmt.Sprintf("w%d", i), at, tc.wording))
		if len(tc.codes) == 0 {
			if res.status != http.StatusCreated {
				t.Errorf("%q: status %d %s, want 201", tc.wording, res.status, res.body)
			}
			continue
		}
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%q: status %d %s, want 422", tc.wording, res.status, res.body)
			continue
		}
		p := res.problem(t)
		var codes []string
		for _, f := range p.Fields {
			if f.Field != "wording" {
				t.Errorf("%q: field %s at fault, want wording", tc.wording, f.Field)
			}
			codes = append(codes, f.Code)
		}
		if p.Code != "consent_refused" || fmt.Sprint(codes) != fmt.Sprint(tc.codes) {
			t.Errorf("%q: %s %v, want consent_refused %v", tc.wording, p.Code, codes, tc.codes)
		}
		// Nothing reached the ledger.
		if s := e.currentStatus(e.acmeKey, "acme", customer); s != "" {
			t.Errorf("%q: a refused wording left status %q", tc.wording, s)
		}
	}
}

func TestImportNeverUnstopsWithStaleEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", alice, "hi")
	e.say("acme", alice, "YES")
	stoppedAt := e.now
	e.say("acme", alice, "STOP")
	// bob opted out through the web; carol never did anything.
	if res := e.record(e.acmeKey, bob, map[string]any{"action": "opt_out", "source": "web",
		"consented_at": t0.Format(time.RFC3339)}); res.status != http.StatusCreated {
		t.Fatalf("bob's opt-out: %d %s", res.status, res.body)
	}
	e.now = e.now.Add(time.Hour)
	w := strings.ReplaceAll(whatsappWording, `"`, `""`)
	file := "customer,action,topic,source,wording,consented_at\n" +
		fmt.Sprintf("+14155550100,opt_in,order_updates,sms,\"%s\",%s\n", w, stoppedAt.Add(-24*time.Hour).Format(time.RFC3339)) + // alice: older than her STOP
		fmt.Sprintf("+14155550100,opt_in,order_updates,sms,\"%s\",%s\n", w, stoppedAt.Format(time.RFC3339)) + // alice: the STOP's own minute: not newer
		fmt.Sprintf("+14155550101,opt_in,order_updates,web,\"%s\",%s\n", w, t0.Add(-time.Hour).Format(time.RFC3339)) // bob: older than his opt-out's record
	res := e.doCT("POST", "/v1/businesses/acme/consent/import", e.acmeKey, "text/csv", file)
	if res.status != http.StatusOK {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	var rep consentimport.Report
	if err := json.Unmarshal(res.body, &rep); err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Outcome != consentimport.SkippedStale || r.Reason != "stale_evidence" || r.Message == "" {
			t.Errorf("line %d: %s %s, want skipped_stale stale_evidence with a message", r.Line, r.Outcome, r.Reason)
		}
	}
	for _, c := range []bot.CustomerID{alice, bob} {
		if s := e.currentStatus(e.acmeKey, "acme", c); s != bot.OptedOut {
			t.Errorf("%s: order_updates = %q after a stale import, want still opted_out", c.Redacted(), s)
		}
	}
	// Newer, explicit evidence does re-grant, once.
	newer := "customer,action,topic,source,wording,consented_at\n" +
		fmt.Sprintf("+14155550100,opt_in,order_updates,web,\"%s\",%s\n", w, e.now.Add(-time.Minute).Format(time.RFC3339))
	res = e.doCT("POST", "/v1/businesses/acme/consent/import", e.acmeKey, "text/csv", newer)
	if err := json.Unmarshal(res.body, &rep); err != nil || rep.Results[0].Outcome != consentimport.Recorded {
		t.Fatalf("newer evidence: %d %s, want recorded", res.status, res.body)
	}
	if s := e.currentStatus(e.acmeKey, "acme", alice); s != bot.OptedIn {
		t.Errorf("alice after newer evidence: %q, want opted_in", s)
	}
	res = e.doCT("POST", "/v1/businesses/acme/consent/import", e.acmeKey, "text/csv", newer)
	if err := json.Unmarshal(res.body, &rep); err != nil || rep.Results[0].Outcome != consentimport.Duplicate {
		t.Errorf("the same file again: %s, want duplicate", res.body)
	}
}

func TestImportReportsEachRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	e.say("acme", carol, "hi")
	e.say("acme", carol, "STOP")
	at := t0.Add(-time.Hour).Format(time.RFC3339)
	w := strings.ReplaceAll(whatsappWording, `"`, `""`)
	file := "\ufeffID,Customer,Action,Topic,Source,Wording,Consented_At\n" +
		"r1,+1 (415) 555-0100,opt_in,order_updates,signup,\"" + w + "\"," + at + "\n" + // 2 recorded, number normalised
		"r2,4155550101,opt_in,order_updates,web,\"" + w + "\"," + at + "\n" + // 3 no country code
		"r3,+14155550102,opt_in,order_updates,sms,\"Text me order updates from Acme Outfitters\"," + at + "\n" + // 4 SMS-only wording
		"r1,+14155550100,opt_in,order_updates,signup,\"" + w + "\"," + at + "\n" + // 5 duplicate id
		"r5,00447700900123,opt_in,order_updates,web,\"" + w + "\"," + at + "\n" + // 6 carol stopped later: stale
		"r6,+14155550103,opt_out,,email,,2026-03-01T08:00:00Z\n" + // 7 recorded, every topic
		"r7,+14155550104,opt_in,order_updates\n" + // 8 short row
		"\n" +
		"r8,+14155550105,maybe,nope,fax,,yesterday\n" // 10 every field wrong
	res := e.doCT("POST", "/v1/businesses/acme/consent/import", e.acmeKey, "text/csv; charset=utf-8", file)
	if res.status != http.StatusOK {
		t.Fatalf("import: %d %s", res.status, res.body)
	}
	var rep consentimport.Report
	if err := json.Unmarshal(res.body, &rep); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		line    int
		outcome consentimport.Outcome
		reason  string
	}{
		{2, consentimport.Recorded, ""},
		{3, consentimport.Invalid, "invalid_customer"},
		{4, consentimport.Invalid, "wording_missing_whatsapp"},
		{5, consentimport.Duplicate, "duplicate_id"},
		{6, consentimport.SkippedStale, "stale_evidence"},
		{7, consentimport.Recorded, ""},
		{8, consentimport.Invalid, "invalid_row"},
		{10, consentimport.Invalid, "invalid_action"},
	}
	if rep.Rows != len(want) || len(rep.Results) != len(want) {
		t.Fatalf("report has %d rows, want %d: %s", len(rep.Results), len(want), res.body)
	}
	for i, w := range want {
		got := rep.Results[i]
		if got.Line != w.line || got.Outcome != w.outcome || got.Reason != w.reason {
			t.Errorf("row %d: line %d %s %s, want line %d %s %s (%s)", i, got.Line, got.Outcome, got.Reason, w.line, w.outcome, w.reason, got.Message)
		}
		if strings.Contains(got.Customer, "555") || strings.Contains(got.Message, "4155550101") {
			t.Errorf("line %d: the report holds a whole phone number: %+v", got.Line, got)
		}
	}
	if fields := rep.Results[7].Fields; len(fields) != 4 {
		t.Errorf("line 10 reports %d fields, want action, topic, source and consented_at: %+v", len(fields), fields)
	}
	if rep.Counts[consentimport.Recorded] != 2 || rep.Counts[consentimport.Invalid] != 4 {
		t.Errorf("counts = %v", rep.Counts)
	}
	if s := e.currentStatus(e.acmeKey, "acme", "+14155550103"); s != bot.OptedOut {
		t.Errorf("line 7's opt-out of every topic: order_updates = %q", s)
	}
}

func TestConsentErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{MaxBody: 1024, MaxImportBody: 4096})
	initech := e.newKey("initech") // a key for a business this deployment does not serve
	good := `{"id":"g1","action":"opt_in","topic":"order_updates","source":"web","wording":"` + whatsappWording + `","consented_at":"2026-03-01T10:00:00Z"}`
	if r := e.doCT("POST", "/v1/businesses/acme/customers/+14155550100/consent", e.acmeKey, "application/json", good); r.status != http.StatusCreated {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	e.say("acme", bob, "hi")
	e.say("acme", bob, "STOP")
	csvHeader := "customer,action,topic,source,wording,consented_at\n"
	manyRows := csvHeader + strings.Repeat("+14155550100,opt_out,,web,,2026-03-01T10:00:00Z\n", consentimport.MaxRows+1)
	const consentPath = "/v1/businesses/acme/customers/+14155550100/consent"
	const importPath = "/v1/businesses/acme/consent/import"
	for _, tc := range []struct {
		name                string
		path, key, ct, body string
		status              int
		code                string
		fields              []string
	}{
		{"no key", consentPath, "", "application/json", good, 401, "unauthorized", nil},
		{"bad key", consentPath, "obk_nope_nope", "application/json", good, 401, "unauthorized", nil},
		{"another business's customer", "/v1/businesses/globex/customers/+14155550100/consent", e.acmeKey, "application/json", good, 403, "forbidden", nil},
		{"unknown business", "/v1/businesses/initech/customers/+14155550100/consent", initech, "application/json", good, 404, "unknown_business", nil},
		{"unknown endpoint", "/v1/businesses/acme/customers/+14155550100/consents", e.acmeKey, "application/json", good, 404, "not_found", nil},
		{"duplicate id", consentPath, e.acmeKey, "application/json", good, 409, "duplicate_id", nil},
		{"stale evidence", "/v1/businesses/acme/customers/+14155550101/consent", e.acmeKey, "application/json",
			strings.Replace(good, `"g1"`, `"g2"`, 1), 409, "stale_evidence", nil},
		{"not JSON", consentPath, e.acmeKey, "application/json", `{"action":`, 400, "invalid_json", nil},
		{"unknown field", consentPath, e.acmeKey, "application/json", `{"action":"opt_in","colour":"red"}`, 400, "invalid_json", nil},
		{"bad customer", "/v1/businesses/acme/customers/12345/consent", e.acmeKey, "application/json", strings.Replace(good, `"g1"`, `"g3"`, 1), 400, "invalid_request", []string{"customer"}},
		{"every field wrong", consentPath, e.acmeKey, "application/json",
			`{"action":"subscribe","topic":"nope","source":"fax","language":"!!","consented_at":"yesterday"}`, 400, "invalid_request",
			[]string{"action", "topic", "source", "consented_at", "language"}},
		{"opt-in without topic", consentPath, e.acmeKey, "application/json",
			`{"action":"opt_in","source":"web","wording":"x","consented_at":"2026-03-01T10:00:00Z"}`, 400, "invalid_request", []string{"topic"}},
		{"future evidence", consentPath, e.acmeKey, "application/json", strings.Replace(good, "2026-03-01", "2027-03-01", 1), 400, "invalid_request", []string{"consented_at"}},
		{"ids differ", consentPath, e.acmeKey, "application/json", good + "", 400, "invalid_request", []string{"id"}},
		{"SMS-only wording", consentPath, e.acmeKey, "application/json",
			`{"action":"opt_in","topic":"order_updates","source":"sms","wording":"Text me updates about your orders from Acme Outfitters","consented_at":"2026-03-01T10:00:00Z"}`,
			422, "consent_refused", []string{"wording"}},
		{"body too large", consentPath, e.acmeKey, "application/json", `{"wording":"` + strings.Repeat("x", 2000) + `"}`, 413, "too_large", nil},
		{"import not CSV", importPath, e.acmeKey, "application/json", `{}`, 415, "unsupported_media_type", nil},
		{"import too large", importPath, e.acmeKey, "text/csv", csvHeader + strings.Repeat("x", 5000), 413, "too_large", nil},
		{"import bad header", importPath, e.acmeKey, "text/csv", "phone,consent\n+14155550100,yes\n", 400, "invalid_csv", []string{"header"}},
		{"import bad quoting", importPath, e.acmeKey, "text/csv", csvHeader + "+14155550100,opt_out,,web,\"x\"y,2026-03-01T10:00:00Z\n", 400, "invalid_csv", []string{"line 2"}},
		{"import for another business", "/v1/businesses/globex/consent/import", e.acmeKey, "text/csv", csvHeader, 403, "forbidden", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res response
			if tc.name == "ids differ" {
				req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Authorization", "Bearer "+tc.key)
				req.Header.Set("Idempotency-Key", "other")
				hr, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(hr.Body)
				hr.Body.Close()
				res = response{hr.StatusCode, hr.Header, data}
			} else {
				res = e.doCT("POST", tc.path, tc.key, tc.ct, tc.body)
			}
			if res.status != tc.status {
				t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
			}
			p := res.problem(t)
			if p.Code != tc.code {
				t.Errorf("code %s, want %s: %s", p.Code, tc.code, res.body)
			}
			var fields []string
			for _, f := range p.Fields {
				fields = append(fields, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			if fmt.Sprint(fields) != fmt.Sprint(tc.fields) && tc.fields != nil {
				t.Errorf("fields %v, want %v: %s", fields, tc.fields, res.body)
			}
		})
	}
	// More than MaxRows rows, under a body limit that lets them through.
	big := newEnv(t, businessapi.Config{})
	res := big.doCT("POST", importPath, big.acmeKey, "text/csv", manyRows)
	if res.status != http.StatusRequestEntityTooLarge || res.problem(t).Code != "too_many_rows" {
		t.Errorf("%d rows: %d %s, want 413 too_many_rows", consentimport.MaxRows+1, res.status, res.body)
	}
	if s := big.currentStatus(big.acmeKey, "acme", alice); s != "" {
		t.Errorf("a rejected file recorded something: %q", s)
	}
}

func TestConsentRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{RequestsPerSecond: 0.001, Burst: 2})
	for i := range 3 {
		res := e.record(e.acmeKey, alice, optIn(fmt.Sprintf("rl%d", i), t0.Add(-time.Hour), whatsappWording))
		want := http.StatusCreated
		if i == 0 {
			want = http.StatusCreated
		}
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if res.status != want {
			t.Fatalf("request %d: status %d, want %d: %s", i, res.status, want, res.body)
		}
		if i == 2 && (res.header.Get("Retry-After") == "" || res.problem(t).Code != "rate_limited") {
			t.Errorf("429 without Retry-After or rate_limited: %v %s", res.header, res.body)
		}
	}
	// The import counts against the same key's budget.
	if res := e.doCT("POST", "/v1/businesses/acme/consent/import", e.acmeKey, "text/csv", "customer,action,source,consented_at\n"); res.status != http.StatusTooManyRequests {
		t.Errorf("import over budget: %d, want 429", res.status)
	}
}

func TestConsentIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, businessapi.Config{})
	// acme records an opt-in for alice.
	if res := e.record(e.acmeKey, alice, optIn("iso-1", t0.Add(-time.Hour), whatsappWording)); res.status != http.StatusCreated {
		t.Fatalf("acme: %d %s", res.status, res.body)
	}
	// acme's key cannot record for globex's customers, nor import there.
	body := `{"action":"opt_out","source":"web","consented_at":"2026-03-01T10:00:00Z"}`
	if res := e.doCT("POST", "/v1/businesses/globex/customers/+14155550100/consent", e.acmeKey, "application/json", body); res.status != http.StatusForbidden {
		t.Errorf("acme's key for globex: %d, want 403", res.status)
	}
	if res := e.doCT("POST", "/v1/businesses/globex/consent/import", e.acmeKey, "text/csv", "customer,action,source,consented_at\n+14155550100,opt_out,web,2026-03-01T10:00:00Z\n"); res.status != http.StatusForbidden {
		t.Errorf("acme's key imports for globex: %d, want 403", res.status)
	}
	// globex sees nothing of acme's record, and its own id space is its own:
	// the same evidence id records for globex too.
	if s := e.currentStatus(e.globexKy, "globex", alice); s != "" {
		t.Errorf("globex sees alice as %q after acme's record", s)
	}
	data, _ := json.Marshal(optIn("iso-1", t0.Add(-time.Hour), whatsappWording))
	if res := e.doCT("POST", "/v1/businesses/globex/customers/+14155550100/consent", e.globexKy, "application/json", string(data)); res.status != http.StatusCreated {
		t.Errorf("globex with the same id: %d %s, want 201", res.status, res.body)
	}
	if res := e.doCT("POST", "/v1/businesses/globex/customers/+14155550100/consent", e.globexKy, "application/json", body); res.status != http.StatusCreated {
		t.Errorf("globex's opt-out: %d %s", res.status, res.body)
	}
	if s := e.currentStatus(e.acmeKey, "acme", alice); s != bot.OptedIn {
		t.Errorf("globex's opt-out changed acme's consent: %q", s)
	}
}
