package businessapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/optinbot/optinbot/adapters/businessapi"
	"github.com/optinbot/optinbot/bot"
)

// BenchmarkExportLedger streams a business's ledger of 20,000 events from
// PostgreSQL through the API, as JSON lines and as CSV: paging, encoding
// and HTTP on loopback. One op is the whole export; events/s is the rate a
// business's download gets. (The store's paging alone, on 5 million
// events, is BenchmarkLargeLedgerExport in store/sqlstore.)
func BenchmarkExportLedger(b *testing.B) {
	e := newEnv(b, businessapi.Config{})
	const events = 20_000
	ctx := context.Background()
	for i := range events {
		c := bot.CustomerID(fmt.Sprintf("+1415%07d", i))
		if err := e.store.Commit(ctx, bot.Turn{Business: "acme", Customer: c, DedupID: fmt.Sprintf("in:%d", i), At: t0,
			Conversation: bot.Conversation{FlowName: "retail", FlowVersion: "v", State: "done"},
			Consent: []bot.ConsentEvent{{ID: fmt.Sprintf("acme/%d/0", i), Business: "acme", Customer: c, Channel: bot.Channel,
				Topic: "order_updates", Category: "utility", Status: bot.OptedIn, Source: bot.SourceAPI, Trigger: "import",
				Prompt: "Order updates from Acme on WhatsApp?", At: t0}}}); err != nil {
			b.Fatal(err)
		}
	}
	for _, format := range []string{"jsonl", "csv"} {
		b.Run("format="+format, func(b *testing.B) {
			var bytes int64
			for b.Loop() {
				req, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/v1/businesses/acme/ledger?format="+format, nil)
				if err != nil {
					b.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+e.acmeKey)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusOK {
					b.Fatalf("export: status %d, %v", res.StatusCode, err)
				}
				bytes += n
			}
			b.ReportMetric(float64(events*b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(bytes)/float64(b.N)/events, "B/event")
		})
	}
}
