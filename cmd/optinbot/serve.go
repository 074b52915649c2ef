package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/optinbot/optinbot/adapters/consenthook"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newServeCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "serve --config FILE",
		Short: "Run the engine against the NATS server and database of a config file",
		Long: `serve is the production mode: it consumes inbound messages and send
requests from NATS JetStream, runs each customer's conversation, and
publishes replies, consent changes and send decisions through the outbox.
With api.listen set it also serves the business API (docs/api.md); a
business with a consent_webhook gets every consent change POSTed to it,
signed (docs/api.md, "Consent webhooks"). It records the providers'
quality updates of the businesses' numbers and alerts on a downgrade
(docs/quality.md). With metrics.listen set it serves /metrics, /healthz
and /readyz there. See config.example.yaml for every setting and
docs/nats.md for the subjects.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if configPath == "" {
				return errors.New("serve needs --config FILE (see config.example.yaml)")
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			level, _ := zerolog.ParseLevel(cfg.LogLevel) // Validate checked it
			log := zerolog.New(os.Stderr).Level(level).With().Timestamp().Logger()
			return serve(ctx, cfg, log, prometheus.NewRegistry())
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file (required)")
	return cmd
}

// serve runs the engine until ctx is done.
func serve(ctx context.Context, cfg *Config, log zerolog.Logger, reg *prometheus.Registry) error {
	businesses, err := cfg.BusinessConfigs()
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.Store.DSN)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	key, err := suppressionKey(ctx, cfg, st)
	if err != nil {
		return err
	}
	if cfg.Privacy.SuppressionKey == "" {
		log.Warn().Msg("privacy.suppression_key is not set: using the key generated in the database; set one outside it")
	}

	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)
	nc, js, err := connectNATS(cfg, log, m)
	if err != nil {
		return err
	}
	defer nc.Drain()

	eng, err := newEngine(ctx, js, st, businesses, engineOptions{
		Prefix: cfg.NATS.SubjectPrefix, Workers: cfg.NATS.Workers, DuplicateWindow: cfg.NATS.DuplicateWindow,
		Retention: cfg.Retention.ProcessedIDs, Observer: m, SuppressionKey: key,
	}, log)
	if err != nil {
		return err
	}
	adapters, err := newAdapterRuntime(cfg, js, serviceGuard{eng.service}, "", log, m)
	if err != nil {
		return err
	}
	hook, err := newConsentHook(ctx, cfg, js, log, m)
	if err != nil {
		return err
	}
	apiSrv, err := newAPIServer(cfg, st, eng.service, log)
	if err != nil {
		return err
	}
	quality, err := newQualityWatcher(ctx, js, st, cfg, m, log)
	if err != nil {
		return err
	}
	ready := &readiness{store: st, nc: nc, js: js, streams: []string{eng.streams.In, eng.streams.Out},
		consumer: eng.consuming.Load, metrics: m}
	adapters.ready(ready)
	stopMetrics := serveMetrics(cfg, reg, ready, log)
	defer stopMetrics()
	log.Info().Int("businesses", len(businesses)).Str("nats", cfg.NATS.URL).Str("prefix", cfg.NATS.SubjectPrefix).
		Str("in", eng.streams.In).Str("out", eng.streams.Out).Msg("optinbot serving")
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// Draining: /readyz answers 503 before anything stops.
		<-gctx.Done()
		ready.draining.Store(true)
		return nil
	})
	g.Go(func() error { ready.watchStore(gctx, 15*time.Second); return nil })
	g.Go(func() error { return quality.run(gctx) })
	g.Go(func() error { return eng.run(gctx) })
	g.Go(func() error { return adapters.run(gctx) })
	if apiSrv != nil {
		g.Go(func() error { return apiSrv.run(gctx) })
	}
	if hook != nil {
		g.Go(func() error { return hook.Run(gctx) })
	}
	err = g.Wait()
	log.Info().Msg("optinbot stopped")
	return err
}

// newConsentHook builds the delivery of consent changes to the businesses'
// webhooks; nil when no business has one.
func newConsentHook(ctx context.Context, cfg *Config, js jetstream.JetStream, log zerolog.Logger, m *metrics) (*consenthook.Hook, error) {
	targets, err := cfg.consentWebhooks()
	if err != nil || len(targets) == 0 {
		return nil, err
	}
	hook, err := consenthook.New(ctx, js, consenthook.Config{Prefix: cfg.NATS.SubjectPrefix, Targets: targets,
		Logger: log, Observer: m})
	if err != nil {
		return nil, err
	}
	log.Info().Int("businesses", len(targets)).Msg("consent changes are posted to the businesses' webhooks")
	return hook, nil
}

// connectNATS connects to the configured NATS server, reconnecting forever;
// m, if set, follows the connection's state.
func connectNATS(cfg *Config, log zerolog.Logger, m *metrics) (*nats.Conn, jetstream.JetStream, error) {
	opts := []nats.Option{nats.Name("optinbot"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			m.natsConnected(false, false)
			log.Warn().Err(err).Msg("NATS disconnected")
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			m.natsConnected(true, true)
			log.Info().Msg("NATS reconnected")
		}),
		nats.ClosedHandler(func(*nats.Conn) { m.natsConnected(false, false) })}
	if cfg.NATS.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.NATS.CredsFile))
	}
	if cfg.NATS.Token != "" {
		opts = append(opts, nats.Token(cfg.NATS.Token))
	}
	nc, err := nats.Connect(cfg.NATS.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to NATS at %s: %w", cfg.NATS.URL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("JetStream at %s: %w", cfg.NATS.URL, err)
	}
	m.natsConnected(true, false)
	return nc, js, nil
}

// serveMetrics serves Prometheus metrics on /metrics, with /healthz and,
// when ready is set, /readyz, when configured; the returned function stops
// the server.
func serveMetrics(cfg *Config, reg *prometheus.Registry, ready http.Handler, log zerolog.Logger) func() {
	if cfg.Metrics.Listen == "" {
		return func() {}
	}
	srv := &http.Server{Addr: cfg.Metrics.Listen, Handler: metricsHandler(reg, ready), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error().Err(err).Str("listen", cfg.Metrics.Listen).Msg("metrics server stopped")
		}
	}()
	return func() { srv.Close() }
}
