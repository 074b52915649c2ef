package meta

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// signatureCase is a body from testdata/signature with the app secret and
// the X-Hub-Signature-256 it was signed with (computed independently, with
// openssl, over the exact bytes).
type signatureCase struct {
	name, secret, signature string
	body                    []byte
}

func signatureCases(t testing.TB) []signatureCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "signature", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no signature testdata: %v", err)
	}
	var cases []signatureCase
	for _, f := range files {
		meta, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := signatureCase{name: strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, line := range strings.Split(strings.TrimSpace(string(meta)), "\n") {
			k, v, _ := strings.Cut(line, " ")
			switch k {
			case "secret":
				c.secret = v
			case "signature":
				c.signature = v
			}
		}
		c.body, err = os.ReadFile(strings.TrimSuffix(f, ".txt") + ".body")
		if err != nil {
			t.Fatal(err)
		}
		if c.secret == "" || c.signature == "" {
			t.Fatalf("%s: want a secret and a signature line", f)
		}
		cases = append(cases, c)
	}
	return cases
}

func newAdapter(t testing.TB, cfg Config) *Adapter {
	t.Helper()
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func postWith(header string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
	if header != "" {
		r.Header.Set(SignatureHeader, header)
	}
	return r
}

func TestVerifyKnownSignatures(t *testing.T) {
	for _, c := range signatureCases(t) {
		t.Run(c.name, func(t *testing.T) {
			a := newAdapter(t, Config{AppSecret: c.secret})
			if err := a.Verify(postWith(c.signature, c.body), c.body); err != nil {
				t.Fatalf("the known signature is refused: %v", err)
			}
			if got := Sign(c.secret, c.body); got != c.signature {
				t.Errorf("Sign = %s, want %s", got, c.signature)
			}
			// The worked examples parse, too.
			b, err := a.Parse(c.body, receivedAt)
			if err != nil || len(b.Inbound) != 1 {
				t.Errorf("Parse: %d inbound, %v", len(b.Inbound), err)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	c := signatureCases(t)[0]
	good := c.signature
	flipped := good[:len(good)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[len(good)-1])+1)%16])
	changed := append(bytes.Clone(c.body), ' ')
	for _, tt := range []struct {
		name, secret, header string
		body                 []byte
		why                  string
	}{
		{"missing header", c.secret, "", c.body, "missing"},
		{"wrong signature", c.secret, flipped, c.body, "does not match"},
		{"wrong secret", c.secret + "x", good, c.body, "does not match"},
		{"body changed", c.secret, good, changed, "does not match"},
		{"no prefix", c.secret, strings.TrimPrefix(good, "sha256="), c.body, "malformed"},
		{"sha1 prefix", c.secret, "sha1=" + strings.TrimPrefix(good, "sha256="), c.body, "malformed"},
		{"upper-case prefix", c.secret, "SHA256=" + strings.TrimPrefix(good, "sha256="), c.body, "malformed"},
		{"short hex", c.secret, good[:len(good)-2], c.body, "malformed"},
		{"long hex", c.secret, good + "00", c.body, "malformed"},
		{"not hex", c.secret, "sha256=" + strings.Repeat("zz", 32), c.body, "not hex"},
		{"no secret configured", "", good, c.body, "no app secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := newAdapter(t, Config{AppSecret: tt.secret})
			err := a.Verify(postWith(tt.header, tt.body), tt.body)
			if !errors.Is(err, envelope.ErrUnauthorized) {
				t.Fatalf("Verify = %v, want an error wrapping envelope.ErrUnauthorized", err)
			}
			if !strings.Contains(err.Error(), tt.why) {
				t.Errorf("error %q does not say %q", err, tt.why)
			}
			if strings.Contains(err.Error(), "whatsapp_business_account") || strings.Contains(err.Error(), c.secret) {
				t.Errorf("error quotes the body or the secret: %v", err)
			}
		})
	}
}

func TestVerifyUpperCaseHex(t *testing.T) {
	c := signatureCases(t)[0]
	upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(c.signature, "sha256="))
	if err := CheckSignature(c.secret, upper, c.body); err != nil {
		t.Errorf("upper-case hex digits refused: %v", err)
	}
}

