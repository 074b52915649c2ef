package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

// After a restart the rating gauge holds each number's last recorded
// rating, not nothing until Meta reports again.
func TestQualityRatingsRestored(t *testing.T) {
	ctx := context.Background()
	st, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "optinbot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for i, r := range []struct {
		sender string
		rating bot.QualityRating
	}{{"15550101234", bot.RatingGreen}, {"15550101234", bot.RatingYellow}, {"15550109999", bot.RatingUnknown}} {
		if _, _, err := st.RecordQuality(ctx, "q"+string(rune('1'+i)), "acme", r.sender, func(*bot.QualityEvent) bot.QualityEvent {
			return bot.QualityEvent{Provider: "meta", Rating: r.rating, ProviderAt: at, RecordedAt: at}
		}); err != nil {
			t.Fatal(err)
		}
	}
	m := newMetrics(prometheus.NewRegistry())
	w := &qualityWatcher{store: st, metrics: m}
	if err := w.restoreRatings(ctx, &Config{Business: []BusinessConfig{{ID: "acme"}, {ID: "globex"}}}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.qualityRating.WithLabelValues("acme", "15550101234")); got != 1 {
		t.Errorf("rating gauge %v, want 1 (yellow)", got)
	}
	if n := testutil.CollectAndCount(m.qualityRating); n != 1 {
		t.Errorf("%d rating series, want 1 (an unknown rating sets none)", n)
	}
}
