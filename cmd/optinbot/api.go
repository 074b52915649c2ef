package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/adapters/businessapi"
)

// apiServer serves the business API until its context is done.
type apiServer struct {
	server   *http.Server
	listener net.Listener
	log      zerolog.Logger
}

// newAPIServer listens on cfg.API.Listen; nil when no API is configured.
func newAPIServer(cfg *Config, st businessapi.Store, svc businessapi.Engine, log zerolog.Logger) (*apiServer, error) {
	if cfg.API.Listen == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return nil, fmt.Errorf("api.listen %s: %w", cfg.API.Listen, err)
	}
	return &apiServer{listener: l, log: log, server: &http.Server{Handler: businessapi.New(businessapi.Config{
		Store: st, Engine: svc, Log: log.With().Str("component", "api").Logger(),
		RequestsPerSecond: cfg.API.RequestsPerSecond, Burst: cfg.API.Burst}).Handler(),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}}, nil
}

func (s *apiServer) run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		s.log.Info().Str("listen", s.listener.Addr().String()).Msg("business API listening")
		if err := s.server.Serve(s.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("business API: %w", err)
			return
		}
		errc <- nil
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.server.Shutdown(shutdown); err != nil {
		return fmt.Errorf("business API shutdown: %w", err)
	}
	return <-errc
}
