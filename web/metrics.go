package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// serverMetrics is the registry the server serves at /metrics, with what
// the server adds to it: login attempts by result.
type serverMetrics struct {
	reg    *prometheus.Registry
	logins *prometheus.CounterVec
}

// newServerMetrics registers parley_logins_total on reg, or takes the one
// an earlier server registered there.
func newServerMetrics(reg *prometheus.Registry) (*serverMetrics, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_logins_total",
		Help: "Web inbox login attempts, by result (ok, failed, limited).",
	}, []string{"result"})
	if err := reg.Register(c); err != nil {
		var dup prometheus.AlreadyRegisteredError
		if !errors.As(err, &dup) {
			return nil, err
		}
		if c, _ = dup.ExistingCollector.(*prometheus.CounterVec); c == nil {
			return nil, err
		}
	}
	for _, r := range []string{"ok", "failed", "limited"} {
		c.WithLabelValues(r)
	}
	return &serverMetrics{reg: reg, logins: c}, nil
}

func (m *serverMetrics) observeLogin(result string) {
	m.logins.WithLabelValues(result).Inc()
}

// Handler serves the registry in the Prometheus text format.
func (m *serverMetrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second, ErrorHandling: promhttp.ContinueOnError})
}

// metricsOnInbox serves /metrics on the inbox's address only to a scraper
// with the bearer token (Config.MetricsTokenEnv): the counts say how busy
// the team is and who logs in. Without a token it points to metrics_addr.
func (s *Server) metricsOnInbox(w http.ResponseWriter, r *http.Request) {
	if s.metricsToken == "" {
		http.Error(w, "metrics are not served on this address: set web.metrics_addr (e.g. 127.0.0.1:9090), or web.metrics_token_env for a bearer token here", http.StatusNotFound)
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.metricsToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="parley metrics"`)
		http.Error(w, "metrics need Authorization: Bearer <the token in web.metrics_token_env>", http.StatusUnauthorized)
		return
	}
	s.metrics.Handler().ServeHTTP(w, r)
}
