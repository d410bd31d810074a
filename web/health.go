package web

import (
	"context"
	"net/http"
	"time"
)

// The states of a connector, for /healthz.
const (
	ConnectorRunning = "running"
	ConnectorStopped = "stopped" // it gave up: Parley no longer hears that platform
)

// ConnectorState is what /healthz says about one connector.
type ConnectorState struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// healthz answers 200 {"status":"ok",...} when the database answers a
// real query (parley.HealthChecker.Check) and no connector has stopped, else 503 with
// the reason; "connectors" lists each connector's state. No login.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	status, body := http.StatusOK, map[string]any{"status": "ok"}
	v, err := s.st.SchemaVersion(ctx)
	if err == nil {
		err = s.st.Check(ctx)
	}
	if err != nil {
		s.logger.Warn("health check failed", "err", err)
		status = http.StatusServiceUnavailable
		body["status"], body["error"] = "unavailable", "the database does not answer or is damaged (see the server log)"
	} else {
		body["schema_version"] = v
	}
	if s.opts.Connectors != nil {
		cs := s.opts.Connectors()
		for _, c := range cs {
			if c.State != ConnectorRunning {
				status = http.StatusServiceUnavailable
				body["status"] = "unavailable"
			}
		}
		body["connectors"] = cs
	}
	s.writeJSON(w, status, body)
}
