package dialog360

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/meta"
	"github.com/optinbot/optinbot/bot"
)

// call is one request the fake API expects, and its answer.
type call struct {
	key     string // the D360-API-KEY header
	body    string // the exact JSON body
	status  int
	respHdr map[string]string
	resp    string
}

// fakeAPI serves the expected calls in order, all POST /messages, and
// fails the test on any other request and on any expected call not made.
func fakeAPI(t *testing.T, calls ...call) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		if next >= len(calls) {
			t.Errorf("unexpected request %s %s %s", r.Method, r.URL, body)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		c := calls[next]
		next++
		if r.Method != http.MethodPost || r.URL.Path != "/messages" || r.URL.RawQuery != "" {
			t.Errorf("request %s %s, want POST /messages", r.Method, r.URL)
		}
		if got := r.Header.Get("D360-API-KEY"); got != c.key {
			t.Errorf("D360-API-KEY %q, want %q", got, c.key)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q", got)
		}
		if got := r.Header.Get("Authorization"); got != "" {
			t.Errorf("an Authorization header is sent: %q", got)
		}
		if string(body) != c.body {
			t.Errorf("body\n got %s\nwant %s", body, c.body)
		}
		for k, v := range c.respHdr {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(c.status)
		_, _ = io.WriteString(w, c.resp)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if next != len(calls) {
			t.Errorf("%d expected requests not made", len(calls)-next)
		}
	})
	return srv
}

func sendAdapter(t *testing.T, srv *httptest.Server, cfg Config) *Adapter {
	t.Helper()
	cfg.BaseURL = srv.URL
	cfg.HTTPClient = srv.Client()
	cfg.Now = func() time.Time { return time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC) }
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

const (
	sender     = "114477552288993"
	okResponse = `{"messaging_product":"whatsapp","contacts":[{"input":"4915112345678","wa_id":"4915112345678"}],"messages":[{"id":"wamid.HBgN360sent01"}]}`
)

