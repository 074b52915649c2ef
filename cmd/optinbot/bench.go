package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/flowtests"
	"github.com/optinbot/optinbot/store/sqlstore"
)

// benchScript is what every simulated customer says, in order, each message
// sent once the bot answered the one before: the retail flow's greeting,
// the opt-in, a question while subscribed, the opt-out.
var benchScript = []string{"Hi", "YES", "where is my parcel?", "STOP"}

// benchSender is the business address the simulated customers write to.
const benchSender = "bench"

// benchPostgresDSN is the database the bench creates its schema in by default.
const benchPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// benchConfig are the knobs of optinbot bench.
type benchConfig struct {
	Customers  int           // customers talking at once
	Businesses int           // businesses the customers are spread over, each its own sender and ledger chain
	Messages   int           // inbound messages to send in all (whole scripts); 0 with Duration 0 means one script per customer
	Duration   time.Duration // stop starting scripts after this long; 0 means no limit
	Rate       float64       // inbound messages per second; 0 means as fast as the engine answers
	Drain      time.Duration // how long to wait for the last replies once no more are sent
	Store      string        // "" a fresh schema in PGBase; "sqlite" a temporary SQLite file; else a DSN
	PGBase     string        // the database the fresh schema is created in
	KeepSchema bool
	NATS       string // "" an embedded server
	Prefix     string
	Workers    int // the engine's consumer workers
	Publishers int // goroutines publishing inbound messages
	CPUProfile string
	Chart      string
	// Progress is where progress goes: a bar when it is a terminal, a
	// line every ProgressEvery otherwise; nil for none.
	Progress      io.Writer
	ProgressEvery time.Duration
	Log           zerolog.Logger
}

