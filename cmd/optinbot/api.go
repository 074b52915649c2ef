package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/optinbot/optinbot/bot"
	"github.com/optinbot/optinbot/flows"
)

// APIConfig is the business API `optinbot serve` serves on its own
// listener. For now it has one endpoint, an agent's hand back of a handoff
// (docs/nats.md has the NATS way to do the same).
type APIConfig struct {
	// Listen is the address, e.g. 127.0.0.1:8081; empty serves no API.
	Listen string `yaml:"listen"`
	// Token authenticates callers (Authorization: Bearer TOKEN); required
	// with Listen, at least 16 characters, from the environment.
	Token string `yaml:"token"`
}

// MinAPIToken is the shortest API token accepted.
const MinAPIToken = 16

func (a APIConfig) validate() []error {
	switch {
	case a.Listen == "" && a.Token != "":
		return []error{errors.New("api.token is set but api.listen is empty: give the API an address such as 127.0.0.1:8081, or leave the token out")}
	case a.Listen == "":
		return nil
	case a.Token == "":
		return []error{errors.New("api.token is empty but api.listen is set: callers authenticate with it; set it from the environment, e.g. ${OPTINBOT_API_TOKEN}")}
	case len(a.Token) < MinAPIToken:
		return []error{fmt.Errorf("api.token is %d characters: use at least %d (a random string)", len(a.Token), MinAPIToken)}
	}
	return nil
}

// handoffReleaser is what the API needs of the engine.
type handoffReleaser interface {
	HandleHandoffRelease(ctx context.Context, r bot.HandoffRelease) ([]bot.Effect, error)
}

// maxAPIBody bounds a request body.
const maxAPIBody = 64 << 10

// newAPIHandler serves the business API:
//
//	POST /v1/handoffs/{customer}/release
//	Authorization: Bearer TOKEN
//	Idempotency-Key: rel-8812            (or "id" in the body)
//	{"business":"acme","id":"rel-8812","state":"menu","agent":"maria"}   (every field optional)
//
// It hands the customer's handed-off conversation back to the bot: 200
// {"released":true,…} (with "repeated":true for an id already applied), 409
// when the conversation is not handed off, 400 for a bad customer, business
// or state, 401 without the token. Every answer is a JSON object.
func newAPIHandler(svc handoffReleaser, token string, log zerolog.Logger) http.Handler {
	a := &api{svc: svc, token: []byte(token), log: log.With().Str("component", "api").Logger()}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/handoffs/{customer}/release", a.release)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: the API serves POST /v1/handoffs/{customer}/release"})
	})
	return mux
}

type api struct {
	svc   handoffReleaser
	token []byte
	log   zerolog.Logger
}

// releaseRequest is the body of a release; every field is optional.
type releaseRequest struct {
	Business string `json:"business"`
	ID       string `json:"id"`
	State    string `json:"state"`
	Agent    string `json:"agent"`
}

func (a *api) release(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "use POST"})
		return
	}
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="optinbot"`)
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "missing or wrong API token: send Authorization: Bearer TOKEN"})
		return
	}
	bad := func(format string, args ...any) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": fmt.Sprintf(format, args...)})
	}
	customer, err := bot.ParseCustomerID(r.PathValue("customer"))
	if err != nil {
		bad("customer: %v", err)
		return
	}
	var req releaseRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil {
		bad("request body: %v", err)
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			bad("the body must be a JSON object with business, id, state and agent, each optional: %v", err)
			return
		}
	}
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		if req.ID != "" && req.ID != key {
			bad("the body's id %q and the Idempotency-Key header %q differ: give one", req.ID, key)
			return
		}
		req.ID = key
	}
	if req.ID == "" {
		req.ID = newAPIID()
	}
	effects, err := a.svc.HandleHandoffRelease(r.Context(), bot.HandoffRelease{ID: req.ID, Business: bot.BusinessID(req.Business),
		Customer: customer, State: flows.StateName(req.State), Agent: req.Agent})
	switch {
	case errors.Is(err, bot.ErrNoHandoff):
		writeJSON(w, http.StatusConflict, map[string]any{"error": err.Error(), "id": req.ID})
		return
	case errors.Is(err, bot.ErrBadInput):
		bad("%v", err)
		return
	case err != nil:
		a.log.Error().Err(err).Str("customer", customer.Redacted()).Str("id", req.ID).Msg("handoff release failed")
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": "the hand back could not be recorded; retry with the same id", "id": req.ID})
		return
	}
	answer := map[string]any{"released": true, "id": req.ID}
	if len(effects) == 0 {
		answer["repeated"] = true // this id was applied before
	}
	for _, e := range effects {
		if e.Kind == bot.EffectHandoffEnded && e.HandoffEnded != nil {
			answer["business"], answer["queue"], answer["resume"] = e.Business, e.HandoffEnded.Queue, e.HandoffEnded.Resume
		}
	}
	a.log.Info().Str("customer", customer.Redacted()).Str("id", req.ID).Bool("repeated", len(effects) == 0).Msg("handoff released through the API")
	writeJSON(w, http.StatusOK, answer)
}

func (a *api) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), a.token) == 1
}

// newAPIID makes an id for a release that named none: such a release is
// not recognised if retried, but a retry finds no handoff to end (409)
// and changes nothing.
func newAPIID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "api-" + hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiServer serves the business API until its context is done.
type apiServer struct {
	server   *http.Server
	listener net.Listener
	log      zerolog.Logger
}

// newAPIServer listens on cfg.API.Listen; nil when no API is configured.
func newAPIServer(cfg *Config, svc handoffReleaser, log zerolog.Logger) (*apiServer, error) {
	if cfg.API.Listen == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", cfg.API.Listen)
	if err != nil {
		return nil, fmt.Errorf("api.listen %s: %w", cfg.API.Listen, err)
	}
	return &apiServer{listener: l, log: log, server: &http.Server{Handler: newAPIHandler(svc, cfg.API.Token, log),
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
