package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/memstore"
)

const apiToken = "test-token-0123456789abcdef"

// apiHarness is the business API over a real Service on an in-memory
// store, with the appointments flow.
type apiHarness struct {
	t   *testing.T
	svc *bot.Service
	srv *httptest.Server
	now time.Time
	n   int
}

func newAPIHarness(t *testing.T) *apiHarness {
	t.Helper()
	path := filepath.Join("..", "..", "flows", "examples", "appointments.yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flow, err := flows.Load(path, src)
	if err != nil {
		t.Fatal(err)
	}
	h := &apiHarness{t: t, now: time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)}
	h.svc, err = bot.NewService(context.Background(), bot.ServiceConfig{Store: memstore.New(), Clock: func() time.Time { return h.now },
		Logger: zerolog.Nop()}, []bot.BusinessConfig{{ID: "clinic", Flow: flow, Source: src, Senders: []string{"1065"}}})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(newAPIHandler(h.svc, apiToken, zerolog.Nop()))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *apiHarness) say(text string) []bot.Effect {
	h.t.Helper()
	h.n++
	effects, err := h.svc.HandleInbound(context.Background(), bot.Inbound{ID: "w" + string(rune('a'+h.n)), Sender: "1065",
		Customer: "+14155550100", Timestamp: h.now, Text: text})
	if err != nil {
		h.t.Fatal(err)
	}
	return effects
}

type apiAnswer struct {
	status int
	body   map[string]any
}

func (h *apiHarness) post(path, token, body string, header ...string) apiAnswer {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode}
	if err := json.Unmarshal(data, &a.body); err != nil {
		h.t.Fatalf("%s %s: answer is not a JSON object: %q", path, body, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("content type %q", ct)
	}
	return a
}

const releasePath = "/v1/handoffs/+14155550100/release"

func TestAPIReleasesAHandoff(t *testing.T) {
	h := newAPIHarness(t)
	h.say("hi")
	h.say("person")
	a := h.post(releasePath, apiToken, `{"id":"rel-1","agent":"sam"}`)
	if a.status != http.StatusOK || a.body["released"] != true || a.body["resume"] != "welcome" || a.body["queue"] != "front-desk" || a.body["id"] != "rel-1" {
		t.Fatalf("release: %d %v", a.status, a.body)
	}
	// The same release again: idempotent.
	if a := h.post(releasePath, apiToken, `{"id":"rel-1"}`); a.status != http.StatusOK || a.body["released"] != true || a.body["repeated"] != true {
		t.Errorf("repeated release: %d %v", a.status, a.body)
	}
	// Nothing to hand back.
	if a := h.post(releasePath, apiToken, `{"id":"rel-2"}`); a.status != http.StatusConflict || !strings.Contains(a.body["error"].(string), "no handoff") {
		t.Errorf("release without a handoff: %d %v", a.status, a.body)
	}
	// The bot listens again: the name question is answered.
	if r := h.say("Maria"); len(r) == 0 || r[0].Message == nil || !strings.HasPrefix(r[0].Message.Text, "Hi Maria!") {
		t.Errorf("after the release the bot did not answer: %+v", r)
	}
}

func TestAPIReleaseOptions(t *testing.T) {
	h := newAPIHarness(t)
	h.say("hi")
	h.say("Maria")
	h.say("person")
	// No body at all, the id from Idempotency-Key, the business implied
	// (the only one), a %2B-escaped customer.
	a := h.post("/v1/handoffs/%2B14155550100/release", apiToken, "", "Idempotency-Key", "key-9")
	if a.status != http.StatusOK || a.body["resume"] != "ask_reminders" || a.body["id"] != "key-9" {
		t.Fatalf("release: %d %v", a.status, a.body)
	}
	// No id: one is made up; a state to resume in.
	h.say("person")
	a = h.post(releasePath, apiToken, `{"business":"clinic","state":"done"}`)
	if id, _ := a.body["id"].(string); a.status != http.StatusOK || a.body["resume"] != "done" || !strings.HasPrefix(id, "api-") {
		t.Errorf("release without an id: %d %v", a.status, a.body)
	}
}

func TestAPIRefusals(t *testing.T) {
	h := newAPIHarness(t)
	h.say("hi")
	h.say("person")
	for _, tc := range []struct {
		name, path, token, body string
		header                  []string
		status                  int
		says                    string
	}{
		{"no token", releasePath, "", `{}`, nil, http.StatusUnauthorized, "token"},
		{"wrong token", releasePath, "nope", `{}`, nil, http.StatusUnauthorized, "token"},
		{"bad customer", "/v1/handoffs/12345/release", apiToken, `{}`, nil, http.StatusBadRequest, "customer"},
		{"unknown business", releasePath, apiToken, `{"business":"acme"}`, nil, http.StatusBadRequest, "business"},
		{"unknown state", releasePath, apiToken, `{"state":"nowhere"}`, nil, http.StatusBadRequest, "nowhere"},
		{"not JSON", releasePath, apiToken, `state=done`, nil, http.StatusBadRequest, "JSON"},
		{"unknown field", releasePath, apiToken, `{"stat":"done"}`, nil, http.StatusBadRequest, "stat"},
		{"two ids", releasePath, apiToken, `{"id":"a"}`, []string{"Idempotency-Key", "b"}, http.StatusBadRequest, "Idempotency-Key"},
		{"unknown path", "/v1/handoffs/+14155550100", apiToken, `{}`, nil, http.StatusNotFound, "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := h.post(tc.path, tc.token, tc.body, tc.header...)
			msg, _ := a.body["error"].(string)
			if a.status != tc.status || !strings.Contains(msg, tc.says) {
				t.Errorf("%d %v, want %d saying %q", a.status, a.body, tc.status, tc.says)
			}
		})
	}
	// None of them ended the handoff.
	if a := h.post(releasePath, apiToken, `{}`); a.status != http.StatusOK {
		t.Errorf("release after the refusals: %d %v", a.status, a.body)
	}
	// GET is not allowed.
	resp, err := http.Get(h.srv.URL + releasePath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", resp.StatusCode)
	}
}

func TestAPIConfig(t *testing.T) {
	base := func() *Config {
		c := &Config{Store: StoreConfig{DSN: "postgres://x"}, Business: []BusinessConfig{{ID: "acme", Flow: "f.yaml", Senders: []string{"1"}}}}
		c.applyDefaults()
		return c
	}
	c := base()
	c.API.Listen = "127.0.0.1:8081"
	errs := c.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "api.token") {
		t.Errorf("listen without token: %v", errs)
	}
	c.API.Token = "short"
	if errs := c.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "at least 16") {
		t.Errorf("short token: %v", errs)
	}
	c.API.Token = apiToken
	if errs := c.Validate(); len(errs) != 0 {
		t.Errorf("good API config: %v", errs)
	}
	c = base()
	c.API.Token = apiToken
	if errs := c.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Error(), "api.listen") {
		t.Errorf("token without listen: %v", errs)
	}
}
