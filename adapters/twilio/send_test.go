package twilio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/bot"
)

const (
	testAccount  = "ACa1cf578095ae75057426896c6bcd9b11"
	testToken    = "test-auth-token"
	testCallback = "https://bot.example.com/webhooks/twilio?business=acme"
	messagesPath = "/2010-04-01/Accounts/" + testAccount + "/Messages.json"
)

// reply is what the fake Twilio answers to one expected request.
type reply struct {
	form   url.Values // the exact form expected
	status int
	body   string
	header map[string]string
}

// fakeTwilio is an httptest.Server that expects exactly the given requests,
// in order, and fails the test on anything else.
func fakeTwilio(t *testing.T, replies ...reply) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if n >= len(replies) {
			t.Errorf("unexpected request %d: %s %s", n+1, r.Method, r.URL)
			http.Error(w, "unexpected", http.StatusTeapot)
			return
		}
		want := replies[n]
		n++
		if r.Method != http.MethodPost || r.URL.Path != messagesPath || r.URL.RawQuery != "" {
			t.Errorf("request %s %s, want POST %s", r.Method, r.URL, messagesPath)
		}
		if user, pass, ok := r.BasicAuth(); !ok || user != testAccount || pass != testToken {
			t.Errorf("basic auth %q:%q (%v), want the account SID and Auth Token", user, pass, ok)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
			t.Errorf("Content-Type %q", ct)
		}
		raw, _ := io.ReadAll(r.Body)
		got, err := url.ParseQuery(string(raw))
		if err != nil {
			t.Errorf("body is not a form: %v", err)
		}
		if !reflect.DeepEqual(got, want.form) {
			t.Errorf("form\n got %v\nwant %v", got, want.form)
		}
		for k, v := range want.header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(want.status)
		io.WriteString(w, want.body)
	}))
	t.Cleanup(func() {
		srv.Close()
		mu.Lock()
		defer mu.Unlock()
		if n != len(replies) {
			t.Errorf("%d requests, want %d", n, len(replies))
		}
	})
	return srv
}

func sendAdapter(t *testing.T, srv *httptest.Server, mod func(*Config)) *Adapter {
	t.Helper()
	cfg := Config{
		AccountSID: testAccount, AuthToken: testToken, BaseURL: srv.URL, HTTPClient: srv.Client(),
		StatusCallbackURL: testCallback,
		Templates: map[TemplateKey]string{
			{"order_shipped", "en"}:    "HXb5b62575e6e4ff6129ad7c8efe1f983e",
			{"order_shipped", "pt_BR"}: "HX0f2b6a1b3c4d5e6f708192a3b4c5d6e7",
			{"welcome", ""}:            "HX9a8b7c6d5e4f30211203f4e5d6c7b8a9",
		},
	}
	if mod != nil {
		mod(&cfg)
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func created(sid string) string {
	return `{"sid":"` + sid + `","status":"queued","error_code":null,"error_message":null,"num_media":"0"}`
}

func textMessage(text string, buttons ...envelope.Button) envelope.OutboundMessage {
	return envelope.OutboundMessage{ID: "acme/SM1/1", Business: "acme", Sender: "+14155550199", To: "+14155550123",
		InReplyTo: "SM1", Kind: bot.KindText, Text: text, Buttons: buttons}
}

func templateMessage(name, lang string, params map[string]string) envelope.OutboundMessage {
	return envelope.OutboundMessage{ID: "acme/send:r1/0", Business: "acme", Sender: "+14155550199", To: "+14155550123",
		RequestID: "r1", Kind: bot.KindTemplate, Template: name, Language: lang, Topic: "order_updates", Category: "utility",
		Params: params}
}

func TestSendText(t *testing.T) {
	srv := fakeTwilio(t, reply{
		form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
			"Body": {"Hello ☺ how can we help?"}, "StatusCallback": {testCallback}},
		status: http.StatusCreated, body: created("SM2f0c0b6f4ec4f3f1e5f6a7b8c9d0e1f2"),
	})
	id, err := sendAdapter(t, srv, nil).Send(context.Background(), textMessage("Hello ☺ how can we help?"))
	if err != nil || id != "SM2f0c0b6f4ec4f3f1e5f6a7b8c9d0e1f2" {
		t.Fatalf("Send = %q, %v", id, err)
	}
}

func TestSendTextButtons(t *testing.T) {
	srv := fakeTwilio(t, reply{
		form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
			"Body": {"Would you like order updates here?\n\n1) Yes please\n2) No thanks"}},
		status: http.StatusCreated, body: created("SM3"),
	})
	a := sendAdapter(t, srv, func(c *Config) { c.StatusCallbackURL = "" })
	id, err := a.Send(context.Background(), textMessage("Would you like order updates here?",
		envelope.Button{ID: "optin_yes", Title: "Yes please"}, envelope.Button{ID: "optin_no", Title: "No thanks"}))
	if err != nil || id != "SM3" {
		t.Fatalf("Send = %q, %v", id, err)
	}
}

