package web

import (
	"context"
	"net/http"
	"time"
)

// healthz answers 200 {"status":"ok"} when the database answers, else 503
// with the reason. No login needed.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	v, err := s.st.SchemaVersion(ctx)
	if err != nil {
		s.logger.Warn("health check failed", "err", err)
		s.writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "the database does not answer"})
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "schema_version": v})
}