// benchLatency summarises a latency distribution, in milliseconds.
type benchLatency struct {
	Count int     `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// benchReport is what optinbot bench prints.
type benchReport struct {
	Store     string `json:"store"`
	NATS      string `json:"nats"`
	Workers   int    `json:"workers"`
	Business  int    `json:"businesses"`
	CPUs      int    `json:"cpus"`
	Customers int    `json:"customers"` // at once
	Scripts   int    `json:"scripts"`   // customers who started the script
	Finished  int    `json:"finished"`  // customers who went through it: every reply and the opt-out
	Sent      int    `json:"sent"`      // inbound messages published
	Replies   int    `json:"replies"`   // outbound replies matched to an inbound message
	Consent   int    `json:"consent_changes"`
	Ledger    int    `json:"ledger_events"` // the run's opt-outs found in the ledger

	Seconds      float64 `json:"seconds"`         // first message published to last reply read
	MsgsPerSec   float64 `json:"msgs_per_s"`      // inbound messages answered per second over Seconds
	PeakPerSec   int     `json:"peak_msgs_per_s"` // the best whole second
	MedianPerSec int     `json:"median_msgs_per_s"`

	Reply    benchLatency `json:"inbound_to_outbound"`
	StopToOK benchLatency `json:"stop_to_consent_change"`

	CPUUserSec float64 `json:"cpu_user_s"`
	CPUSysSec  float64 `json:"cpu_sys_s"`
	CPUPerMsg  float64 `json:"cpu_us_per_msg"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`

	PublishErrors int `json:"publish_errors"`
	Lost          int `json:"lost_replies"`
	Duplicates    int `json:"duplicate_replies"`
	OutOfOrder    int `json:"out_of_order_replies"`
	Unexpected    int `json:"unexpected_replies"`
	MissingOptOut int `json:"stops_without_consent_change"`
	MissingLedger int `json:"stops_not_in_ledger"`
	ChainBreaks   int `json:"ledger_chain_breaks"`
	Violated      int `json:"violations"`

	timeline []benchSecond
	replyLat []time.Duration
}

// benchSecond is one second of the run, for the chart.
type benchSecond struct {
	Replies  int
	P50, P99 time.Duration
}

// Violations is the number of correctness problems the run found.
func (r *benchReport) Violations() int {
	return r.PublishErrors + r.Lost + r.Duplicates + r.OutOfOrder + r.Unexpected + r.MissingOptOut + r.MissingLedger + r.ChainBreaks
}

func newBenchCmd() *cobra.Command {
	cfg := benchConfig{}
	var asJSON bool
	var logLevel string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load the whole engine through NATS and the store with simulated customers, and measure",
		Long: `bench runs the engine in this process, as serve does (durable consumer,
store, outbox, relay), against an embedded NATS server or --nats, and a
fresh PostgreSQL schema in the local test database (dropped afterwards),
--store sqlite or any store DSN. --customers customers talk to the shipped
retail flow at once, each saying "Hi", "YES", a question and "STOP", every
message published on the inbound stream as a webhook adapter does once the
bot answered the previous one; when a customer is done a new one takes its
place until --messages are sent or --duration is over.

It reports inbound messages answered per second, the inbound→outbound
latency (message published to its reply read from the outbound stream),
the STOP→consent-change latency (STOP published to the opted_out change
read from the outbound stream: the relay publishes it only once the ledger
event is committed), this process's CPU time and peak RSS (the embedded NATS
server included, PostgreSQL not), and checks that every customer got every
reply exactly once and in order and that every STOP is in the ledger: any
violation exits with status 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level, err := zerolog.ParseLevel(logLevel)
			if err != nil {
				return fmt.Errorf("--log-level %q: %w", logLevel, err)
			}
			cfg.Log = zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
			cfg.Progress = cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := runBench(ctx, cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rep); err != nil {
					return err
				}
			} else {
				printBenchReport(out, rep)
			}
			if n := rep.Violations(); n > 0 {
				return &exitError{code: 1, err: fmt.Errorf("bench: %d correctness violations", n)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Customers, "customers", 10000, "customers talking at once")
	f.IntVar(&cfg.Businesses, "businesses", 1, "businesses the customers are spread over (each has its own sender and consent ledger chain)")
	f.IntVar(&cfg.Messages, "messages", 0, "inbound messages to send in all, in whole scripts of 4 (default: one script per customer, unless --duration)")
	f.DurationVar(&cfg.Duration, "duration", 0, "start new customers for this long, then wait for the last replies")
	f.Float64Var(&cfg.Rate, "rate", 0, "inbound messages per second to aim at (default: as fast as the engine answers)")
	f.DurationVar(&cfg.Drain, "drain", time.Minute, "how long to wait for the last replies before counting them lost")
	f.StringVar(&cfg.Store, "store", "", `store DSN (default: a fresh schema in --pg, dropped afterwards); "sqlite" for a temporary SQLite file`)
	f.StringVar(&cfg.PGBase, "pg", benchPostgresDSN, "the PostgreSQL database to create the fresh schema in")
	f.BoolVar(&cfg.KeepSchema, "keep-schema", false, "keep the fresh schema after the run")
	f.StringVar(&cfg.NATS, "nats", "", "NATS URL (default: an embedded server)")
	f.StringVar(&cfg.Prefix, "prefix", "optinbotbench", "subject prefix of the run's streams")
	f.IntVar(&cfg.Workers, "workers", 32, "the engine's consumer workers")
	f.IntVar(&cfg.Publishers, "publishers", 64, "goroutines publishing inbound messages")
	f.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to FILE")
	f.StringVar(&cfg.Chart, "chart", "", "write a latency chart to FILE.html (self-contained, inline SVG)")
	f.DurationVar(&cfg.ProgressEvery, "progress-every", 5*time.Second, "without a terminal, print a progress line this often")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.StringVar(&logLevel, "log-level", "error", "engine log level on stderr")
	return cmd
}

// benchEnv is the engine under load and what it runs on.
type benchEnv struct {
	storeName, natsName string
	ns                  *server.Server
	nc                  *nats.Conn
	js                  jetstream.JetStream
	store               *sqlstore.Store
	engine              *engine
	cleanup             []func()
}

func (e *benchEnv) close() {
	for i := len(e.cleanup) - 1; i >= 0; i-- {
		e.cleanup[i]()
	}
}

