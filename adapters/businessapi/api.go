package businessapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/optinbot/optinbot/bot"
)

// Store is what the API reads.
type Store interface {
	// APIKey returns the key with the id, or an error wrapping
	// bot.ErrNotFound.
	APIKey(ctx context.Context, id string) (bot.APIKey, error)
	ConsentEvents(ctx context.Context, business bot.BusinessID, customer bot.CustomerID) ([]bot.ConsentEvent, error)
	LedgerOf(ctx context.Context, f bot.LedgerFilter) ([]bot.LedgerEntry, error)
}

// Engine runs inputs through the engine: the bot.Service.
type Engine interface {
	Business(id bot.BusinessID) (*bot.Business, bool)
	HandleSendRequest(ctx context.Context, r bot.SendRequest) ([]bot.Effect, error)
	HandleHandoffRelease(ctx context.Context, r bot.HandoffRelease) ([]bot.Effect, error)
	// EraseCustomer erases a customer's personal data and, when no consent
	// of theirs stands, suppresses them (bot.Service.EraseCustomer).
	EraseCustomer(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, source bot.Source) (bot.EraseResult, error)
	HandleConsentGrant(ctx context.Context, g bot.ConsentGrant) ([]bot.Effect, error)
	HandleConsentWithdrawal(ctx context.Context, wd bot.ConsentWithdrawal) ([]bot.Effect, error)
	StartVerification(ctx context.Context, r bot.VerificationStart) (bot.Verification, error)
	Verification(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, id string) (bot.Verification, error)
	ConfirmVerification(ctx context.Context, business bot.BusinessID, customer bot.CustomerID, id, code string) (bot.VerificationResult, error)
}

// Config is the API's dependencies and limits.
type Config struct {
	Store  Store
	Engine Engine
	Log    zerolog.Logger
	// RequestsPerSecond and Burst limit each API key; 0 means 50 and 100.
	RequestsPerSecond float64
	Burst             int
	// MaxBody caps a request body; 0 means 64 KiB.
	MaxBody int64
	// MaxImportBody caps the body of a consent import; 0 means 8 MiB.
	MaxImportBody int64
	// Clock is the time; nil means time.Now.
	Clock func() time.Time
}

// Server serves the business API.
type Server struct {
	cfg      Config
	mu       sync.Mutex
	limiters map[string]*rate.Limiter // per API key id
}

// New returns the API server.
func New(cfg Config) *Server {
	if cfg.RequestsPerSecond <= 0 {
		cfg.RequestsPerSecond = 50
	}
	if cfg.Burst <= 0 {
		cfg.Burst = 100
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 64 << 10
	}
	if cfg.MaxImportBody <= 0 {
		cfg.MaxImportBody = 8 << 20
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Server{cfg: cfg, limiters: map[string]*rate.Limiter{}}
}

// Handler routes the API's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/businesses/{business}/customers/{customer}/consent", s.authorized(s.getConsent))
	mux.Handle("POST /v1/businesses/{business}/customers/{customer}/consent", s.authorized(s.recordConsent))
	mux.Handle("POST /v1/businesses/{business}/consent/import", s.authorizedMax(s.cfg.MaxImportBody, s.importConsent))
	mux.Handle("GET /v1/businesses/{business}/ledger", s.authorized(s.exportLedger))
	mux.Handle("POST /v1/businesses/{business}/messages", s.authorized(s.sendMessage))
	mux.Handle("POST /v1/businesses/{business}/customers/{customer}/handoff/release", s.authorized(s.releaseHandoff))
	mux.Handle("POST /v1/businesses/{business}/customers/{customer}/erase", s.authorized(s.eraseCustomer))
	mux.Handle("POST /v1/businesses/{business}/customers/{customer}/verifications", s.authorized(s.startVerification))
	mux.Handle("GET /v1/businesses/{business}/customers/{customer}/verifications/{id}", s.authorized(s.getVerification))
	mux.Handle("POST /v1/businesses/{business}/customers/{customer}/verifications/{id}/confirm", s.authorized(s.confirmVerification))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path+" (see docs/api.md)")
	})
	return mux
}

// request is an authorized request for one business.
type request struct {
	*http.Request
	key bot.APIKey
	biz *bot.Business
	log zerolog.Logger
}

// authorized checks the API key, that it belongs to the business the path
// names, the key's rate and the body's size (MaxBody), then serves.
func (s *Server) authorized(serve func(http.ResponseWriter, *request)) http.Handler {
	return s.authorizedMax(s.cfg.MaxBody, serve)
}

// authorizedMax is authorized with a body limit of its own.
func (s *Server) authorizedMax(maxBody int64, serve func(http.ResponseWriter, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="optinbot"`)
			writeProblem(w, http.StatusUnauthorized, "unauthorized", "send the business API key as Authorization: Bearer obk_…")
			return
		}
		key, err := s.key(r.Context(), strings.TrimSpace(token))
		if err != nil && !errors.Is(err, errInvalidKey) {
			s.cfg.Log.Error().Err(err).Msg("look up API key")
			writeProblem(w, http.StatusServiceUnavailable, "unavailable", "the store cannot be read right now: retry shortly")
			return
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="optinbot", error="invalid_token"`)
			writeProblem(w, http.StatusUnauthorized, "unauthorized", "the API key is not valid: unknown, mistyped or revoked")
			return
		}
		business := bot.BusinessID(r.PathValue("business"))
		if business != key.Business {
			writeProblem(w, http.StatusForbidden, "forbidden", "this API key acts for business "+string(key.Business)+" only")
			return
		}
		if !s.limiter(key.ID).Allow() {
			w.Header().Set("Retry-After", "1")
			writeProblem(w, http.StatusTooManyRequests, "rate_limited", "too many requests with this API key: slow down and retry after a second")
			return
		}
		biz, ok := s.cfg.Engine.Business(business)
		if !ok {
			writeProblem(w, http.StatusNotFound, "unknown_business", "business "+string(business)+" is not configured on this deployment")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		log := s.cfg.Log.With().Str("business", string(business)).Str("api_key", key.ID).
			Str("method", r.Method).Str("route", r.Pattern).Logger()
		serve(w, &request{Request: r, key: key, biz: biz, log: log})
	})
}

var errInvalidKey = errors.New("invalid API key")

// key finds the token's key and checks its secret. Every way a token can
// be wrong is errInvalidKey, so the caller learns nothing from which.
func (s *Server) key(ctx context.Context, token string) (bot.APIKey, error) {
	id, secret, ok := bot.ParseAPIToken(token)
	if !ok {
		return bot.APIKey{}, errInvalidKey
	}
	key, err := s.cfg.Store.APIKey(ctx, id)
	if errors.Is(err, bot.ErrNotFound) {
		return bot.APIKey{}, errInvalidKey
	}
	if err != nil {
		return bot.APIKey{}, err
	}
	if !key.Matches(secret) {
		return bot.APIKey{}, errInvalidKey
	}
	return key, nil
}

func (s *Server) limiter(keyID string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[keyID]
	if !ok {
		l = rate.NewLimiter(rate.Limit(s.cfg.RequestsPerSecond), s.cfg.Burst)
		s.limiters[keyID] = l
	}
	return l
}