func TestSendTemplate(t *testing.T) {
	srv := fakeTwilio(t,
		reply{
			form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
				"ContentSid": {"HX0f2b6a1b3c4d5e6f708192a3b4c5d6e7"}, "ContentVariables": {`{"1":"Ana","2":"amanhã"}`},
				"StatusCallback": {testCallback}},
			status: http.StatusCreated, body: created("SM4"),
		},
		reply{ // no params: no ContentVariables; a language-less entry matches any language
			form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
				"ContentSid": {"HX9a8b7c6d5e4f30211203f4e5d6c7b8a9"}, "StatusCallback": {testCallback}},
			status: http.StatusOK, body: created("SM5"),
		},
		reply{ // a message without a language: the template's only entry… or one of several is ambiguous (below)
			form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
				"ContentSid": {"HX9a8b7c6d5e4f30211203f4e5d6c7b8a9"}, "StatusCallback": {testCallback}},
			status: http.StatusCreated, body: created("SM6"),
		},
	)
	a := sendAdapter(t, srv, nil)
	ctx := context.Background()
	if id, err := a.Send(ctx, templateMessage("order_shipped", "pt_BR", map[string]string{"2": "amanhã", "1": "Ana"})); err != nil || id != "SM4" {
		t.Fatalf("template with params: %q, %v", id, err)
	}
	if id, err := a.Send(ctx, templateMessage("welcome", "fr", nil)); err != nil || id != "SM5" {
		t.Fatalf("template without params: %q, %v", id, err)
	}
	if id, err := a.Send(ctx, templateMessage("welcome", "", nil)); err != nil || id != "SM6" {
		t.Fatalf("template without language: %q, %v", id, err)
	}
	for _, m := range []envelope.OutboundMessage{
		templateMessage("spring_sale", "en", nil),   // not configured
		templateMessage("order_shipped", "de", nil), // not in German
		templateMessage("order_shipped", "", nil),   // which language?
	} {
		_, err := a.Send(ctx, m)
		var se *envelope.SendError
		if !errors.As(err, &se) || se.Retryable || se.Code != CodeNotConfigured || se.Provider != ProviderName {
			t.Errorf("template %s/%s: %v, want a permanent not_configured SendError", m.Template, m.Language, err)
		}
	}
}

