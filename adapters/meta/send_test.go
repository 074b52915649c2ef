package meta

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

// call is one request the fake API expects, and its answer.
type call struct {
	path    string            // the exact path; the method is always POST
	headers map[string]string // headers that must be set exactly
	body    string            // the exact JSON body
	status  int               // the answer
	respHdr map[string]string
	resp    string
}

// fakeAPI serves the expected calls in order and fails the test on any
// other request, and on any expected call not made by the end of the test.
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
		if r.Method != http.MethodPost || r.URL.Path != c.path || r.URL.RawQuery != "" {
			t.Errorf("request %s %s, want POST %s", r.Method, r.URL, c.path)
		}
		for k, v := range c.headers {
			if got := r.Header.Get(k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
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

var testNow = time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)

func sendAdapter(t *testing.T, srv *httptest.Server, cfg Config) *Adapter {
	t.Helper()
	if cfg.AccessToken == "" {
		cfg.AccessToken = "EAAtest-token"
	}
	cfg.BaseURL = srv.URL
	cfg.HTTPClient = srv.Client()
	cfg.Now = func() time.Time { return testNow }
	return newAdapter(t, cfg)
}

const (
	testSender = "106540352242922"
	msgsPath   = "/v21.0/" + testSender + "/messages"
	okResponse = `{"messaging_product":"whatsapp","contacts":[{"input":"14155550100","wa_id":"14155550100"}],"messages":[{"id":"wamid.HBgLsent01"}]}`
)

var sendHeaders = map[string]string{"Authorization": "Bearer EAAtest-token", "Content-Type": "application/json"}

func TestSend(t *testing.T) {
	templates := map[TemplateKey]TemplateRef{
		{Name: "order_shipped", Language: "en"}: {Name: "order_shipped_v2", Language: "en_US"},
		{Name: "welcome"}:                       {Name: "welcome_2026"},
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		m    envelope.OutboundMessage
		path string
		body string
	}{
		{
			name: "text",
			m: envelope.OutboundMessage{ID: "acme/wamid.HBgL1/1", Business: "acme", Sender: testSender, To: "+14155550100",
				Kind: bot.KindText, Text: "Hi Ana! Track it here: https://acme.example/t?a=1&b=<2>"},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"text","text":{"body":"Hi Ana! Track it here: https://acme.example/t?a=1&b=<2>","preview_url":false},"biz_opaque_callback_data":"acme/wamid.HBgL1/1"}`,
		},
		{
			name: "buttons",
			m: envelope.OutboundMessage{ID: "acme/wamid.HBgL1/2", Business: "acme", Sender: testSender, To: "+14155550100",
				Kind: bot.KindText, Text: "Would you like order updates on WhatsApp from Acme? Reply STOP any time.",
				Buttons: []envelope.Button{{ID: "optin_yes", Title: "Yes please"}, {ID: "optin_no", Title: "No thanks"}, {ID: "help", Title: "Tell me more ✨"}}},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"interactive","interactive":{"type":"button","body":{"text":"Would you like order updates on WhatsApp from Acme? Reply STOP any time."},"action":{"buttons":[{"type":"reply","reply":{"id":"optin_yes","title":"Yes please"}},{"type":"reply","reply":{"id":"optin_no","title":"No thanks"}},{"type":"reply","reply":{"id":"help","title":"Tell me more ✨"}}]}},"biz_opaque_callback_data":"acme/wamid.HBgL1/2"}`,
		},
		{
			name: "list",
			m: envelope.OutboundMessage{ID: "acme/wamid.HBgL1/3", Business: "acme", Sender: testSender, To: "+14155550100",
				Kind: bot.KindText, Text: "Which updates would you like from Acme on WhatsApp? Reply STOP any time.",
				List: &envelope.List{Button: "Choose", Rows: []envelope.ListRow{
					{ID: "orders", Title: "Order updates", Description: "Confirmation, shipping, delivery"},
					{ID: "none", Title: "None, thanks"}}}},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"interactive","interactive":{"type":"list","body":{"text":"Which updates would you like from Acme on WhatsApp? Reply STOP any time."},"action":{"button":"Choose","sections":[{"rows":[{"id":"orders","title":"Order updates","description":"Confirmation, shipping, delivery"},{"id":"none","title":"None, thanks"}]}]}},"biz_opaque_callback_data":"acme/wamid.HBgL1/3"}`,
		},
		{
			name: "template with positional params, renamed",
			m: envelope.OutboundMessage{ID: "acme/send:req-8f14e45f/0", Business: "acme", Sender: testSender, To: "+14155550100",
				RequestID: "req-8f14e45f", Kind: bot.KindTemplate, Template: "order_shipped", Language: "en", Topic: "order_updates",
				Category: "utility", Params: map[string]string{"2": "ZX-2291", "1": "Ana"}},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"template","template":{"name":"order_shipped_v2","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"Ana"},{"type":"text","text":"ZX-2291"}]}]},"biz_opaque_callback_data":"acme/send:req-8f14e45f/0"}`,
		},
		{
			name: "template with named params",
			m: envelope.OutboundMessage{ID: "acme/send:req-9/0", Business: "acme", Sender: testSender, To: "+447700900123",
				Kind: bot.KindTemplate, Template: "spring_sale", Language: "en_GB",
				Params: map[string]string{"order_id": "ZX-2291", "first_name": "Ben"}},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"447700900123","type":"template","template":{"name":"spring_sale","language":{"code":"en_GB"},"components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ben"},{"type":"text","parameter_name":"order_id","text":"ZX-2291"}]}]},"biz_opaque_callback_data":"acme/send:req-9/0"}`,
		},
		{
			name: "authentication template: the code in the body and the copy-code button",
			m: envelope.OutboundMessage{ID: "wonka/send:verification-ver_1/0", Business: "wonka", Sender: testSender, To: "+14155550100",
				RequestID: "verification-ver_1", Kind: bot.KindTemplate, Template: "verification_code", Language: "en_US", Topic: "signin_codes",
				Category: "authentication", Params: map[string]string{"1": "271828"}},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"template","template":{"name":"verification_code","language":{"code":"en_US"},"components":[{"type":"body","parameters":[{"type":"text","text":"271828"}]},{"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"271828"}]}]},"biz_opaque_callback_data":"wonka/send:verification-ver_1/0"}`,
		},
		{
			name: "template without params, any-language mapping",
			m: envelope.OutboundMessage{ID: "acme/send:req-10/0", Business: "acme", Sender: testSender, To: "+5511987654321",
				Kind: bot.KindTemplate, Template: "welcome", Language: "pt_BR"},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"5511987654321","type":"template","template":{"name":"welcome_2026","language":{"code":"pt_BR"}},"biz_opaque_callback_data":"acme/send:req-10/0"}`,
		},
		{
			name: "user id recipient",
			m: envelope.OutboundMessage{ID: "acme/wamid.HBgL7/1", Business: "acme", Sender: testSender, To: "US.13491208655302741918",
				Kind: bot.KindText, Text: "Thanks!"},
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","recipient":"US.13491208655302741918","type":"text","text":{"body":"Thanks!","preview_url":false},"biz_opaque_callback_data":"acme/wamid.HBgL7/1"}`,
		},
		{
			name: "default sender and API version",
			cfg:  Config{DefaultSender: "208811223344556", APIVersion: "v23.0"},
			m: envelope.OutboundMessage{ID: "acme/wamid.HBgL8/1", Business: "acme", To: "+14155550100",
				Kind: bot.KindText, Text: "ok"},
			path: "/v23.0/208811223344556/messages",
			body: `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"text","text":{"body":"ok","preview_url":false},"biz_opaque_callback_data":"acme/wamid.HBgL8/1"}`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); err != nil {
				t.Fatalf("test message does not validate: %v", err)
			}
			path := tt.path
			if path == "" {
				path = msgsPath
			}
			srv := fakeAPI(t, call{path: path, headers: sendHeaders, body: tt.body, status: 200, resp: okResponse})
			cfg := tt.cfg
			cfg.Templates = templates
			a := sendAdapter(t, srv, cfg)
			id, err := a.Send(context.Background(), tt.m)
			if err != nil || id != "wamid.HBgLsent01" {
				t.Fatalf("Send = %q, %v", id, err)
			}
		})
	}
}

