package web

import (
	"context"
	"net/http"
	"time"

	"github.com/parleybot/parley"
)

// The states of a connector, for /healthz.
const (
	ConnectorRunning = "running"
	ConnectorStopped = "stopped" // it gave up: Parley no longer hears that platform
	// ConnectorStandby: another node sharing the database holds the
	// account's lease and listens; this one takes over if that one dies.
	ConnectorStandby = "standby"
)

// ConnectorState is what /healthz says about one connector.
type ConnectorState struct {
	Name  string `json:"name"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// Holder is the node that runs the connector when several share the
	// database: this one while running, another while on standby.
	Holder string `json:"holder,omitempty"`
}

// healthz answers 200 {"status":"ok",...} when the database answers a
// real query (parley.HealthChecker.Check) and no connector has stopped
// (one on standby is healthy), else 503 with the reason; "connectors" lists
// each connector's state. With several nodes on one database, "node" names
// this one and "leases" says which node holds what. No login.
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
	if s.opts.Node != "" {
		body["node"] = s.opts.Node
	}
	if ll, ok := s.st.(parley.LeaseLister); ok && err == nil {
		if ls, lerr := ll.Leases(ctx); lerr == nil {
			body["leases"] = ls
		} else {
			s.logger.Warn("health check: list leases", "err", lerr)
		}
	}
	if s.opts.Connectors != nil {
		cs := s.opts.Connectors()
		for _, c := range cs {
			if c.State != ConnectorRunning && c.State != ConnectorStandby {
				status = http.StatusServiceUnavailable
				body["status"] = "unavailable"
			}
		}
		body["connectors"] = cs
	}
	s.writeJSON(w, status, body)
}