func TestSendSenders(t *testing.T) {
	srv := fakeTwilio(t,
		reply{
			form: url.Values{"MessagingServiceSid": {"MG0123456789abcdef0123456789abcdef"}, "To": {"whatsapp:+14155550123"},
				"Body": {"hi"}},
			status: http.StatusCreated, body: created("SM7"),
		},
		reply{
			form:   url.Values{"From": {"whatsapp:+14155550100"}, "To": {"whatsapp:+14155550123"}, "Body": {"hi"}},
			status: http.StatusCreated, body: created("SM8"),
		},
	)
	a := sendAdapter(t, srv, func(c *Config) { c.StatusCallbackURL = ""; c.DefaultSender = "whatsapp:+14155550100" })
	m := textMessage("hi")
	m.Sender = "MG0123456789abcdef0123456789abcdef"
	if id, err := a.Send(context.Background(), m); err != nil || id != "SM7" {
		t.Fatalf("Messaging Service sender: %q, %v", id, err)
	}
	m.Sender = ""
	if id, err := a.Send(context.Background(), m); err != nil || id != "SM8" {
		t.Fatalf("default sender: %q, %v", id, err)
	}
	noDefault := sendAdapter(t, srv, nil)
	_, err := noDefault.Send(context.Background(), m)
	var se *envelope.SendError
	if !errors.As(err, &se) || se.Retryable || se.Code != CodeNotConfigured {
		t.Fatalf("no sender: %v", err)
	}
	bad := textMessage("")
	if _, err := noDefault.Send(context.Background(), bad); !errors.As(err, &se) || se.Retryable || se.Code != CodeInvalidMessage {
		t.Fatalf("invalid message: %v", err)
	}
}

func TestSendErrors(t *testing.T) {
	form := url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"}, "Body": {"hi"}, "StatusCallback": {testCallback}}
	cases := []struct {
		name  string
		reply reply
		want  envelope.SendError
	}{
		{"opted out", reply{status: 400, body: `{"code":21610,"message":"Attempt to send to unsubscribed recipient","more_info":"https://www.twilio.com/docs/errors/21610","status":400}`},
			envelope.SendError{Code: "21610", Message: "Attempt to send to unsubscribed recipient", HTTPStatus: 400, Signal: envelope.SignalOptedOut}},
		{"window closed", reply{status: 400, body: `{"code":63016,"message":"Failed to send freeform message because you are outside the allowed window.","status":400}`},
			envelope.SendError{Code: "63016", Message: "Failed to send freeform message because you are outside the allowed window.", HTTPStatus: 400, Signal: envelope.SignalWindowClosed}},
		{"channel rate limit", reply{status: 400, body: `{"code":63018,"message":"Rate limit exceeded for Channel","status":400}`},
			envelope.SendError{Code: "63018", Message: "Rate limit exceeded for Channel", HTTPStatus: 400, Retryable: true}},
		{"too many requests", reply{status: 429, body: `{"code":20429,"message":"Too Many Requests","status":429}`, header: map[string]string{"Retry-After": "7"}},
			envelope.SendError{Code: "20429", Message: "Too Many Requests", HTTPStatus: 429, Retryable: true, RetryAfter: 7 * time.Second}},
		{"server error", reply{status: 500, body: `{"code":20500,"message":"Internal Server Error","status":500}`},
			envelope.SendError{Code: "20500", Message: "Internal Server Error", HTTPStatus: 500, Retryable: true}},
		{"bad gateway without JSON", reply{status: 502, body: `<html>Bad Gateway</html>`, header: map[string]string{"Retry-After": "2"}},
			envelope.SendError{Code: "http_502", Message: "Bad Gateway", HTTPStatus: 502, Retryable: true, RetryAfter: 2 * time.Second}},
		{"authentication", reply{status: 401, body: `{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}`},
			envelope.SendError{Code: "20003", Message: "Authenticate", HTTPStatus: 401}},
		{"invalid To, number redacted", reply{status: 400, body: `{"code":21211,"message":"The 'To' number whatsapp:+14155550123 is not a valid phone number.","status":400}`},
			envelope.SendError{Code: "21211", Message: "The 'To' number whatsapp:+1…23 is not a valid phone number.", HTTPStatus: 400}},
		{"string code", reply{status: 400, body: `{"code":"63024","message":"Invalid message recipient","status":400}`},
			envelope.SendError{Code: "63024", Message: "Invalid message recipient", HTTPStatus: 400}},
		{"success without sid", reply{status: 201, body: `{"status":"queued"}`},
			envelope.SendError{Code: CodeBadResponse, Message: "the answer has no message sid", HTTPStatus: 201}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.reply.form = form
			srv := fakeTwilio(t, c.reply)
			_, err := sendAdapter(t, srv, nil).Send(context.Background(), textMessage("hi"))
			var se *envelope.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *SendError", err, err)
			}
			want := c.want
			want.Provider = ProviderName
			if *se != want {
				t.Fatalf("SendError\n got %+v\nwant %+v", *se, want)
			}
			if strings.Contains(se.Error(), "+14155550123") {
				t.Fatalf("error shows the customer's number: %v", se)
			}
		})
	}
}