func startBenchEnv(ctx context.Context, cfg benchConfig) (_ *benchEnv, err error) {
	e := &benchEnv{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	tmp, err := os.MkdirTemp("", "optinbot-bench-")
	if err != nil {
		return nil, fmt.Errorf("bench: temporary directory: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { os.RemoveAll(tmp) })

	dsn := cfg.Store
	switch dsn {
	case "":
		var drop func()
		if dsn, drop, err = benchSchema(ctx, cfg.PGBase, cfg.KeepSchema); err != nil {
			return nil, err
		}
		e.cleanup = append(e.cleanup, drop)
		e.storeName = "postgres (fresh schema)"
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(tmp, "bench.db")
		e.storeName = "sqlite (temporary file)"
	default:
		e.storeName = "given DSN"
	}
	if e.store, err = sqlstore.Open(ctx, dsn); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	e.cleanup = append(e.cleanup, func() { e.store.Close() })

	if cfg.NATS == "" {
		if e.ns, err = embeddedNATS(filepath.Join(tmp, "jetstream")); err != nil {
			return nil, err
		}
		e.cleanup = append(e.cleanup, func() { e.ns.Shutdown(); e.ns.WaitForShutdown() })
		if e.nc, err = nats.Connect("", nats.InProcessServer(e.ns), nats.Name("optinbot-bench")); err != nil {
			return nil, fmt.Errorf("bench: connect to the embedded NATS server: %w", err)
		}
		e.natsName = "embedded"
	} else {
		if e.nc, err = nats.Connect(cfg.NATS, nats.Name("optinbot-bench")); err != nil {
			return nil, fmt.Errorf("bench: connect to NATS at %s: %w", cfg.NATS, err)
		}
		e.natsName = "external"
	}
	e.cleanup = append(e.cleanup, e.nc.Close)
	if e.js, err = jetstream.New(e.nc); err != nil {
		return nil, fmt.Errorf("bench: JetStream: %w", err)
	}
	if cfg.NATS != "" {
		// A previous run's streams would hold its messages: start empty.
		in, out := natsbus.StreamNames(cfg.Prefix)
		for _, s := range []string{in, out} {
			if err := e.js.DeleteStream(ctx, s); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
				return nil, fmt.Errorf("bench: delete the previous run's stream %s: %w", s, err)
			}
		}
	}

	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		return nil, fmt.Errorf("bench: read the shipped flow: %w", err)
	}
	flow, err := flows.Load("flows/examples/"+examples.Retail, src)
	if err != nil {
		return nil, fmt.Errorf("bench: the shipped flow does not load: %w", err)
	}
	var businesses []bot.BusinessConfig
	for i := range cfg.Businesses {
		businesses = append(businesses, bot.BusinessConfig{ID: benchBusiness(flowtests.BusinessSlug(flow), i), Flow: flow, Source: src,
			Senders: []string{benchSenderOf(i)}})
	}
	key, err := suppressionKey(ctx, nil, e.store)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if e.engine, err = newEngine(ctx, e.js, e.store, businesses, engineOptions{
		Prefix: cfg.Prefix, Workers: cfg.Workers, SuppressionKey: key,
	}, cfg.Log); err != nil {
		return nil, fmt.Errorf("bench: start the engine: %w", err)
	}
	return e, nil
}

// benchBusiness is the id of the i-th business of the run.
func benchBusiness(slug bot.BusinessID, i int) bot.BusinessID {
	if i == 0 {
		return slug
	}
	return slug + bot.BusinessID("-"+strconv.Itoa(i))
}

// benchSenderOf is the sender address of the i-th business of the run.
func benchSenderOf(i int) string {
	if i == 0 {
		return benchSender
	}
	return benchSender + strconv.Itoa(i)
}

// benchSchema creates a fresh schema in the database at base and returns a
// DSN using it, and a function dropping it (unless keep).
func benchSchema(ctx context.Context, base string, keep bool) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", nil, errors.New("bench: --pg is not a postgres:// URL")
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		return "", nil, fmt.Errorf("bench: PostgreSQL at %s: %w", u.Redacted(), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "optinbot_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("bench: create schema %s in PostgreSQL at %s: %w", schema, u.Redacted(), err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		defer admin.Close()
		if keep {
			return
		}
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	}
	return u.String(), drop, nil
}

// benchCustomer is one simulated customer going through benchScript.
type benchCustomer struct {
	id      bot.CustomerID
	num     int
	next    int // the step whose reply is awaited, len(benchScript) when done
	sentAt  [4]time.Time
	replies [4]int
	optOut  bool
	failed  bool // a message could not be published
}

