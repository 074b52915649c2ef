package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// checkTimeout bounds each readiness check.
const checkTimeout = time.Second

// pinger is a store that answers a ping.
type pinger interface {
	Ping(ctx context.Context) error
}

// readiness answers /readyz: serve is ready when the store answers a ping
// within a second, NATS is connected, the streams exist, the engine's
// consumer is running, and serve is not draining.
type readiness struct {
	store    pinger
	nc       *nats.Conn
	js       jetstream.JetStream
	streams  []string
	consumer func() bool // whether the engine's consumer is running
	metrics  *metrics
	draining atomic.Bool
}

// check runs the checks at once and returns the failing ones, by name.
func (r *readiness) check(ctx context.Context) map[string]string {
	failing := map[string]string{}
	var mu sync.Mutex
	fail := func(name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		failing[name] = err.Error()
	}
	if r.draining.Load() {
		fail("draining", errors.New("serve is shutting down"))
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := r.pingStore(ctx); err != nil {
			fail("store", err)
		}
	}()
	go func() {
		defer wg.Done()
		if r.nc == nil || !r.nc.IsConnected() {
			status := "no connection"
			if r.nc != nil {
				status = r.nc.Status().String()
			}
			fail("nats", fmt.Errorf("not connected (%s)", status))
			fail("streams", errors.New("unknown: NATS is not connected"))
			return
		}
		for _, name := range r.streams {
			sctx, cancel := context.WithTimeout(ctx, checkTimeout)
			_, err := r.js.Stream(sctx, name)
			cancel()
			if err != nil {
				fail("streams", fmt.Errorf("stream %s: %w", name, err))
				return
			}
		}
	}()
	if r.consumer == nil || !r.consumer() {
		fail("consumer", errors.New("the engine's consumer is not running"))
	}
	wg.Wait()
	return failing
}

// pingStore pings the store within checkTimeout and records it.
func (r *readiness) pingStore(ctx context.Context) error {
	if r.store == nil {
		return errors.New("no store")
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	start := time.Now()
	err := r.store.Ping(ctx)
	r.metrics.storePinged(time.Since(start), err)
	if err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// watchStore pings the store every interval until ctx is done, so the
// store metrics are current without anyone asking /readyz.
func (r *readiness) watchStore(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		_ = r.pingStore(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// readyBody is /readyz's answer.
type readyBody struct {
	Ready   bool              `json:"ready"`
	Failing map[string]string `json:"failing,omitempty"` // check name: why it fails
	Checks  []string          `json:"checks"`            // every check run
}

// ServeHTTP answers 200 when every check passes, 503 naming the failing
// checks otherwise.
func (r *readiness) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	failing := r.check(req.Context())
	body := readyBody{Ready: len(failing) == 0, Checks: []string{"consumer", "draining", "nats", "store", "streams"}}
	if len(failing) > 0 {
		body.Failing = failing
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !body.Ready {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(body)
}

// healthRoutes adds /healthz (the process is alive: 204) and, when ready
// is set, /readyz to mux.
func healthRoutes(mux *http.ServeMux, ready http.Handler) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	if ready != nil {
		mux.Handle("GET /readyz", ready)
	}
}

// metricsHandler serves /metrics, /healthz and, when ready is set, /readyz.
func metricsHandler(reg *prometheus.Registry, ready http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	healthRoutes(mux, ready)
	return mux
}