func TestHandshake(t *testing.T) {
	a := newAdapter(t, Config{VerifyToken: "fb_webhook_secret"})
	for _, tt := range []struct {
		name, method, query string
		status              int
		body                string
	}{
		{"valid", http.MethodGet, "hub.mode=subscribe&hub.verify_token=fb_webhook_secret&hub.challenge=1158201444", 200, "1158201444"},
		{"challenge is echoed as is", http.MethodGet, "hub.mode=subscribe&hub.verify_token=fb_webhook_secret&hub.challenge=%3Cb%3Ehi%3C%2Fb%3E", 200, "<b>hi</b>"},
		{"no parameters", http.MethodGet, "", 403, ""},
		{"mode only", http.MethodGet, "hub.mode=subscribe", 403, ""},
		{"wrong token", http.MethodGet, "hub.mode=subscribe&hub.verify_token=blah&hub.challenge=1", 403, ""},
		{"token prefix", http.MethodGet, "hub.mode=subscribe&hub.verify_token=fb_webhook&hub.challenge=1", 403, ""},
		{"wrong mode", http.MethodGet, "hub.mode=unsubscribe&hub.verify_token=fb_webhook_secret&hub.challenge=1", 403, ""},
		{"no challenge", http.MethodGet, "hub.mode=subscribe&hub.verify_token=fb_webhook_secret", 403, ""},
		{"POST", http.MethodPost, "hub.mode=subscribe&hub.verify_token=fb_webhook_secret&hub.challenge=1", 403, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			a.Handshake(w, httptest.NewRequest(tt.method, "/webhooks/meta?"+tt.query, nil))
			res := w.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.status != 200 {
				if strings.Contains(string(body), "fb_webhook_secret") {
					t.Errorf("a refusal echoes the token: %q", body)
				}
				return
			}
			if string(body) != tt.body {
				t.Errorf("body %q, want %q", body, tt.body)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}
}

func TestHandshakeWithoutToken(t *testing.T) {
	a := newAdapter(t, Config{})
	w := httptest.NewRecorder()
	a.Handshake(w, httptest.NewRequest(http.MethodGet, "/?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil))
	if w.Code != http.StatusForbidden {
		t.Errorf("an empty configured token answered %d, want 403", w.Code)
	}
}

func TestEqualSecret(t *testing.T) {
	for _, tt := range []struct {
		configured, presented string
		want                  bool
	}{
		{"abc", "abc", true},
		{"abc", "abd", false},
		{"abc", "ab", false},
		{"abc", "abcd", false},
		{"", "", false},
		{"", "x", false},
	} {
		if got := EqualSecret(tt.configured, tt.presented); got != tt.want {
			t.Errorf("EqualSecret(%q, %q) = %v", tt.configured, tt.presented, got)
		}
	}
}

func TestNewConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"zero", Config{}, true},
		{"version", Config{APIVersion: "v23.0"}, true},
		{"bad version", Config{APIVersion: "21"}, false},
		{"bad base URL", Config{BaseURL: "graph.facebook.com"}, false},
		{"base URL with query", Config{BaseURL: "https://graph.facebook.com/?x=1"}, false},
		{"bad default sender", Config{DefaultSender: "+1555"}, false},
		{"template without name", Config{Templates: map[TemplateKey]TemplateRef{{Name: "x"}: {}}}, false},
		{"template key without name", Config{Templates: map[TemplateKey]TemplateRef{{Language: "en"}: {Name: "x"}}}, false},
		{"templates", Config{Templates: map[TemplateKey]TemplateRef{{Name: "shipped", Language: "en"}: {Name: "order_shipped_v2", Language: "en_US"}}}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New: %v, want ok %v", err, tt.ok)
			}
			if err == nil && (a.Name() != "meta" || a.cfg.HTTPClient == nil || a.cfg.Now == nil) {
				t.Errorf("defaults not filled: %+v", a.cfg)
			}
		})
	}
}