// benchRun is the load generator's state.
type benchRun struct {
	cfg   benchConfig
	pub   *natsbus.Publisher
	start time.Time

	mu        sync.Mutex
	customers map[int]*benchCustomer
	started   int // scripts started
	// pending counts what the run still waits for: customers queued to
	// speak, messages sent and not answered, STOPs sent and not seen as
	// an opt-out. The run is over when nothing is pending and no customer
	// may start.
	pending    int
	finished   int  // scripts finished
	stopping   bool // no more messages are sent
	sent       int
	replies    int
	consent    int
	lastReply  time.Time
	replyLat   []time.Duration
	replyAt    []time.Duration // since start, parallel to replyLat
	stopLat    []time.Duration
	pubErrs    int
	dups       int
	outOfOrder int
	unexpected int

	ready chan *benchCustomer
	idle  chan struct{} // closed when nothing is pending and no customer may start
}

func runBench(ctx context.Context, cfg benchConfig) (*benchReport, error) {
	if cfg.Customers <= 0 {
		return nil, errors.New("bench: --customers must be at least 1")
	}
	if cfg.Businesses <= 0 {
		cfg.Businesses = 1
	}
	if cfg.Publishers <= 0 {
		cfg.Publishers = 1
	}
	if cfg.Messages <= 0 && cfg.Duration <= 0 {
		cfg.Messages = cfg.Customers * len(benchScript)
	}
	if cfg.Messages > 0 && cfg.Messages < len(benchScript) {
		return nil, fmt.Errorf("bench: --messages must be at least %d, one script", len(benchScript))
	}
	if cfg.Drain <= 0 {
		cfg.Drain = time.Minute
	}
	env, err := startBenchEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer env.close()

	r := &benchRun{
		cfg: cfg, customers: map[int]*benchCustomer{},
		ready: make(chan *benchCustomer, cfg.Customers), idle: make(chan struct{}),
	}
	if r.pub, err = natsbus.NewPublisher(env.js, cfg.Prefix); err != nil {
		return nil, err
	}
	engCtx, cancelEngine := context.WithCancel(context.Background())
	engDone := make(chan error, 1)
	go func() { engDone <- env.engine.run(engCtx) }()
	defer func() { cancelEngine(); <-engDone }()

	subjects := env.engine.streams.Subjects
	cons, err := env.js.OrderedConsumer(ctx, env.engine.streams.Out, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjects.All(envelope.SubjectOutbound), subjects.All(envelope.SubjectConsent)},
	})
	if err != nil {
		return nil, fmt.Errorf("bench: read %s: %w", env.engine.streams.Out, err)
	}
	cc, err := cons.Consume(r.handle)
	if err != nil {
		return nil, fmt.Errorf("bench: read %s: %w", env.engine.streams.Out, err)
	}
	defer cc.Stop()

	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("bench: --cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	var before syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var limiter *rate.Limiter
	if cfg.Rate > 0 {
		limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(cfg.Rate/100)))
	}
	r.start = time.Now()
	var wg sync.WaitGroup
	for range cfg.Publishers {
		wg.Go(func() { r.publishLoop(loadCtx, limiter) })
	}
	r.mu.Lock()
	for range cfg.Customers {
		if !r.startScriptLocked() {
			break
		}
	}
	r.mu.Unlock()
	stopProgress := r.progress(cfg)

	var deadline <-chan time.Time
	if cfg.Duration > 0 {
		t := time.NewTimer(cfg.Duration)
		defer t.Stop()
		deadline = t.C
	}
	var interrupted error
	select {
	case <-r.idle:
	case <-deadline:
	case <-ctx.Done():
		interrupted = ctx.Err()
	}
	r.mu.Lock()
	r.stopping = true
	r.checkIdleLocked()
	r.mu.Unlock()
	if interrupted == nil {
		drain := time.NewTimer(cfg.Drain)
		select {
		case <-r.idle:
		case <-drain.C:
		case <-ctx.Done():
			interrupted = ctx.Err()
		}
		drain.Stop()
	}
	stopLoad()
	wg.Wait()
	stopProgress()
	pprof.StopCPUProfile()
	var after syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	if interrupted != nil {
		return nil, fmt.Errorf("bench: interrupted: %w", interrupted)
	}
	cc.Stop()

	rep := r.report(cfg, env)
	rep.CPUUserSec = tvSeconds(after.Utime) - tvSeconds(before.Utime)
	rep.CPUSysSec = tvSeconds(after.Stime) - tvSeconds(before.Stime)
	if rep.Replies > 0 {
		rep.CPUPerMsg = (rep.CPUUserSec + rep.CPUSysSec) / float64(rep.Replies) * 1e6
	}
	rep.PeakRSSMB = float64(after.Maxrss) / 1024 // kilobytes on Linux
	if rep.Ledger, rep.MissingLedger, rep.ChainBreaks, err = r.checkLedger(ctx, env.store); err != nil {
		return nil, err
	}
	rep.Violated = rep.Violations()
	if cfg.Chart != "" {
		if err := writeBenchChart(cfg.Chart, rep); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// startScriptLocked starts a new customer if the budget allows.
func (r *benchRun) startScriptLocked() bool {
	if r.stopping || (r.cfg.Messages > 0 && (r.started+1)*len(benchScript) > r.cfg.Messages) {
		return false
	}
	n := r.started
	r.started++
	r.pending++
	c := &benchCustomer{id: bot.CustomerID("+1" + strconv.Itoa(2000000000+n)), num: n}
	r.customers[n] = c
	r.ready <- c
	return true
}

// checkIdleLocked ends the run when nothing is pending: no customer may
// start (every start is pending until its script finishes).
func (r *benchRun) checkIdleLocked() {
	if r.pending > 0 {
		return
	}
	select {
	case <-r.idle:
	default:
		close(r.idle)
	}
}

func benchMsgID(num, step int) string {
	return "bench-" + strconv.Itoa(num) + "-" + strconv.Itoa(step)
}

func parseBenchMsgID(id string) (num, step int, ok bool) {
	rest, found := strings.CutPrefix(id, "bench-")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, "-")
	if !found {
		return 0, 0, false
	}
	num, err1 := strconv.Atoi(a)
	step, err2 := strconv.Atoi(b)
	return num, step, err1 == nil && err2 == nil && step >= 0 && step < len(benchScript)
}

