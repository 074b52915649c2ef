package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/store/sqlstore"
)

func newAdapterCmd() *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "adapter NAME --config FILE",
		Short: "Run one provider adapter alone: its webhook server and its sender",
		Long: `adapter runs one configured provider adapter (meta, dialog360 or twilio)
without the engine: its webhooks are verified, normalised and published to
NATS, and its outbound messages are sent through the provider's API after a
last check against the policy guard (read from the configured database).
Run the engine elsewhere with "optinbot serve".`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configPath == "" {
				return errors.New("adapter needs --config FILE (see config.example.yaml)")
			}
			cfg, err := LoadConfig(configPath)
			if err != nil {
				return fmt.Errorf("config %s:\n%w", configPath, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			level, _ := zerolog.ParseLevel(cfg.LogLevel)
			log := zerolog.New(os.Stderr).Level(level).With().Timestamp().Str("adapter", args[0]).Logger()
			return runAdapter(ctx, cfg, args[0], log, prometheus.NewRegistry(), nil)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the configuration file (required)")
	return cmd
}

// runAdapter runs one adapter until ctx is done. ready, if not nil, gets the
// webhook server's address once it listens.
func runAdapter(ctx context.Context, cfg *Config, name string, log zerolog.Logger, reg *prometheus.Registry, ready func(addr string)) error {
	businesses, err := cfg.BusinessConfigs()
	if err != nil {
		return err
	}
	st, err := sqlstore.Open(ctx, cfg.Store.DSN)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	nc, js, err := connectNATS(cfg, log, nil)
	if err != nil {
		return err
	}
	defer nc.Drain()
	if _, err := natsbus.EnsureStreams(ctx, js, natsbus.StreamConfig{Prefix: cfg.NATS.SubjectPrefix,
		InDuplicates: cfg.NATS.DuplicateWindow, OutDuplicates: cfg.NATS.DuplicateWindow}); err != nil {
		return err
	}
	// The guard reads the engine's state; this process commits no turn.
	svc, err := bot.NewService(ctx, bot.ServiceConfig{Store: st, Logger: log}, businesses)
	if err != nil {
		return err
	}
	rt, err := newAdapterRuntime(cfg, js, serviceGuard{svc}, name, log, newMetrics(reg))
	if err != nil {
		return err
	}
	stopMetrics := serveMetrics(cfg, reg, nil, log)
	defer stopMetrics()
	if ready != nil {
		ready(rt.addr())
	}
	return rt.run(ctx)
}
