package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/natsbus/natstest"
)

// BenchmarkWebhook measures the webhook over loopback: a signed body with
// one inbound message (a distinct id each, so nothing is deduplicated)
// POSTed to an httptest server, verified, parsed, published to an embedded
// JetStream server (file storage) with its PubAck awaited, answered 200.
// "serial" is one client at a time; "parallel" 32 concurrent clients. It
// reports requests per second and the p50 and p99 latency seen by the
// client.
//
//	go test -run '^$' -bench Webhook -benchtime 5000x ./adapters/webhook
func BenchmarkWebhook(b *testing.B) {
	for _, clients := range []int{1, 32} {
		name := "serial"
		if clients > 1 {
			name = fmt.Sprintf("parallel-%d", clients)
		}
		b.Run(name, func(b *testing.B) { benchWebhook(b, clients) })
	}
}

func benchWebhook(b *testing.B, clients int) {
	srv := natstest.RunServer(b)
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{Prefix: "bench"}); err != nil {
		b.Fatal(err)
	}
	pub, err := natsbus.NewPublisher(js, "bench")
	if err != nil {
		b.Fatal(err)
	}
	p := &testProvider{secret: []byte("s3cret")}
	ts := httptest.NewServer(NewHandler(p, pub, Config{Logger: zerolog.Nop()}))
	defer ts.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	defer client.CloseIdleConnections()

	var next atomic.Int64
	post := func() (time.Duration, error) {
		id := next.Add(1)
		body := body(msg(fmt.Sprintf("wamid.bench%d", id), "+14155550100", "Where is my parcel?"))
		req, _ := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(body))
		req.Header.Set("X-Sig", p.sign(body))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("status %d", resp.StatusCode)
		}
		return time.Since(start), nil
	}
	for range 50 { // warm up connections and the stream
		if _, err := post(); err != nil {
			b.Fatal(err)
		}
	}

	latencies := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan struct{}, b.N)
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/clients+1)
			for range work {
				d, err := post()
				if err != nil {
					b.Error(err)
					return
				}
				local = append(local, d)
			}
			mu.Lock()
			latencies = append(latencies, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	pct := func(q float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		return float64(latencies[int(q*float64(len(latencies)-1))].Microseconds())
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}