func TestSendNetworkFailure(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request")
	}))
	a := sendAdapter(t, srv, nil)
	srv.Close() // connections are refused from now on
	_, err := a.Send(context.Background(), textMessage("hi"))
	var se *envelope.SendError
	if !errors.As(err, &se) || !se.Retryable || se.Code != CodeTransport || strings.Contains(se.Error(), testToken) {
		t.Fatalf("network failure: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.Send(ctx, textMessage("hi")); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, "-1": 0, "soon": 0, "99999999": 24 * time.Hour,
		"Thu, 01 Jan 2026 09:30:10 GMT": 10 * time.Second, "Thu, 01 Jan 2026 09:29:00 GMT": 0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestNew(t *testing.T) {
	ok := Config{AccountSID: testAccount, AuthToken: testToken}
	a, err := New(ok)
	if err != nil || a.Name() != "twilio" || a.baseURL != DefaultBaseURL {
		t.Fatalf("New(%+v) = %+v, %v", ok, a, err)
	}
	for name, mod := range map[string]func(*Config){
		"no account":            func(c *Config) { c.AccountSID = "" },
		"account not AC":        func(c *Config) { c.AccountSID = "SK123" },
		"account with a slash":  func(c *Config) { c.AccountSID = "AC12/../x" },
		"no token":              func(c *Config) { c.AuthToken = "" },
		"token with a newline":  func(c *Config) { c.AuthToken = testToken + "\n" },
		"relative base URL":     func(c *Config) { c.BaseURL = "api.twilio.com" },
		"callback not absolute": func(c *Config) { c.StatusCallbackURL = "/webhooks/twilio" },
		"public URL with query": func(c *Config) { c.PublicURL = "https://bot.example.com/?x=1" },
		"bad default sender":    func(c *Config) { c.DefaultSender = "acme" },
		"template without name": func(c *Config) { c.Templates = map[TemplateKey]string{{Language: "en"}: "HX1"} },
		"template without sid":  func(c *Config) { c.Templates = map[TemplateKey]string{{Name: "x"}: ""} },
	} {
		cfg := ok
		mod(&cfg)
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		} else if strings.Contains(err.Error(), testToken) {
			t.Errorf("%s: error shows the Auth Token: %v", name, err)
		}
	}
}

func TestAcknowledge(t *testing.T) {
	rec := httptest.NewRecorder()
	testAdapter(t).Acknowledge(rec)
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/xml") ||
		rec.Body.String() != `<?xml version="1.0" encoding="UTF-8"?><Response/>` {
		t.Fatalf("Acknowledge: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
}

// An authentication template (Twilio's whatsapp/authentication content)
// takes one variable at send time: the code.
func TestSendAuthenticationTemplate(t *testing.T) {
	srv := fakeTwilio(t, reply{
		form: url.Values{"From": {"whatsapp:+14155550199"}, "To": {"whatsapp:+14155550123"},
			"ContentSid": {"HX9a8b7c6d5e4f30211203f4e5d6c7b8a9"}, "ContentVariables": {`{"1":"271828"}`},
			"StatusCallback": {testCallback}},
		status: http.StatusCreated, body: created("SM7"),
	})
	m := templateMessage("welcome", "en", map[string]string{"1": "271828"})
	m.Topic, m.Category = "signin_codes", "authentication"
	if id, err := sendAdapter(t, srv, nil).Send(context.Background(), m); err != nil || id != "SM7" {
		t.Fatalf("Send = %q, %v", id, err)
	}
}