func TestSend(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		m    envelope.OutboundMessage
		key  string
		body string
	}{
		{
			name: "text",
			cfg:  Config{APIKey: "key-default"},
			m: envelope.OutboundMessage{ID: "shop/wamid.HBgN360text01/1", Business: "shop", Sender: sender, To: "+4915112345678",
				Kind: bot.KindText, Text: "Danke! Wir melden uns."},
			key:  "key-default",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"text","text":{"body":"Danke! Wir melden uns.","preview_url":false},"biz_opaque_callback_data":"shop/wamid.HBgN360text01/1"}`,
		},
		{
			name: "buttons, per-sender key",
			cfg:  Config{APIKey: "key-default", APIKeys: map[string]string{sender: "key-for-114477552288993"}},
			m: envelope.OutboundMessage{ID: "shop/wamid.HBgN360text01/2", Business: "shop", Sender: sender, To: "+4915112345678",
				Kind: bot.KindText, Text: "Möchten Sie Updates per WhatsApp?",
				Buttons: []envelope.Button{{ID: "optin_yes", Title: "Ja, gerne"}, {ID: "optin_no", Title: "Nein"}}},
			key:  "key-for-114477552288993",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"interactive","interactive":{"type":"button","body":{"text":"Möchten Sie Updates per WhatsApp?"},"action":{"buttons":[{"type":"reply","reply":{"id":"optin_yes","title":"Ja, gerne"}},{"type":"reply","reply":{"id":"optin_no","title":"Nein"}}]}},"biz_opaque_callback_data":"shop/wamid.HBgN360text01/2"}`,
		},
		{
			name: "template, positional params, renamed",
			cfg: Config{APIKey: "key-default", Templates: map[meta.TemplateKey]meta.TemplateRef{
				{Name: "order_shipped", Language: "de"}: {Name: "versand_bestaetigung", Language: "de"}}},
			m: envelope.OutboundMessage{ID: "shop/send:r1/0", Business: "shop", Sender: sender, To: "+4915112345678",
				Kind: bot.KindTemplate, Template: "order_shipped", Language: "de", Params: map[string]string{"1": "Lena", "2": "DE-771"}},
			key:  "key-default",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"template","template":{"name":"versand_bestaetigung","language":{"code":"de"},"components":[{"type":"body","parameters":[{"type":"text","text":"Lena"},{"type":"text","text":"DE-771"}]}]},"biz_opaque_callback_data":"shop/send:r1/0"}`,
		},
		{
			name: "template, named params",
			cfg:  Config{APIKey: "key-default"},
			m: envelope.OutboundMessage{ID: "shop/send:r2/0", Business: "shop", Sender: sender, To: "+4915112345678",
				Kind: bot.KindTemplate, Template: "winter_sale", Language: "de", Params: map[string]string{"rabatt": "20%", "name": "Lena"}},
			key:  "key-default",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"template","template":{"name":"winter_sale","language":{"code":"de"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"name","text":"Lena"},{"type":"text","parameter_name":"rabatt","text":"20%"}]}]},"biz_opaque_callback_data":"shop/send:r2/0"}`,
		},
		{
			name: "user id recipient",
			cfg:  Config{APIKey: "key-default"},
			m: envelope.OutboundMessage{ID: "shop/wamid.HBgN360x/1", Business: "shop", Sender: sender, To: "DE.4711",
				Kind: bot.KindText, Text: "Hallo"},
			key:  "key-default",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"DE.4711","type":"text","text":{"body":"Hallo","preview_url":false},"biz_opaque_callback_data":"shop/wamid.HBgN360x/1"}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); err != nil {
				t.Fatalf("test message does not validate: %v", err)
			}
			srv := fakeAPI(t, call{key: tt.key, body: tt.body, status: 200, resp: okResponse})
			id, err := sendAdapter(t, srv, tt.cfg).Send(context.Background(), tt.m)
			if err != nil || id != "wamid.HBgN360sent01" {
				t.Fatalf("Send = %q, %v", id, err)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	m := envelope.OutboundMessage{ID: "shop/x/1", Business: "shop", Sender: sender, To: "+4915112345678", Kind: bot.KindText, Text: "hi"}
	body := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"4915112345678","type":"text","text":{"body":"hi","preview_url":false},"biz_opaque_callback_data":"shop/x/1"}`
	for _, tt := range []struct {
		name       string
		status     int
		respHdr    map[string]string
		resp       string
		code       string
		retryable  bool
		retryAfter time.Duration
		signal     string
		msg        string
	}{
		{"Graph error passed through: window closed", 400, nil,
			`{"error":{"message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed since the customer last replied."},"fbtrace_id":"Ax1"}}`,
			"131047", false, 0, envelope.SignalWindowClosed, "Re-engagement message: More than 24 hours"},
		{"Graph error passed through: stop marketing", 400, nil,
			`{"error":{"message":"(#131050) User has stopped marketing messages","code":131050}}`,
			"131050", false, 0, envelope.SignalStopMarketing, "stopped marketing"},
		{"throttled", 429, map[string]string{"Retry-After": "7"},
			`{"error":{"message":"(#130429) Rate limit hit","code":130429}}`,
			"130429", true, 7 * time.Second, "", "Rate limit"},
		{"360dialog's own error: bad key", 401, nil,
			`{"meta":{"success":false,"http_code":401,"developer_message":"Invalid api key"}}`,
			"http_401", false, 0, "", "Invalid api key"},
		{"on-premise error shape", 400, nil,
			`{"meta":{"api_status":"stable","version":"2.51.1"},"errors":[{"code":1006,"title":"Resource not found","details":"unknown contact"}]}`,
			"1006", false, 0, "", "Resource not found: unknown contact"},
		{"gateway down", 503, nil, `Service Unavailable`, "http_503", true, 0, "", "Service Unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeAPI(t, call{key: "k", body: body, status: tt.status, respHdr: tt.respHdr, resp: tt.resp})
			_, err := sendAdapter(t, srv, Config{APIKey: "k"}).Send(context.Background(), m)
			var se *envelope.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is no *envelope.SendError", err)
			}
			if se.Provider != Name || se.Code != tt.code || se.Retryable != tt.retryable || se.RetryAfter != tt.retryAfter ||
				se.Signal != tt.signal || se.HTTPStatus != tt.status || !strings.Contains(se.Message, tt.msg) {
				t.Errorf("got %+v", se)
			}
		})
	}
}

func TestSendWithoutKey(t *testing.T) {
	srv := fakeAPI(t)
	a := sendAdapter(t, srv, Config{APIKeys: map[string]string{"999": "k"}})
	_, err := a.Send(context.Background(), envelope.OutboundMessage{ID: "shop/x/1", Business: "shop", Sender: sender,
		To: "+4915112345678", Kind: bot.KindText, Text: "hi"})
	var se *envelope.SendError
	if !errors.As(err, &se) || se.Code != meta.CodeNotConfigured || se.Retryable || se.Provider != Name {
		t.Fatalf("Send without a key = %v", err)
	}
}

func TestSendInvalidMessage(t *testing.T) {
	srv := fakeAPI(t)
	a := sendAdapter(t, srv, Config{APIKey: "k"})
	_, err := a.Send(context.Background(), envelope.OutboundMessage{ID: "shop/x/1", Business: "shop", Sender: sender,
		To: "+4915112345678", Kind: bot.KindTemplate, Template: "t"})
	var se *envelope.SendError
	if !errors.As(err, &se) || se.Code != meta.CodeInvalidMessage || se.Retryable || se.Provider != Name {
		t.Fatalf("Send of a template without language = %v", err)
	}
}
