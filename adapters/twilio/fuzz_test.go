package twilio

import (
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/optinbot/optinbot/adapters/envelope"
)

// FuzzParse: Parse never panics; it either fails with ErrBody, or returns at
// most one item, valid and decodable again, a dead letter carrying the body.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.form")
	for _, file := range files {
		f.Add(readForm(f, file))
	}
	f.Add([]byte("MessageSid=SM1&From=whatsapp:%2B1&To=&Latitude=1e999&Longitude=-0"))
	f.Add([]byte("MessageSid=SM1&MessageStatus=failed&ErrorCode=21610&To=US.1&From=MG1&RawDlrDoneDate=9912312359"))
	f.Add([]byte("SmsSid=%0A&SmsStatus=received"))
	a := testAdapter(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := a.Parse(body, receivedAt)
		if err != nil {
			if !errors.Is(err, ErrBody) || b.Len() != 0 {
				t.Fatalf("Parse error %v with %d items", err, b.Len())
			}
			return
		}
		checkBatch(t, b, body)
	})
}

// FuzzVerify: Verify never panics, fails only with ErrUnauthorized, and
// accepts a form body signed over the URL the request was made to.
func FuzzVerify(f *testing.F) {
	ex, body := loadSigExample(f)
	f.Add("/webhooks/twilio?business=acme", "bot.example.com", "https", body, ex.Signature)
	f.Add("https://bot.example.com:443/x?bodySHA256=00", "bot.example.com:443", "", []byte(`{"a":1}`), "")
	f.Add("", "", "http, https", []byte("a=1&a=2&b=%zz"), "x")
	f.Add("*", "[::1]:80", "HTTP", []byte(""), "====")
	plain := sigAdapter(f, ex.AuthToken, "")
	public := sigAdapter(f, ex.AuthToken, "https://bot.example.com/prefix")
	f.Fuzz(func(t *testing.T, uri, host, proto string, body []byte, sig string) {
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/"}, RequestURI: uri, Host: host, Header: http.Header{}}
		if proto != "" {
			r.Header.Set("X-Forwarded-Proto", proto)
		}
		if sig != "" {
			r.Header.Set(SignatureHeader, sig)
		}
		for _, a := range []*Adapter{plain, public} {
			if err := a.Verify(r, body); err != nil && !errors.Is(err, envelope.ErrUnauthorized) {
				t.Fatalf("Verify error %v does not wrap ErrUnauthorized", err)
			}
			form, err := url.ParseQuery(string(body))
			full := a.requestURL(r)
			if err != nil || bodySHA256(full) != "" {
				continue
			}
			r.Header.Set(SignatureHeader, a.Signature(full, form))
			if err := a.Verify(r, body); err != nil {
				t.Fatalf("Verify rejects a request signed over %q: %v", full, err)
			}
			for _, v := range urlVariants(full) {
				r.Header.Set(SignatureHeader, a.Signature(v, form))
				if err := a.Verify(r, body); err != nil {
					t.Fatalf("Verify rejects a request signed over the variant %q of %q: %v", v, full, err)
				}
			}
		}
	})
}
