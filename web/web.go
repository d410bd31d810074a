// Package web is Parley's inbox for people: a server-rendered web app
// (html/template and embedded static files, a little plain JavaScript, no
// build step) where community managers approve, edit and reject the drafts
// Parley queues, read threads and people, and see who did what.
//
// Security: users have roles (admin, manager, agent) and bcrypt passwords;
// sessions live server-side in the store (scs) behind an HttpOnly,
// SameSite=Lax cookie; every state-changing request passes Go's
// cross-origin protection and carries a per-session CSRF token; logins are
// rate-limited per IP and per user name; the Content-Security-Policy
// forbids inline script; templates escape everything people wrote.
//
// The server also serves /healthz and Prometheus /metrics (see Metrics).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/parleybot/parley"
)

// Options are what the server needs from the rest of Parley.
type Options struct {
	// Store is the database. Required.
	Store parley.WebStore
	// Logger gets request and security events; default discards.
	Logger *slog.Logger
	// Metrics is the registry served at /metrics (bot.Metrics.Registry),
	// where the server adds its login counts; nil serves a registry of its
	// own, with only those.
	Metrics *prometheus.Registry
	// Decider makes every decision on drafts and conversations (approve,
	// edit, reject, reply, close, reopen, snooze, assign, sentiment
	// corrections) with the checks the CLI and Discord buttons get too:
	// bot.Decisions. Required.
	Decider parley.Decider

	// PasswordCost is the bcrypt cost for passwords set in the inbox;
	// 0 means bcrypt's default. Tests lower it.
	PasswordCost int
	// LoginLimit bounds login attempts; zero fields take the defaults.
	LoginLimit LoginLimit
	// PollInterval is how often a live inbox looks for changed drafts in
	// the store (so drafts written by another process appear too);
	// default 500ms, or 5s for a store with a change feed
	// (parley.ChangeFeed), which tells of changes as they commit.
	PollInterval time.Duration
	// SessionLifetime is how long a login lasts; default 7 days.
	SessionLifetime time.Duration
	// Now is the clock for waiting times and rate limits; default time.Now.
	Now func() time.Time
	// Getenv reads Config.MetricsTokenEnv; default os.Getenv.
	Getenv func(string) string
	// Templates checks and renders saved replies' texts with the rules'
	// template engine (rules.Set); nil saves them unchecked and inserts
	// them as written.
	Templates parley.ReplyTemplater
	// TextLimit, when set, gives a platform's post length limit (0 for
	// unknown) for the draft editor's character counter (bot.TextLimit).
	TextLimit func(platform string) int
	// Connectors, when set, reports each connector's state for /healthz.
	Connectors func() []ConnectorState
	// Node names this process among several sharing the database (its
	// lease holder name), for /healthz; "" says nothing.
	Node string
	// ResponseTarget is the reply time a customer should wait at most:
	// the inbox marks and filters those waiting longer as overdue.
	// Default 1h.
	ResponseTarget time.Duration
	// Webhooks, when set, sends a webhook's test event for the "Send
	// test" button (bot.Webhooks); without it the button is hidden.
	Webhooks WebhookTester
	// Status, when set, reads the admins' status page (/status,
	// /status.json); without it those answer 404.
	Status StatusFunc
	// APIRateLimit is how many requests an API token may make in a
	// minute (more get 429 with Retry-After); default 600.
	APIRateLimit int
	// Alerts, when set, lists the real-time alerts for the Alerts page
	// (/alerts, every user); without it the page shows none.
	Alerts AlertLister
}

// Server is the web inbox.
type Server struct {
	cfg     Config
	opts    Options
	st      parley.WebStore
	logger  *slog.Logger
	metrics *serverMetrics

	sessions *scs.SessionManager
	cop      *http.CrossOriginProtection
	limiter  *loginLimiter
	views    *views
	handler  http.Handler
	csrfKey  []byte // signs the login form's tokens (csrf.go)
	streams  streamSet
	// metricsToken, when set, lets /metrics be read on the inbox's address
	// with Authorization: Bearer <token>.
	metricsToken string
	facets       facetCache

	apiLimit  *rateLimiter // requests per API token
	tokenUses tokenUses    // when each API token's last use was written

	done     chan struct{} // closed when the server shuts down: ends live streams
	doneOnce sync.Once
}

var _ scs.IterableCtxStore = parley.SessionStore(nil)
var _ scs.CtxStore = parley.SessionStore(nil)

