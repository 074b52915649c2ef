package meta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no body makes the parser panic, and whatever it returns keeps
// the batch invariants (see checkBatch).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, file := range files {
		if body, err := os.ReadFile(file); err == nil {
			f.Add(body)
		}
	}
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"metadata":{"phone_number_id":1},"messages":[{"id":"\u0000","from":"1","timestamp":"99999999999999"}]}}]}]}`))
	f.Add([]byte(`{"object":"whatsapp_business_account","entry":[{"id":"1","time":"x","changes":[{"field":"phone_number_quality_update","value":{"a":{"b":{"c":{"d":{"e":1}}}}}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		b, err := ParseBody(Name, body, receivedAt)
		checkBatch(t, b, err)
	})
}

// FuzzVerify: no header value panics the check, only the right signature
// passes, and an error never quotes the body.
func FuzzVerify(f *testing.F) {
	for _, c := range signatureCases(f) {
		f.Add(c.secret, c.signature, c.body)
		f.Add(c.secret, strings.ToUpper(c.signature), c.body)
	}
	f.Add("s", "sha256=", []byte("body"))
	f.Add("", "", []byte(nil))
	f.Fuzz(func(t *testing.T, secret, header string, body []byte) {
		err := CheckSignature(secret, header, body)
		right := secret != "" && strings.EqualFold(header, Sign(secret, body)) && strings.HasPrefix(header, "sha256=")
		if (err == nil) != right {
			t.Fatalf("CheckSignature(%q, %q) = %v, right signature: %v", secret, header, err, right)
		}
		if err != nil && len(body) > 8 && strings.Contains(err.Error(), string(body)) {
			t.Fatalf("error quotes the body: %v", err)
		}
	})
}