// wantErr is the SendError a response must become.
type wantErr struct {
	code       string
	retryable  bool
	retryAfter time.Duration
	signal     string
	msg        string // a substring of Message
}

func checkSendError(t *testing.T, err error, status int, want wantErr) {
	t.Helper()
	var se *envelope.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is no *envelope.SendError", err, err)
	}
	if se.Provider != Name || se.Code != want.code || se.Retryable != want.retryable || se.RetryAfter != want.retryAfter ||
		se.Signal != want.signal || se.HTTPStatus != status {
		t.Errorf("got %+v\nwant code %s retryable %v after %v signal %q status %d", se, want.code, want.retryable, want.retryAfter, want.signal, status)
	}
	if !strings.Contains(se.Message, want.msg) {
		t.Errorf("message %q does not contain %q", se.Message, want.msg)
	}
}

func graphError(code int, message string, extra string) string {
	return `{"error":{"message":"` + message + `","type":"OAuthException","code":` + strconv.Itoa(code) + extra + `,"fbtrace_id":"AbCdEf123"}}`
}

func TestSendErrors(t *testing.T) {
	m := envelope.OutboundMessage{ID: "acme/wamid.HBgL1/1", Business: "acme", Sender: testSender, To: "+14155550100",
		Kind: bot.KindText, Text: "hello"}
	body := `{"messaging_product":"whatsapp","recipient_type":"individual","to":"14155550100","type":"text","text":{"body":"hello","preview_url":false},"biz_opaque_callback_data":"acme/wamid.HBgL1/1"}`
	details := `,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}`
	for _, tt := range []struct {
		name    string
		status  int
		respHdr map[string]string
		resp    string
		want    wantErr
	}{
		{"131047 window closed", 400, nil, graphError(131047, "(#131047) Re-engagement message", details),
			wantErr{code: "131047", signal: envelope.SignalWindowClosed, msg: "Re-engagement message: Message failed to send because more than 24 hours"}},
		{"131026 undeliverable", 400, nil, graphError(131026, "(#131026) Message Undeliverable.", ""),
			wantErr{code: "131026", signal: envelope.SignalUndeliverable, msg: "Undeliverable"}},
		{"131049 deferred, even with Retry-After", 400, map[string]string{"Retry-After": "60"}, graphError(131049, "(#131049) This message was not delivered to maintain healthy ecosystem engagement.", ""),
			wantErr{code: "131049", signal: envelope.SignalDeferred, msg: "ecosystem"}},
		{"131050 stop marketing", 400, nil, graphError(131050, "(#131050) User has stopped marketing messages", ""),
			wantErr{code: "131050", signal: envelope.SignalStopMarketing, msg: "stopped marketing"}},
		{"131056 pair rate limit", 403, map[string]string{"Retry-After": "30"}, `{ "error": {"message": "(#131056) (Business Account, Consumer Account) pair rate limit hit","code": 131056 }}`,
			wantErr{code: "131056", retryable: true, retryAfter: 30 * time.Second, msg: "pair rate limit"}},
		{"4 app rate limit", 400, nil, graphError(4, "(#4) Application request limit reached", ""),
			wantErr{code: "4", retryable: true, msg: "request limit"}},
		{"80007 WABA rate limit, Retry-After date", 400, map[string]string{"Retry-After": "Thu, 01 Jan 2026 09:31:30 GMT"}, graphError(80007, "(#80007) There have been too many calls to this WhatsApp Business account.", ""),
			wantErr{code: "80007", retryable: true, retryAfter: 90 * time.Second, msg: "too many calls"}},
		{"130429 throughput", 400, map[string]string{"Retry-After": "Thu, 01 Jan 2026 09:00:00 GMT"}, graphError(130429, "(#130429) Rate limit hit", ""),
			wantErr{code: "130429", retryable: true, msg: "Rate limit"}},
		{"131048 spam rate limit", 400, nil, graphError(131048, "(#131048) Spam rate limit hit", ""),
			wantErr{code: "131048", retryable: true, msg: "Spam"}},
		{"is_transient", 400, nil, graphError(2, "An unexpected error has occurred. Please retry your request later.", `,"is_transient":true`),
			wantErr{code: "2", retryable: true, msg: "retry"}},
		{"500 with a Graph error", 500, nil, graphError(131000, "(#131000) Something went wrong", ""),
			wantErr{code: "131000", retryable: true, msg: "Something went wrong"}},
		{"502 without JSON", 502, map[string]string{"Retry-After": "5"}, "<html>bad gateway</html>",
			wantErr{code: "http_502", retryable: true, retryAfter: 5 * time.Second, msg: "Bad Gateway"}},
		{"429 without body", 429, nil, "",
			wantErr{code: "http_429", retryable: true, msg: "Too Many Requests"}},
		{"100 invalid parameter, subcode", 400, nil, graphError(100, "(#100) Invalid parameter", `,"error_subcode":2494010,"error_data":{"details":"Parameter value is not valid"}`),
			wantErr{code: "100", msg: "Invalid parameter: Parameter value is not valid: subcode 2494010"}},
		{"190 expired token", 401, nil, graphError(190, "Error validating access token: Session has expired", ""),
			wantErr{code: "190", msg: "expired"}},
		{"368 policy block", 400, nil, `{"error":{"message":"(#368) Temporarily blocked for policies violations","code":368}}`,
			wantErr{code: "368", msg: "blocked"}},
		{"132001 template missing", 404, nil, graphError(132001, "(#132001) Template name does not exist in the translation", ""),
			wantErr{code: "132001", msg: "Template name"}},
		{"success without id", 200, nil, `{"messaging_product":"whatsapp","messages":[]}`,
			wantErr{code: CodeBadResponse, msg: "without a message id"}},
		{"success not JSON", 200, nil, `ok`,
			wantErr{code: CodeBadResponse, msg: "without a message id"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeAPI(t, call{path: msgsPath, headers: sendHeaders, body: body, status: tt.status, respHdr: tt.respHdr, resp: tt.resp})
			id, err := sendAdapter(t, srv, Config{}).Send(context.Background(), m)
			if id != "" {
				t.Errorf("id %q on an error", id)
			}
			checkSendError(t, err, tt.status, tt.want)
		})
	}
}

