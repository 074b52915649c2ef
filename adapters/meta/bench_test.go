package meta

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkVerifyAndParse is the Meta adapter's share of a webhook: the
// signature check and the normalisation of a one-message body.
//
//	go test -run '^$' -bench VerifyAndParse -benchmem ./adapters/meta
func BenchmarkVerifyAndParse(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "text.json"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := New(Config{AppSecret: "bench-secret"})
	if err != nil {
		b.Fatal(err)
	}
	sig := Sign("bench-secret", body)
	received := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/meta", strings.NewReader(""))
		r.Header.Set("X-Hub-Signature-256", sig)
		if err := a.Verify(r, body); err != nil {
			b.Fatal(err)
		}
		batch, err := a.Parse(body, received)
		if err != nil || len(batch.Inbound) != 1 {
			b.Fatalf("parse: %v %+v", err, batch)
		}
	}
}