// publishLoop publishes each ready customer's next message, as a provider
// adapter publishes a webhook's message.
func (r *benchRun) publishLoop(ctx context.Context, limiter *rate.Limiter) {
	for {
		var c *benchCustomer
		select {
		case <-ctx.Done():
			return
		case c = <-r.ready:
		}
		if limiter != nil {
			if err := limiter.Wait(ctx); err != nil {
				return
			}
		}
		r.mu.Lock()
		if r.stopping {
			r.pending-- // the customer says no more
			r.checkIdleLocked()
			r.mu.Unlock()
			continue
		}
		step := c.next
		now := time.Now()
		c.sentAt[step] = now
		r.sent++
		stop := step == len(benchScript)-1
		if stop {
			r.pending++ // the opt-out, as well as the reply
		}
		r.mu.Unlock()
		msg := envelope.InboundMessage{
			ID: benchMsgID(c.num, step), Provider: "bench", Sender: benchSenderOf(c.num % r.cfg.Businesses), From: c.id,
			Timestamp: now.UTC(), Text: benchScript[step],
		}
		if _, err := r.pub.Inbound(ctx, msg); err != nil {
			if ctx.Err() != nil {
				return
			}
			r.cfg.Log.Warn().Err(err).Msg("bench: publish failed")
			r.mu.Lock()
			r.pubErrs++
			c.failed = true
			r.pending-- // no reply will come
			if stop {
				r.pending-- // nor an opt-out
			}
			r.checkIdleLocked()
			r.mu.Unlock()
		}
	}
}

