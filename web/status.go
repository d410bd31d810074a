package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleybot/parley"
)

// StatusFunc reads the status page: the connectors, the outbox and the
// digest schedule (cmd/parley builds it from the running parts and the
// store).
type StatusFunc func(ctx context.Context) (parley.Status, error)

// statusPage shows admins how each connector is doing, what the outbox
// holds and fails on (with a retry button), and the digest schedule.
func (s *Server) statusPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.readStatus(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "status", "Status", "status", st)
}

// statusJSON serves the status page as JSON, to an admin's session or to
// a scraper with the metrics bearer token (Config.MetricsTokenEnv); this
// is what 'parley status' reads.
func (s *Server) statusJSON(w http.ResponseWriter, r *http.Request) {
	st, err := s.readStatus(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.writeJSON(w, http.StatusOK, st)
}

func (s *Server) readStatus(ctx context.Context) (parley.Status, error) {
	if s.opts.Status == nil {
		return parley.Status{}, parley.Errorf(parley.ENOTFOUND, "this server has no status page")
	}
	return s.opts.Status(ctx)
}

// statusJSONOrSession lets a request with the metrics bearer token read
// /status.json without a session; anything else goes through the
// session, as an admin.
func (s *Server) statusJSONOrSession(session http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			session.ServeHTTP(w, r)
			return
		}
		if s.metricsToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.metricsToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parley"`)
			s.writeJSON(w, http.StatusUnauthorized, map[string]any{
				"error": "the bearer token is not the one in web.metrics_token_env", "code": "unauthorized"})
			return
		}
		s.statusJSON(w, r)
	})
}

// retryDraft sends a failed draft again, through the decision service
// (audited under the admin's name).
func (s *Server) retryDraft(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.opts.Decider.Retry(ctx, currentUser(ctx).Name, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.succeed(w, r, draftResult{ID: d.ID, State: d.State, DecidedBy: d.DecidedBy, Text: d.Text,
		Message: fmt.Sprintf("Draft %d goes out again shortly.", d.ID)})
}
