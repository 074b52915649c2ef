package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
	"github.com/optinbot/optinbot/flows/examples"
	"github.com/optinbot/optinbot/flowtests"
	"github.com/optinbot/optinbot/store/sqlstore"
)

// demoSender is the business address the demo customer writes to.
const demoSender = "demo"

func newDemoCmd() *cobra.Command {
	var dbPath, as, logLevel string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Chat with the shipped retail flow: embedded NATS, SQLite, a terminal chat",
		Long: `demo runs the whole engine in this process: an embedded NATS server with
JetStream, a SQLite database (a fresh one in a temporary directory unless
--db names a file) and the shipped flow flows/examples/retail.yaml. You are
the customer: type a message, the bot answers; buttons show as numbered
choices and a digit picks one; consent changes print as they happen.
With piped input it prints "bot: …" and "consent: TOPIC=STATUS" lines and
exits at the end of input once every reply is out. Logs go to stderr.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			customer, err := bot.ParseCustomerID(as)
			if err != nil {
				return fmt.Errorf("--as: %w", err)
			}
			level, err := zerolog.ParseLevel(logLevel)
			if err != nil {
				return fmt.Errorf("--log-level %q: %w", logLevel, err)
			}
			log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(level).With().Timestamp().Logger()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			d, err := startDemo(ctx, dbPath, log)
			if err != nil {
				return err
			}
			defer d.close()
			c := &chat{transport: d.transportFor(customer), in: cmd.InOrStdin(), out: cmd.OutOrStdout(), interactive: isTerminal(cmd.InOrStdin())}
			return c.run(ctx)
		},
	}
	cmd.Flags().StringVar(&dbPath, "db", "", "SQLite file to keep the conversation and ledger in (default: a fresh temporary one)")
	cmd.Flags().StringVar(&as, "as", "+14155550100", "the customer you play: an E.164 number or a WhatsApp user id")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	return cmd
}

func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// demo is the engine running in-process on its embedded defaults.
type demo struct {
	ns      *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	store   *sqlstore.Store
	engine  *engine
	pub     *natsbus.Publisher
	tmpDir  string
	cancel  context.CancelFunc
	done    chan error
	out     *outboxReader
	counter atomic.Int64
}

func startDemo(ctx context.Context, dbPath string, log zerolog.Logger) (_ *demo, err error) {
	d := &demo{done: make(chan error, 1)}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if d.tmpDir, err = os.MkdirTemp("", "optinbot-demo-"); err != nil {
		return nil, fmt.Errorf("demo: temporary directory: %w", err)
	}
	if dbPath == "" {
		dbPath = filepath.Join(d.tmpDir, "optinbot.db")
	}
	if d.ns, err = embeddedNATS(filepath.Join(d.tmpDir, "jetstream")); err != nil {
		return nil, err
	}
	if d.nc, err = nats.Connect("", nats.InProcessServer(d.ns), nats.Name("optinbot-demo")); err != nil {
		return nil, fmt.Errorf("demo: connect to the embedded NATS server: %w", err)
	}
	if d.js, err = jetstream.New(d.nc); err != nil {
		return nil, fmt.Errorf("demo: JetStream: %w", err)
	}
	if d.store, err = sqlstore.Open(ctx, "sqlite:"+dbPath); err != nil {
		return nil, fmt.Errorf("demo: open SQLite %s: %w", dbPath, err)
	}
	src, err := examples.FS.ReadFile(examples.Retail)
	if err != nil {
		return nil, fmt.Errorf("demo: read the shipped flow: %w", err)
	}
	flow, err := flows.Load("flows/examples/"+examples.Retail, src)
	if err != nil {
		return nil, fmt.Errorf("demo: the shipped flow does not load: %w", err)
	}
	businesses := []bot.BusinessConfig{{ID: flowtests.BusinessSlug(flow), Flow: flow, Source: src, Senders: []string{demoSender}}}
	// The demo configures no key: the store generates one and keeps it.
	key, err := suppressionKey(ctx, nil, d.store)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if d.engine, err = newEngine(ctx, d.js, d.store, businesses, engineOptions{Workers: 4, SuppressionKey: key}, log); err != nil {
		return nil, fmt.Errorf("demo: start the engine: %w", err)
	}
	if d.pub, err = natsbus.NewPublisher(d.js, ""); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.done <- d.engine.run(runCtx) }()
	if d.out, err = newOutboxReader(ctx, d.js, d.engine.streams.Out); err != nil {
		return nil, err
	}
	return d, nil
}

// embeddedNATS starts an in-process NATS server with JetStream that listens
// on no port.
func embeddedNATS(storeDir string) (*server.Server, error) {
	ns, err := server.NewServer(&server.Options{
		ServerName: "optinbot-demo", DontListen: true, JetStream: true, StoreDir: storeDir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: embedded NATS server: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("demo: the embedded NATS server did not start within 10s")
	}
	return ns, nil
}

func (d *demo) close() {
	if d.cancel != nil {
		d.cancel()
		<-d.done
	}
	if d.out != nil {
		d.out.stop()
	}
	if d.nc != nil {
		d.nc.Close()
	}
	if d.ns != nil {
		d.ns.Shutdown()
		d.ns.WaitForShutdown()
	}
	if d.store != nil {
		d.store.Close()
	}
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
}

func (d *demo) transportFor(customer bot.CustomerID) chatTransport {
	return &demoTransport{d: d, customer: customer}
}

// demoTransport plays the provider adapter: it publishes the customer's
// message as an inbound envelope and reads what the engine published.
type demoTransport struct {
	d        *demo
	customer bot.CustomerID
}

func (t *demoTransport) Say(ctx context.Context, text string, button *envelope.Button) ([]chatEvent, error) {
	d := t.d
	msg := envelope.InboundMessage{
		ID:       "demo-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.FormatInt(d.counter.Add(1), 10),
		Provider: "demo", Sender: demoSender, From: t.customer, Timestamp: time.Now().UTC(), Text: text, Button: button,
	}
	ack, err := d.pub.Inbound(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("publish your message: %w", err)
	}
	// Drain: the engine committed the turn, the relay published its
	// effects, and the reader has everything up to the stream's end.
	if err := d.engine.waitProcessed(ctx, d.js, ack.Sequence); err != nil {
		return nil, err
	}
	if err := d.engine.relay.Flush(ctx); err != nil {
		return nil, fmt.Errorf("publish the replies: %w", err)
	}
	return d.out.until(ctx, t.customer)
}

// outboxReader follows the OUT stream with an ordered consumer.
type outboxReader struct {
	js     jetstream.JetStream
	stream string
	cc     jetstream.ConsumeContext

	mu     sync.Mutex
	seen   uint64 // stream sequence of the last message read
	events map[bot.CustomerID][]chatEvent
	wake   chan struct{}
}

func newOutboxReader(ctx context.Context, js jetstream.JetStream, stream string) (*outboxReader, error) {
	r := &outboxReader{js: js, stream: stream, events: map[bot.CustomerID][]chatEvent{}, wake: make(chan struct{}, 1)}
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, fmt.Errorf("demo: read %s: %w", stream, err)
	}
	if r.cc, err = cons.Consume(r.handle); err != nil {
		return nil, fmt.Errorf("demo: read %s: %w", stream, err)
	}
	return r, nil
}

func (r *outboxReader) handle(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	var ev chatEvent
	var customer bot.CustomerID
	switch v, err := envelope.Decode(m.Data()); {
	case err != nil:
	default:
		switch v := v.(type) {
		case envelope.OutboundMessage:
			ev.outbound, customer = &v, v.To
		case envelope.ConsentChange:
			ev.consent, customer = &v, v.Customer
		case envelope.SendDecision:
			ev.decision, customer = &v, v.Customer
		}
	}
	r.mu.Lock()
	r.seen = meta.Sequence.Stream
	if customer != "" {
		r.events[customer] = append(r.events[customer], ev)
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// until returns the customer's events once everything the stream holds now
// has been read.
func (r *outboxReader) until(ctx context.Context, customer bot.CustomerID) ([]chatEvent, error) {
	s, err := r.js.Stream(ctx, r.stream)
	if err != nil {
		return nil, fmt.Errorf("demo: %s: %w", r.stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("demo: %s info: %w", r.stream, err)
	}
	last := info.State.LastSeq
	for {
		r.mu.Lock()
		if r.seen >= last {
			evs := r.events[customer]
			delete(r.events, customer)
			r.mu.Unlock()
			return evs, nil
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.wake:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *outboxReader) stop() {
	if r.cc != nil {
		r.cc.Stop()
	}
}