// handle reads the outbound stream: replies and consent changes.
func (r *benchRun) handle(m jetstream.Msg) {
	now := time.Now()
	v, err := envelope.Decode(m.Data())
	if err != nil {
		r.mu.Lock()
		r.unexpected++
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch v := v.(type) {
	case envelope.OutboundMessage:
		num, step, ok := parseBenchMsgID(v.InReplyTo)
		c := r.customers[num]
		if !ok || c == nil || c.id != v.To {
			r.unexpected++
			return
		}
		c.replies[step]++
		switch {
		case c.replies[step] > 1:
			r.dups++
			return
		case step != c.next:
			r.outOfOrder++
			return
		}
		r.replies++
		r.lastReply = now
		r.replyLat = append(r.replyLat, now.Sub(c.sentAt[step]))
		r.replyAt = append(r.replyAt, now.Sub(r.start))
		c.next++
		if c.next < len(benchScript) && !r.stopping {
			r.ready <- c // pending: the reply turns into the next message
			return
		}
		r.pending--
		r.finishLocked(c)
	case envelope.ConsentChange:
		r.consent++
		if v.Status != bot.OptedOut {
			return
		}
		num, step, ok := parseBenchMsgID(v.InboundID)
		c := r.customers[num]
		if !ok || c == nil || c.id != v.Customer || step != len(benchScript)-1 || c.optOut {
			r.unexpected++
			return
		}
		c.optOut = true
		r.stopLat = append(r.stopLat, now.Sub(c.sentAt[step]))
		r.pending--
		r.finishLocked(c)
	}
}

// finishLocked ends a customer's script once both the last reply and the
// opt-out arrived, and starts the next customer in its place.
func (r *benchRun) finishLocked(c *benchCustomer) {
	if c.next == len(benchScript) && c.optOut {
		r.finished++
		r.startScriptLocked()
	}
	r.checkIdleLocked()
}

// progress shows the run's progress until the returned function is called.
func (r *benchRun) progress(cfg benchConfig) func() {
	if cfg.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	counts := func() (sent, replies int) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.sent, r.replies
	}
	total := int64(-1)
	if cfg.Messages > 0 {
		total = int64(cfg.Messages)
	}
	if isTerminal(cfg.Progress) {
		bar := progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("replies"),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		go func() {
			defer close(finished)
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					_ = bar.Finish()
					return
				case <-t.C:
					_, replies := counts()
					_ = bar.Set64(int64(replies))
				}
			}
		}()
	} else {
		every := cfg.ProgressEvery
		if every <= 0 {
			every = 5 * time.Second
		}
		go func() {
			defer close(finished)
			t := time.NewTicker(every)
			defer t.Stop()
			lastReplies, last := 0, time.Now()
			for {
				select {
				case <-done:
					return
				case now := <-t.C:
					sent, replies := counts()
					fmt.Fprintf(cfg.Progress, "bench: %5.0fs sent %d, replies %d, %.0f msgs/s\n",
						now.Sub(r.start).Seconds(), sent, replies, float64(replies-lastReplies)/now.Sub(last).Seconds())
					lastReplies, last = replies, now
				}
			}
		}()
	}
	return func() { close(done); <-finished }
}

func (r *benchRun) report(cfg benchConfig, env *benchEnv) *benchReport {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &benchReport{
		Store: env.storeName, NATS: env.natsName, Workers: cfg.Workers, Business: cfg.Businesses, CPUs: runtime.GOMAXPROCS(0),
		Customers: cfg.Customers, Scripts: r.started, Finished: r.finished, Sent: r.sent, Replies: r.replies, Consent: r.consent,
		PublishErrors: r.pubErrs, Duplicates: r.dups, OutOfOrder: r.outOfOrder, Unexpected: r.unexpected,
	}
	for _, c := range r.customers {
		for step := range benchScript {
			if !c.sentAt[step].IsZero() && c.replies[step] == 0 && !(c.failed && step == c.next) {
				rep.Lost++
			}
		}
		if stop := len(benchScript) - 1; !c.sentAt[stop].IsZero() && !c.optOut && !(c.failed && c.next == stop) {
			rep.MissingOptOut++
		}
	}
	if r.replies > 0 {
		rep.Seconds = r.lastReply.Sub(r.start).Seconds()
		rep.MsgsPerSec = float64(r.replies) / rep.Seconds
	}
	rep.Reply = summarise(r.replyLat)
	rep.StopToOK = summarise(r.stopLat)
	rep.replyLat = r.replyLat
	// Per second: replies, p50, p99.
	var secs [][]time.Duration
	for i, at := range r.replyAt {
		s := int(at / time.Second)
		for len(secs) <= s {
			secs = append(secs, nil)
		}
		secs[s] = append(secs[s], r.replyLat[i])
	}
	var perSec []int
	for _, lat := range secs {
		sum := summarise(lat)
		rep.timeline = append(rep.timeline, benchSecond{Replies: len(lat),
			P50: time.Duration(sum.P50 * float64(time.Millisecond)), P99: time.Duration(sum.P99 * float64(time.Millisecond))})
		perSec = append(perSec, len(lat))
		rep.PeakPerSec = max(rep.PeakPerSec, len(lat))
	}
	if len(perSec) > 0 {
		mid := append([]int(nil), perSec...)
		if len(mid) > 2 {
			mid = mid[1 : len(mid)-1] // the first and last seconds are ramp-up and drain
		}
		slices.Sort(mid)
		rep.MedianPerSec = mid[len(mid)/2]
	}
	return rep
}

