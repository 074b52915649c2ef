package dialog360

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/envelope"
)

const testSecret = "s3cr3t-0f-at-least-32-characters-long"

func request(headers map[string][]string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/dialog360", strings.NewReader(`{"object":"whatsapp_business_account"}`))
	for k, vs := range headers {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return r
}

func TestVerify(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cfg     Config
		headers map[string][]string
		ok      bool
		why     string
	}{
		{"right secret", Config{WebhookSecret: testSecret}, map[string][]string{"X-Optinbot-Webhook-Secret": {testSecret}}, true, ""},
		{"header name in any case", Config{WebhookSecret: testSecret}, map[string][]string{"x-optinbot-webhook-secret": {testSecret}}, true, ""},
		{"custom header", Config{WebhookSecret: testSecret, WebhookHeader: "x-acme-token"}, map[string][]string{"X-Acme-Token": {testSecret}}, true, ""},
		{"custom header, default sent", Config{WebhookSecret: testSecret, WebhookHeader: "X-Acme-Token"}, map[string][]string{"X-Optinbot-Webhook-Secret": {testSecret}}, false, "missing"},
		{"missing", Config{WebhookSecret: testSecret}, nil, false, "missing"},
		{"wrong", Config{WebhookSecret: testSecret}, map[string][]string{"X-Optinbot-Webhook-Secret": {testSecret + "x"}}, false, "does not match"},
		{"prefix", Config{WebhookSecret: testSecret}, map[string][]string{"X-Optinbot-Webhook-Secret": {testSecret[:10]}}, false, "does not match"},
		{"empty value", Config{WebhookSecret: testSecret}, map[string][]string{"X-Optinbot-Webhook-Secret": {""}}, false, "does not match"},
		{"repeated", Config{WebhookSecret: testSecret}, map[string][]string{"X-Optinbot-Webhook-Secret": {testSecret, testSecret}}, false, "repeated"},
		{"a Meta signature is no secret", Config{WebhookSecret: testSecret}, map[string][]string{"X-Hub-Signature-256": {"sha256=00"}}, false, "missing"},
		{"no secret configured", Config{}, map[string][]string{"X-Optinbot-Webhook-Secret": {""}}, false, "no webhook secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := request(tt.headers)
			err = a.Verify(r, []byte(`{"object":"whatsapp_business_account"}`))
			if tt.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, envelope.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want an error wrapping envelope.ErrUnauthorized", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			if strings.Contains(err.Error(), testSecret[:10]) || strings.Contains(err.Error(), "whatsapp_business_account") {
				t.Errorf("error quotes the secret or the body: %v", err)
			}
		})
	}
}

func TestNewConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"header with space", Config{WebhookHeader: "X Secret"}, false},
		{"header with colon", Config{WebhookHeader: "X-Secret:"}, false},
		{"bad base URL", Config{BaseURL: "waba-v2.360dialog.io"}, false},
		{"empty API key", Config{APIKeys: map[string]string{"114477552288993": ""}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok %v", err, tt.ok)
			}
			if err == nil && (a.Name() != "dialog360" || a.endpoint != DefaultBaseURL+"/messages" || a.cfg.WebhookHeader != DefaultWebhookHeader) {
				t.Errorf("defaults not filled: %+v", a)
			}
		})
	}
}