// Messages that cannot be sent fail before any request, permanently.
func TestSendInvalid(t *testing.T) {
	base := envelope.OutboundMessage{ID: "acme/x/1", Business: "acme", Sender: testSender, To: "+14155550100", Kind: bot.KindText, Text: "hi"}
	with := func(f func(*envelope.OutboundMessage)) envelope.OutboundMessage {
		m := base
		f(&m)
		return m
	}
	tmpl := func(params map[string]string) func(*envelope.OutboundMessage) {
		return func(m *envelope.OutboundMessage) {
			m.Kind, m.Text, m.Template, m.Language, m.Params = bot.KindTemplate, "", "order_shipped", "en", params
		}
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		m    envelope.OutboundMessage
		code string
		msg  string
	}{
		{"four buttons", Config{}, with(func(m *envelope.OutboundMessage) {
			m.Buttons = []envelope.Button{{ID: "a", Title: "A"}, {ID: "b", Title: "B"}, {ID: "c", Title: "C"}, {ID: "d", Title: "D"}}
		}), CodeInvalidMessage, "at most 3"},
		{"long button title", Config{}, with(func(m *envelope.OutboundMessage) {
			m.Buttons = []envelope.Button{{ID: "a", Title: "Twenty-one characters"}}
		}), CodeInvalidMessage, "21 characters"},
		{"repeated button id", Config{}, with(func(m *envelope.OutboundMessage) {
			m.Buttons = []envelope.Button{{ID: "a", Title: "A"}, {ID: "a", Title: "B"}}
		}), CodeInvalidMessage, "unique"},
		{"mixed params", Config{}, with(tmpl(map[string]string{"1": "Ana", "order": "x"})), CodeInvalidMessage, "mix"},
		{"params with a gap", Config{}, with(tmpl(map[string]string{"1": "Ana", "3": "x"})), CodeInvalidMessage, "parameter 2 is missing"},
		{"param 0", Config{}, with(tmpl(map[string]string{"0": "Ana"})), CodeInvalidMessage, "positional keys are 1, 2, 3"},
		{"param 01", Config{}, with(tmpl(map[string]string{"01": "Ana"})), CodeInvalidMessage, "positional keys are 1, 2, 3"},
		{"authentication template without its code", Config{}, with(func(m *envelope.OutboundMessage) {
			tmpl(nil)(m)
			m.Category = "authentication"
		}), CodeInvalidMessage, "exactly one parameter"},
		{"authentication template with two params", Config{}, with(func(m *envelope.OutboundMessage) {
			tmpl(map[string]string{"1": "271828", "2": "10"})(m)
			m.Category = "authentication"
		}), CodeInvalidMessage, "exactly one parameter"},
		{"template without language", Config{}, with(func(m *envelope.OutboundMessage) {
			m.Kind, m.Text, m.Template = bot.KindTemplate, "", "order_shipped"
		}), CodeInvalidMessage, "no language"},
		{"sender not an id", Config{}, with(func(m *envelope.OutboundMessage) { m.Sender = "../../me" }), CodeInvalidMessage, "not a phone_number_id"},
		{"no sender", Config{}, with(func(m *envelope.OutboundMessage) { m.Sender = "" }), CodeNotConfigured, "no sender"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeAPI(t)
			_, err := sendAdapter(t, srv, tt.cfg).Send(context.Background(), tt.m)
			checkSendError(t, err, 0, wantErr{code: tt.code, msg: tt.msg})
		})
	}
	t.Run("no access token", func(t *testing.T) {
		a := newAdapter(t, Config{BaseURL: "http://127.0.0.1:1"})
		_, err := a.Send(context.Background(), base)
		checkSendError(t, err, 0, wantErr{code: CodeNotConfigured, msg: "access token"})
	})
}

