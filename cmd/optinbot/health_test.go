package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
	"github.com/optinbot/optinbot/store/sqlstore"
	"github.com/optinbot/optinbot/store/storetest"
)

// getReady asks /readyz and returns the status and the failing checks.
func getReady(t *testing.T, base string) (int, map[string]string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body readyBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	if body.Ready != (resp.StatusCode == http.StatusOK) {
		t.Errorf("readyz: HTTP %d with ready %v", resp.StatusCode, body.Ready)
	}
	return resp.StatusCode, body.Failing
}

func TestReadyzSQLite(t *testing.T) {
	testReadyz(t, "sqlite:"+filepath.Join(t.TempDir(), "optinbot.db"))
}

func TestReadyzPostgres(t *testing.T) { testReadyz(t, storetest.PostgresDSN(t)) }

// testReadyz: /readyz answers 200 while the store answers, NATS is
// connected, the streams exist and the consumer runs, and 503 naming the
// failing check when the consumer stops, serve drains, the store is closed
// or the NATS server is shut down; /healthz answers 204 throughout.
func testReadyz(t *testing.T, dsn string) {
	ctx := context.Background()
	srv := natstest.RunServer(t)
	nc, js := natstest.Connect(t, srv.ClientURL())
	prefix := natstest.Prefix(t)
	streams, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	consuming := true
	reg := prometheus.NewRegistry()
	ready := &readiness{store: st, nc: nc, js: js, streams: []string{streams.In, streams.Out},
		consumer: func() bool { return consuming }, metrics: newMetrics(reg)}
	web := httptest.NewServer(metricsHandler(reg, ready))
	t.Cleanup(web.Close)
	healthy := func() {
		t.Helper()
		resp, err := http.Get(web.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("healthz: HTTP %d, want 204", resp.StatusCode)
		}
	}
	expect := func(what string, wantFailing ...string) {
		t.Helper()
		code, failing := getReady(t, web.URL)
		want := http.StatusOK
		if len(wantFailing) > 0 {
			want = http.StatusServiceUnavailable
		}
		if code != want || len(failing) != len(wantFailing) {
			t.Errorf("%s: HTTP %d failing %v, want %d failing %v", what, code, failing, want, wantFailing)
		}
		for _, name := range wantFailing {
			if failing[name] == "" {
				t.Errorf("%s: check %s does not fail: %v", what, name, failing)
			}
		}
		healthy()
	}

	expect("all up")
	consuming = false
	expect("consumer stopped", "consumer")
	consuming = true
	ready.draining.Store(true)
	expect("draining", "draining")
	ready.draining.Store(false)
	expect("up again")

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	expect("store closed", "store")
	body := scrape(t, web.URL+"/metrics")
	for _, want := range []string{"optinbot_store_up 0", "optinbot_store_ping_seconds_count"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	srv.Shutdown()
	srv.WaitForShutdown()
	waitUntil(t, func() bool { return !nc.IsConnected() }, "the client sees NATS gone")
	expect("store closed, NATS stopped", "store", "nats", "streams")
}
