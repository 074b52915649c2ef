package twilio

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// sigExample is testdata/signature.json: a signature worked example
// computed outside Go.
type sigExample struct {
	AuthToken       string `json:"auth_token"`
	BodyFile        string `json:"body_file"`
	URL             string `json:"url"`
	Signature       string `json:"signature"`
	URL443          string `json:"url_443"`
	Signature443    string `json:"signature_443"`
	URLHTTP         string `json:"url_http"`
	SignatureHTTP   string `json:"signature_http"`
	SignatureHTTP80 string `json:"signature_http_80"`
	JSONURL         string `json:"json_url"`
	JSONBody        string `json:"json_body"`
	JSONSignature   string `json:"json_signature"`
}

func loadSigExample(t testing.TB) (sigExample, []byte) {
	t.Helper()
	data, err := os.ReadFile("testdata/signature.json")
	if err != nil {
		t.Fatal(err)
	}
	var ex sigExample
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	return ex, readForm(t, "testdata/"+ex.BodyFile)
}

func sigAdapter(t testing.TB, token, publicURL string) *Adapter {
	t.Helper()
	a, err := New(Config{AccountSID: "ACa1cf578095ae75057426896c6bcd9b11", AuthToken: token, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// webhookRequest is the request as this process sees it: path and query,
// Host, and optionally TLS and X-Forwarded-Proto.
func webhookRequest(host, uri string, body []byte, tlsOn bool, fwdProto, signature string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, uri, strings.NewReader(string(body)))
	r.Host = host
	r.TLS = nil
	if tlsOn {
		r.TLS = &tls.ConnectionState{}
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if fwdProto != "" {
		r.Header.Set("X-Forwarded-Proto", fwdProto)
	}
	if signature != "" {
		r.Header.Set(SignatureHeader, signature)
	}
	return r
}

func TestVerify(t *testing.T) {
	ex, body := loadSigExample(t)
	const uri = "/webhooks/twilio?business=acme"
	good := sigAdapter(t, ex.AuthToken, "")
	wrongToken := sigAdapter(t, "0000000000000000000000000000000", "")
	behindProxy := sigAdapter(t, ex.AuthToken, "https://bot.example.com")
	behindProxySlash := sigAdapter(t, ex.AuthToken, "https://bot.example.com/")
	tampered := []byte(strings.Replace(string(body), "Canada", "Mexico", 1))
	cases := []struct {
		name string
		a    *Adapter
		r    *http.Request
		body []byte
		ok   bool
	}{
		{"worked example over TLS", good, webhookRequest("bot.example.com", uri, body, true, "", ex.Signature), body, true},
		{"behind a TLS proxy (X-Forwarded-Proto)", good, webhookRequest("bot.example.com", uri, body, false, "https", ex.Signature), body, true},
		{"X-Forwarded-Proto list", good, webhookRequest("bot.example.com", uri, body, false, "https, http", ex.Signature), body, true},
		{"Twilio signed with :443, request without", good, webhookRequest("bot.example.com", uri, body, true, "", ex.Signature443), body, true},
		{"Twilio signed without :443, request with", good, webhookRequest("bot.example.com:443", uri, body, true, "", ex.Signature), body, true},
		{"Twilio signed with :443, request with", good, webhookRequest("bot.example.com:443", uri, body, true, "", ex.Signature443), body, true},
		{"plain http", good, webhookRequest("bot.example.com", uri, body, false, "", ex.SignatureHTTP), body, true},
		{"plain http signed with :80", good, webhookRequest("bot.example.com", uri, body, false, "", ex.SignatureHTTP80), body, true},
		{"http signature on an https request", good, webhookRequest("bot.example.com", uri, body, true, "", ex.SignatureHTTP), body, false},
		{"wrong token", wrongToken, webhookRequest("bot.example.com", uri, body, true, "", ex.Signature), body, false},
		{"missing header", good, webhookRequest("bot.example.com", uri, body, true, "", ""), body, false},
		{"garbage header", good, webhookRequest("bot.example.com", uri, body, true, "", "not base64!"), body, false},
		{"tampered body", good, webhookRequest("bot.example.com", uri, tampered, true, "", ex.Signature), tampered, false},
		{"other path", good, webhookRequest("bot.example.com", "/webhooks/twilio?business=other", body, true, "", ex.Signature), body, false},
		{"other host", good, webhookRequest("evil.example.com", uri, body, true, "", ex.Signature), body, false},
		{"other port", good, webhookRequest("bot.example.com:8443", uri, body, true, "", ex.Signature), body, false},
		{"proxy rewrote the host: fails without PublicURL", good, webhookRequest("optinbot.internal:8080", uri, body, false, "", ex.Signature), body, false},
		{"PublicURL override", behindProxy, webhookRequest("optinbot.internal:8080", uri, body, false, "", ex.Signature), body, true},
		{"PublicURL with a trailing slash", behindProxySlash, webhookRequest("optinbot.internal:8080", uri, body, false, "", ex.Signature), body, true},
		{"PublicURL override, :443 signature", behindProxy, webhookRequest("optinbot.internal:8080", uri, body, false, "", ex.Signature443), body, true},
		{"PublicURL override, wrong token", sigAdapter(t, "other-token", "https://bot.example.com"), webhookRequest("optinbot.internal:8080", uri, body, false, "", ex.Signature), body, false},
		{"absolute-form request target", good, webhookRequest("bot.example.com", "https://bot.example.com"+uri, body, true, "", ex.Signature), body, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.a.Verify(c.r, c.body)
			if c.ok {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Verify accepted the request")
			}
			if !errors.Is(err, envelope.ErrUnauthorized) {
				t.Fatalf("error %v does not wrap envelope.ErrUnauthorized", err)
			}
			for _, secret := range []string{"Canada", "Mexico", "Ana", ex.Signature, ex.AuthToken} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q shows %q", err, secret)
				}
			}
		})
	}
}