func TestParametersOrder(t *testing.T) {
	vars := make(map[string]string)
	for i := 1; i <= 12; i++ {
		vars[strconv.Itoa(i)] = "v" + strconv.Itoa(i)
	}
	ps, err := parameters(vars)
	if err != nil || len(ps) != 12 {
		t.Fatalf("parameters: %d, %v", len(ps), err)
	}
	for i, p := range ps {
		if p.Text != "v"+strconv.Itoa(i+1) || p.ParameterName != "" || p.Type != "text" {
			t.Errorf("parameter %d = %+v", i+1, p)
		}
	}
}

func TestSendTransportErrors(t *testing.T) {
	m := envelope.OutboundMessage{ID: "acme/x/1", Business: "acme", Sender: testSender, To: "+14155550100", Kind: bot.KindText, Text: "hi"}
	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		a := sendAdapter(t, srv, Config{})
		srv.Close()
		_, err := a.Send(context.Background(), m)
		checkSendError(t, err, 0, wantErr{code: CodeTransport, retryable: true, msg: "Post"})
	})
	t.Run("cancelled context", func(t *testing.T) {
		srv := fakeAPI(t)
		a := sendAdapter(t, srv, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := a.Send(ctx, m)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Send with a cancelled context = %v, want context.Canceled", err)
		}
		var se *envelope.SendError
		if errors.As(err, &se) {
			t.Errorf("a cancelled send is a SendError: %v", se)
		}
	})
}

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		h    string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"12", 12 * time.Second},
		{"999999999999", 24 * time.Hour},
		{"Thu, 01 Jan 2026 09:30:10 GMT", 10 * time.Second},
		{"Thu, 01 Jan 2026 09:29:00 GMT", 0},
		{"soon", 0},
	} {
		if got := RetryAfter(tt.h, testNow); got != tt.want {
			t.Errorf("RetryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

// A list WhatsApp would refuse is refused here, before any API call.
func TestListLimits(t *testing.T) {
	rows := func(n int) []envelope.ListRow {
		out := make([]envelope.ListRow, n)
		for i := range out {
			out[i] = envelope.ListRow{ID: "r" + strconv.Itoa(i), Title: "Row"}
		}
		return out
	}
	for name, l := range map[string]*envelope.List{
		"11 rows":       {Button: "Choose", Rows: rows(11)},
		"no rows":       {Button: "Choose"},
		"no label":      {Rows: rows(2)},
		"long title":    {Button: "Choose", Rows: []envelope.ListRow{{ID: "a", Title: strings.Repeat("x", 25)}}},
		"repeated id":   {Button: "Choose", Rows: []envelope.ListRow{{ID: "a", Title: "A"}, {ID: "a", Title: "B"}}},
		"long describe": {Button: "Choose", Rows: []envelope.ListRow{{ID: "a", Title: "A", Description: strings.Repeat("x", 73)}}},
	} {
		m := envelope.OutboundMessage{ID: "acme/x/0", Business: "acme", Sender: testSender, To: "+14155550100",
			Kind: bot.KindText, Text: "Pick one", List: l}
		if _, err := MessageBody(Name, m, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