// New builds the inbox. It checks cfg (Validate) and fills its defaults.
// Errors: EINVALID for a bad config or missing store.
func New(cfg Config, opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, parley.Errorf(parley.EINVALID, "web: no store given")
	}
	if opts.Decider == nil {
		return nil, parley.Errorf(parley.EINVALID, "web: no decision service given (bot.NewDecisions)")
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, parley.Errorf(parley.EINVALID, "web config: %w", errors.Join(errs...))
	}
	cfg = cfg.WithDefaults()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	if _, fed := opts.Store.(parley.ChangeFeed); opts.PollInterval <= 0 && fed {
		// Changes arrive through the feed; polling only checks sessions
		// and covers a feed that lost its connection.
		opts.PollInterval = 5 * time.Second
	} else if opts.PollInterval <= 0 {
		opts.PollInterval = 500 * time.Millisecond
	}
	if opts.SessionLifetime <= 0 {
		opts.SessionLifetime = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.ResponseTarget <= 0 {
		opts.ResponseTarget = time.Hour
	}
	if opts.APIRateLimit <= 0 {
		opts.APIRateLimit = 600
	}
	metricsToken, err := cfg.metricsToken(opts.Getenv)
	if err != nil {
		return nil, err
	}
	metrics, err := newServerMetrics(opts.Metrics)
	if err != nil {
		return nil, fmt.Errorf("web: login metrics: %w", err)
	}
	s := &Server{
		cfg: cfg, opts: opts, st: opts.Store, logger: opts.Logger, metrics: metrics,
		limiter:  newLoginLimiter(opts.LoginLimit, opts.Now),
		apiLimit: newRateLimiter(opts.APIRateLimit, time.Minute, opts.Now),
		done:     make(chan struct{}),
		csrfKey:  newCSRFKey(), metricsToken: metricsToken,
	}

	s.sessions = scs.New()
	s.sessions.Store = s.st.Sessions()
	s.sessions.Lifetime = opts.SessionLifetime
	s.sessions.Cookie.Name = "parley_session"
	s.sessions.Cookie.HttpOnly = true
	s.sessions.Cookie.SameSite = http.SameSiteLaxMode
	s.sessions.Cookie.Path = "/"
	s.sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		s.serverError(w, r, fmt.Errorf("session: %w", err))
	}

	s.cop = http.NewCrossOriginProtection()
	if cfg.BaseURL != "" {
		if err := s.cop.AddTrustedOrigin(cfg.BaseURL); err != nil {
			return nil, parley.Errorf(parley.EINVALID, "web.base_url %q: %w", cfg.BaseURL, err)
		}
	}
	if s.views, err = newViews(opts.TextLimit, opts.Now); err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	s.handler = s.routes()
	return s, nil
}

// Config returns the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Handler returns the inbox's HTTP handler: everything but /metrics, which
// it serves only with Config.MetricsTokenEnv's bearer token.
func (s *Server) Handler() http.Handler { return s.handler }

// Run listens on Config.Addr (and Config.MetricsAddr when set) and serves
// until ctx ends, then shuts down gracefully: live streams end, requests in
// flight get up to 5 seconds. Errors: EUNAVAILABLE when an address is in
// use or cannot be listened on.
func (s *Server) Run(ctx context.Context) error {
	ln, err := listen(ctx, "web.addr", s.cfg.Addr)
	if err != nil {
		return err
	}
	var mln net.Listener
	if s.cfg.MetricsAddr != "" {
		if mln, err = listen(ctx, "web.metrics_addr", s.cfg.MetricsAddr); err != nil {
			_ = ln.Close() // nothing was served on it yet
			return err
		}
	}
	return s.Serve(ctx, ln, mln)
}

func listen(ctx context.Context, key, addr string) (net.Listener, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "%s %s: cannot listen (is another program using it? pick another with --addr): %w", key, addr, err)
	}
	return ln, nil
}

// Serve is Run on listeners the caller opened; metrics, when not nil,
// serves /metrics and /healthz (open it for Config.MetricsAddr). It
// closes them.
func (s *Server) Serve(ctx context.Context, ln, metrics net.Listener) error {
	errLog := slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)
	servers := []*http.Server{{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          errLog,
	}}
	listeners := []net.Listener{ln}
	if metrics != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metrics.Handler())
		mux.HandleFunc("GET /healthz", s.healthz)
		servers = append(servers, &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
			WriteTimeout: 30 * time.Second, ErrorLog: errLog})
		listeners = append(listeners, metrics)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			if err := srv.Serve(listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
				return
			}
			errc <- nil
		}()
	}
	s.logger.Info("web inbox listening", "addr", ln.Addr().String(), "url", s.cfg.BaseURL)
	if metrics != nil {
		s.logger.Info("metrics listening", "addr", metrics.Addr().String())
	}

	// Expired sessions are swept while the server runs.
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(ctx)
	go func() {
		defer close(sweepDone)
		s.sweepSessions(sweepCtx)
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	stopSweep()
	<-sweepDone
	s.shutdownStreams()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var errs []error
	if serveErr != nil {
		errs = append(errs, fmt.Errorf("web server: %w", serveErr))
	}
	for _, srv := range servers {
		if err := srv.Shutdown(shutCtx); err != nil {
			errs = append(errs, fmt.Errorf("web shutdown: %w", err))
			_ = srv.Close() // the Shutdown error above is reported
		}
	}
	return errors.Join(errs...)
}

// shutdownStreams ends every live stream (they never go idle by themselves).
func (s *Server) shutdownStreams() { s.doneOnce.Do(func() { close(s.done) }) }

func (s *Server) sweepSessions(ctx context.Context) {
	t := time.NewTicker(30 * time.Minute)
	defer t.Stop()
	for {
		if n, err := s.st.Sessions().DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			s.logger.Warn("delete expired sessions", "err", err)
		} else if n > 0 {
			s.logger.Debug("expired sessions deleted", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
