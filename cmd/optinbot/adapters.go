package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/optinbot/optinbot/adapters/envelope"
	"github.com/optinbot/optinbot/adapters/natsbus"
	"github.com/optinbot/optinbot/adapters/sender"
	"github.com/optinbot/optinbot/adapters/webhook"
	"github.com/optinbot/optinbot/bot"
)

// serviceGuard is the senders' last check before a provider call: the
// engine's policy guard on the customer's current session.
type serviceGuard struct{ svc *bot.Service }

func (g serviceGuard) Recheck(ctx context.Context, m envelope.OutboundMessage) (bot.Reason, error) {
	return g.svc.Recheck(ctx, m.Business, m.Sender, m.To,
		bot.Outbound{Kind: m.Kind, Reply: m.InReplyTo != "", Topic: m.Topic, Category: m.Category})
}

// adapterRuntime runs the providers' webhook server and senders.
type adapterRuntime struct {
	server   *http.Server
	listener net.Listener
	senders  []*sender.Sender
	mux      *http.ServeMux
	log      zerolog.Logger
}

// ready serves /readyz on the webhook server too.
func (rt *adapterRuntime) ready(h http.Handler) {
	if rt.mux != nil {
		rt.mux.Handle("GET /readyz", h)
	}
}

// webhookPath is where a provider's webhooks are served.
func webhookPath(provider string) string { return "/webhooks/" + provider }

// newAdapterRuntime builds the webhook handlers of the given providers (all
// configured ones when only is empty) and their senders.
func newAdapterRuntime(cfg *Config, js jetstream.JetStream, guard sender.Guard, only string,
	log zerolog.Logger, observer *metrics) (*adapterRuntime, error) {
	providers, err := cfg.buildProviders(&http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return nil, err
	}
	if only != "" {
		p, ok := providers[only]
		if !ok {
			names := make([]string, 0, len(providers))
			for n := range providers {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, fmt.Errorf("adapter %q is not configured under providers (configured: %v)", only, names)
		}
		providers = map[string]*provider{only: p}
	}
	if len(providers) == 0 {
		return &adapterRuntime{log: log}, nil
	}
	pub, err := natsbus.NewPublisher(js, cfg.NATS.SubjectPrefix)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	rt := &adapterRuntime{log: log, mux: mux}
	healthRoutes(mux, nil)
	for name, p := range providers {
		mux.Handle(webhookPath(name), webhook.NewHandler(p.webhook, pub, webhook.Config{
			MaxBody: cfg.Webhooks.MaxBody, Logger: log,
			Observer: observer,
		}))
		if len(p.sending.Senders) == 0 {
			continue
		}
		s, err := sender.New(js, p.client, guard, sender.Config{
			Prefix: cfg.NATS.SubjectPrefix, Senders: p.sending.Senders, RatePerSecond: p.sending.RatePerSecond,
			Logger: log, Observer: observer,
		})
		if err != nil {
			return nil, fmt.Errorf("sender for %s: %w", name, err)
		}
		rt.senders = append(rt.senders, s)
	}
	if cfg.Webhooks.Listen != "" {
		rt.server = &http.Server{Addr: cfg.Webhooks.Listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
		if rt.listener, err = net.Listen("tcp", cfg.Webhooks.Listen); err != nil {
			return nil, fmt.Errorf("webhooks.listen %s: %w", cfg.Webhooks.Listen, err)
		}
	}
	return rt, nil
}

// addr is where the webhook server listens, "" when it does not.
func (rt *adapterRuntime) addr() string {
	if rt.listener == nil {
		return ""
	}
	return rt.listener.Addr().String()
}

// run serves webhooks and sends until ctx is done.
func (rt *adapterRuntime) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	if rt.server != nil {
		g.Go(func() error {
			rt.log.Info().Str("listen", rt.addr()).Msg("webhook server listening")
			if err := rt.server.Serve(rt.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("webhook server: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-ctx.Done()
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return rt.server.Shutdown(shutdown)
		})
	}
	for _, s := range rt.senders {
		g.Go(func() error { return s.Run(ctx) })
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
