package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/store/storetest"
)

// The large benchmarks measure the guard's hot path and the ledger export
// against PostgreSQL holding 1 million customers and 5 million consent
// events. Loading that takes minutes, so they run only when asked, and keep
// their schema (optinbot_bench_large) for the next run:
//
//	OPTINBOT_BENCH_LARGE=1 go test ./store/sqlstore -run Large -bench Large -benchtime 20000x
//
// Drop it with: DROP SCHEMA optinbot_bench_large CASCADE.
const (
	largeSchema    = "optinbot_bench_large"
	largeCustomers = 1_000_000
	largeEvents    = 5 // per customer
)

var largeOnce struct {
	sync.Once
	store *Store
	err   error
}

func largeCustomer(i int) bot.CustomerID { return bot.CustomerID(fmt.Sprintf("+1415%07d", i)) }

func largeStore(tb testing.TB) *Store {
	tb.Helper()
	if os.Getenv("OPTINBOT_BENCH_LARGE") == "" {
		tb.Skip("set OPTINBOT_BENCH_LARGE=1 to load 1M customers and 5M events into PostgreSQL and measure")
	}
	largeOnce.Do(func() { largeOnce.store, largeOnce.err = openLarge(tb) })
	if largeOnce.err != nil {
		tb.Fatal(largeOnce.err)
	}
	return largeOnce.store
}

func openLarge(tb testing.TB) (*Store, error) {
	ctx := context.Background()
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		base = storetest.DefaultPostgresDSN
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	admin, err := Open(ctx, base) // only to create the schema
	if err != nil {
		return nil, err
	}
	_, err = admin.db.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+largeSchema)
	admin.Close()
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", largeSchema)
	u.RawQuery = q.Encode()
	s, err := Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	var n int
	if err := s.db.GetContext(ctx, &n, "SELECT COUNT(*) FROM conversations"); err != nil {
		return nil, err
	}
	if n >= largeCustomers {
		return s, nil
	}
	tb.Logf("loading %d customers and %d consent events into schema %s…", largeCustomers, largeCustomers*largeEvents, largeSchema)
	began := time.Now()
	for _, stmt := range []string{
		`TRUNCATE conversations, sent_templates`,
		`INSERT INTO conversations (business, customer, flow, flow_version, state, last_prompt, last_inbound_at, updated_at)
			SELECT 'acme', '+1415' || lpad(i::text, 7, '0'), 'retail', 'v1', 'done', 'Thanks!',
				now() - (i % 72) * interval '1 hour', now()
			FROM generate_series(0, 999999) i`,
		// Five events per customer over two topics, ending opted in for
		// three customers in four. The hashes are placeholders: these rows
		// measure lookups, not the chain.
		`INSERT INTO consent_events (id, business, customer, channel, topic, category, status, source, trigger,
				inbound_id, inbound_text, prompt, flow, flow_version, at, sender, language, prev_hash, hash, pii_salt, pii_digest)
			SELECT 'acme/wamid.' || i || '.' || k || '/0', 'acme', '+1415' || lpad(i::text, 7, '0'), 'whatsapp',
				CASE WHEN k % 2 = 0 THEN 'order_updates' ELSE 'promotions' END,
				CASE WHEN k % 2 = 0 THEN 'utility' ELSE 'marketing' END,
				CASE WHEN k = 4 AND i % 4 = 0 THEN 'opted_out' WHEN k = 3 THEN 'opted_out' ELSE 'opted_in' END,
				'in_channel', 'keyword yes', 'wamid.' || i || '.' || k, 'YES', 'Updates from Acme on WhatsApp?',
				'retail', 'v1', now() - (5 - k) * interval '1 day', '15550001111', 'en', 'seeded', 'seeded', '', 'seeded'
			FROM generate_series(0, 999999) i CROSS JOIN generate_series(0, 4) k
			ORDER BY i, k`,
		`INSERT INTO sent_templates (business, customer, topic, at)
			SELECT 'acme', '+1415' || lpad(i::text, 7, '0'), 'order_updates', now() - (i % 48) * interval '1 hour'
			FROM generate_series(0, 999999) i`,
		// What autovacuum does on a live database: without it the first
		// lookups would also pay for setting hint bits.
		`VACUUM ANALYZE`,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("load: %s: %w", stmt[:40], err)
		}
	}
	tb.Logf("loaded in %s", time.Since(began).Round(time.Second))
	return s, nil
}

// largeSuppressionKey is any 32 bytes: the benchmark's suppression checks
// find nothing, as for almost every customer.
var largeSuppressionKey = []byte("optinbot large benchmark key 32b")

// BenchmarkLargeGuardDecision: load a random customer's session (the
// conversation, the consent derived from the ledger, the recent templates,
// the suppression list) and let the guard decide on a template, as the engine does per send.
func BenchmarkLargeGuardDecision(b *testing.B) {
	s := largeStore(b)
	caps := bot.Caps{}
	for _, par := range []int{1, 16} {
		b.Run(fmt.Sprintf("clients=%d", par), func(b *testing.B) {
			b.SetParallelism(par)
			b.ResetTimer()
			began := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					now := time.Now()
					customer := largeCustomer(rand.IntN(largeCustomers))
					sess, err := s.LoadSession(ctx, "acme", customer, now.Add(-bot.ServiceWindow))
					if err != nil {
						b.Error(err)
						return
					}
					if sess.Suppressed, err = s.Suppressed(ctx, "acme", bot.CustomerHash(largeSuppressionKey, customer)); err != nil {
						b.Error(err)
						return
					}
					_ = caps.Check(&sess, bot.Outbound{Kind: bot.KindTemplate, Topic: flows.Topic("order_updates")}, now)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "decisions/s")
		})
	}
}

// BenchmarkLargeConsentLookup: the consent-lookup query alone, with its
// latency percentiles.
func BenchmarkLargeConsentLookup(b *testing.B) {
	s := largeStore(b)
	ctx := context.Background()
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		c := largeCustomer(rand.IntN(largeCustomers))
		var rows []consentRow
		began := time.Now()
		if err := s.reads.consent.SelectContext(ctx, &rows, "acme", c); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(began))
		if len(rows) != 2 {
			b.Fatalf("customer %s has %d topics, want 2", c, len(rows))
		}
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[min(len(durations)-1, int(p*float64(len(durations))))].Microseconds())
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	b.ReportMetric(pct(0.999), "p99.9-µs")
}

// BenchmarkLargeLedgerExport: read the business's ledger in commit order,
// 1,000 events a page, as the API's export does; one op is one page.
func BenchmarkLargeLedgerExport(b *testing.B) {
	s := largeStore(b)
	ctx := context.Background()
	f := bot.LedgerFilter{Business: "acme", Limit: 1000}
	b.ResetTimer()
	began, events := time.Now(), 0
	for range b.N {
		page, err := s.LedgerOf(ctx, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(page) == 0 {
			f.After = 0
			continue
		}
		events += len(page)
		f.After = page[len(page)-1].Seq
	}
	b.ReportMetric(float64(events)/time.Since(began).Seconds(), "events/s")
}

// TestLargeConsentLookupPlan prints the consent lookup's plan on the large
// data set, for docs/BENCHMARKS.md.
func TestLargeConsentLookupPlan(t *testing.T) {
	s := largeStore(t)
	var plan []string
	q := "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) " + s.q.loadConsent
	if err := s.db.SelectContext(t.Context(), &plan, q, "acme", largeCustomer(123456)); err != nil {
		t.Fatal(err)
	}
	for _, line := range plan {
		t.Log(line)
	}
}