func TestVerifyJSONBody(t *testing.T) {
	ex, _ := loadSigExample(t)
	a := sigAdapter(t, ex.AuthToken, "")
	u, err := url.Parse(ex.JSONURL)
	if err != nil {
		t.Fatal(err)
	}
	r := webhookRequest(u.Host, u.RequestURI(), []byte(ex.JSONBody), true, "", ex.JSONSignature)
	if err := a.Verify(r, []byte(ex.JSONBody)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	other := []byte(strings.Replace(ex.JSONBody, "hi", "ho", 1))
	if err := a.Verify(r, other); !errors.Is(err, envelope.ErrUnauthorized) {
		t.Fatalf("a body not matching bodySHA256: %v", err)
	}
}

// TestSignature: the helper Signature agrees with the worked example, and
// a signed form round-trips through Verify, including repeated keys.
func TestSignature(t *testing.T) {
	ex, body := loadSigExample(t)
	a := sigAdapter(t, ex.AuthToken, "")
	form, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Signature(ex.URL, form); got != ex.Signature {
		t.Fatalf("Signature = %s, want %s", got, ex.Signature)
	}
	if got := a.Signature(ex.URL443, form); got != ex.Signature443 {
		t.Fatalf("Signature with :443 = %s, want %s", got, ex.Signature443)
	}
	repeated := url.Values{"MessageSid": {"SM1"}, "MediaUrl": {"https://b.example/2", "https://a.example/1"}}
	enc := []byte(repeated.Encode())
	r := webhookRequest("bot.example.com", "/t", enc, true, "", a.Signature("https://bot.example.com/t", repeated))
	if err := a.Verify(r, enc); err != nil {
		t.Fatalf("repeated keys: %v", err)
	}
}

func TestURLVariants(t *testing.T) {
	for in, want := range map[string][]string{
		"https://h.example/p?q=1":         {"https://h.example/p?q=1", "https://h.example:443/p?q=1"},
		"https://h.example:443/p":         {"https://h.example:443/p", "https://h.example/p"},
		"http://h.example":                {"http://h.example", "http://h.example:80"},
		"http://h.example:80?x":           {"http://h.example:80?x", "http://h.example?x"},
		"https://h.example:8443/p":        {"https://h.example:8443/p"},
		"https://[::1]/p":                 {"https://[::1]/p", "https://[::1]:443/p"},
		"https://[::1]:443/p":             {"https://[::1]:443/p", "https://[::1]/p"},
		"ftp://h.example/p":               {"ftp://h.example/p"},
		"https://h.example/a:443/b?c=:80": {"https://h.example/a:443/b?c=:80", "https://h.example:443/a:443/b?c=:80"},
	} {
		got := urlVariants(in)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("urlVariants(%s) = %v, want %v", in, got, want)
		}
	}
}
