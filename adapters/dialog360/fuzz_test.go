package dialog360

import (
	"net/http"
	"testing"
)

// FuzzVerify: no header value panics the check, and only the exact secret
// passes.
func FuzzVerify(f *testing.F) {
	f.Add(testSecret, testSecret)
	f.Add(testSecret, testSecret+"x")
	f.Add(testSecret, "")
	f.Add("", "")
	f.Add("a", "\x00")
	f.Fuzz(func(t *testing.T, secret, value string) {
		a, err := New(Config{WebhookSecret: secret})
		if err != nil {
			t.Fatal(err)
		}
		r := request(nil)
		r.Header = http.Header{DefaultWebhookHeader: {value}}
		err = a.Verify(r, nil)
		if right := secret != "" && value == secret; (err == nil) != right {
			t.Fatalf("Verify(secret %q, header %q) = %v", secret, value, err)
		}
	})
}