// checkLedger reads the ledger, checking its hash chains as it goes, and
// counts the run's opt-outs in it and the STOPs whose opt-out is missing.
func (r *benchRun) checkLedger(ctx context.Context, st *sqlstore.Store) (found, missing, breaks int, err error) {
	seen := map[int]bool{}
	var chains bot.ChainVerifier
	var after int64
	for {
		page, err := st.Ledger(ctx, after, 5000)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("bench: read the ledger: %w", err)
		}
		for _, e := range page {
			after = e.Seq
			if breaks == 0 {
				if err := chains.Add(e); err != nil {
					// Every later event of the business would break too: report the first.
					r.cfg.Log.Error().Err(err).Msg("bench: the ledger's hash chain is broken")
					breaks++
				}
			}
			if e.Event.Status != bot.OptedOut {
				continue
			}
			if num, step, ok := parseBenchMsgID(e.Event.InboundID); ok && step == len(benchScript)-1 {
				seen[num] = true
			}
		}
		if len(page) < 5000 {
			break
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for num, c := range r.customers {
		if stop := len(benchScript) - 1; c.sentAt[stop].IsZero() || (c.failed && c.next == stop) {
			continue // never said STOP
		}
		if seen[num] {
			found++
		} else {
			missing++
		}
	}
	return found, missing, breaks, nil
}

func summarise(lat []time.Duration) benchLatency {
	if len(lat) == 0 {
		return benchLatency{}
	}
	s := append([]time.Duration(nil), lat...)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	q := func(p float64) float64 {
		i := int(p*float64(len(s))+0.5) - 1
		return ms(s[min(max(i, 0), len(s)-1)])
	}
	return benchLatency{Count: len(s), Mean: ms(sum / time.Duration(len(s))),
		P50: q(0.50), P90: q(0.90), P99: q(0.99), P999: q(0.999), Max: ms(s[len(s)-1])}
}

func printBenchReport(w io.Writer, r *benchReport) {
	fmt.Fprintf(w, "store %s, NATS %s, %d workers, %d businesses, GOMAXPROCS %d\n", r.Store, r.NATS, r.Workers, r.Business, r.CPUs)
	fmt.Fprintf(w, "customers       %d at once, %d in all, %d through the script\n", r.Customers, r.Scripts, r.Finished)
	fmt.Fprintf(w, "messages        %d sent, %d replies, %d consent changes, %d opt-outs in the ledger\n", r.Sent, r.Replies, r.Consent, r.Ledger)
	fmt.Fprintf(w, "throughput      %.0f msgs/s over %.1fs (median second %d, best %d)\n", r.MsgsPerSec, r.Seconds, r.MedianPerSec, r.PeakPerSec)
	lat := func(name string, l benchLatency) {
		fmt.Fprintf(w, "%-15s p50 %.1fms  p90 %.1fms  p99 %.1fms  p99.9 %.1fms  max %.1fms  mean %.1fms (n=%d)\n",
			name, l.P50, l.P90, l.P99, l.P999, l.Max, l.Mean, l.Count)
	}
	lat("in→out", r.Reply)
	lat("STOP→consent", r.StopToOK)
	fmt.Fprintf(w, "CPU             %.1fs user + %.1fs sys (%.0fµs per message), peak RSS %.0f MB\n", r.CPUUserSec, r.CPUSysSec, r.CPUPerMsg, r.PeakRSSMB)
	fmt.Fprintf(w, "violations      %d (lost %d, duplicate %d, out of order %d, unexpected %d, publish errors %d, STOP without opt-out %d, STOP not in ledger %d, ledger chain breaks %d)\n",
		r.Violations(), r.Lost, r.Duplicates, r.OutOfOrder, r.Unexpected, r.PublishErrors, r.MissingOptOut, r.MissingLedger, r.ChainBreaks)
}
