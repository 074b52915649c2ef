package consentimport_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/consentimport"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
	"github.com/optinbot/optinbot/store/storetest"
)

// BenchmarkImport records files of 1,000 opt-ins of new customers through
// the engine into real PostgreSQL and reports rows per second.
func BenchmarkImport(b *testing.B) {
	st, err := sqlstore.Open(b.Context(), storetest.PostgresDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	f, src := retail(b)
	svc, err := bot.NewService(b.Context(), bot.ServiceConfig{Store: st, Logger: zerolog.Nop(), Clock: func() time.Time { return now }},
		[]bot.BusinessConfig{{ID: "acme", Flow: f, Source: src, Senders: []string{"15550001111"}}})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1000
	wording := "Yes, send me updates about your orders from Acme Outfitters on WhatsApp."
	n := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		var file strings.Builder
		file.WriteString("customer,action,topic,source,wording,consented_at\n")
		for range rows {
			n++
			fmt.Fprintf(&file, "+1415%07d,opt_in,order_updates,web,\"%s\",2026-03-01T12:00:00Z\n", n, wording)
		}
		records, err := consentimport.ParseCSV(strings.NewReader(file.String()), consentimport.MaxRows)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, err := consentimport.Import(b.Context(), svc, f, "acme", records, now)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Counts[consentimport.Recorded] != rows {
			b.Fatalf("recorded %v, want %d", rep.Counts, rows)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
