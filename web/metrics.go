package web

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parleybot/parley"
)

// Metrics are Parley's Prometheus metrics, served at /metrics. One value
// serves the whole process: the pipeline, the outbox and the connectors
// report to it through the Observe methods, and the inbox reads the
// store's counts at each scrape. A nil *Metrics ignores every call.
//
// Series:
//
//	parley_mentions_ingested_total{result="stored|duplicate"}  counter
//	parley_drafts_queued_total                                 counter
//	parley_drafts{state="pending|approved|..."}                gauge, from the store at scrape
//	parley_mentions_stored                                     gauge, from the store at scrape
//	parley_approval_latency_seconds                            histogram, draft created -> approved
//	parley_sends_total{platform, result="sent|error"}          counter
//	parley_connector_errors_total{platform}                    counter
//	parley_logins_total{result="ok|failed|limited"}            counter
type Metrics struct {
	reg             *prometheus.Registry
	ingested        *prometheus.CounterVec
	queued          prometheus.Counter
	approvalLatency prometheus.Histogram
	sends           *prometheus.CounterVec
	connectorErrors *prometheus.CounterVec
	logins          *prometheus.CounterVec

	statsOnce sync.Once
}

// NewMetrics returns metrics registered on a registry of their own (with
// the Go runtime and process collectors).
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.ingested = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_mentions_ingested_total",
		Help: "Mentions the pipeline handed to the store, by result (stored or duplicate).",
	}, []string{"result"})
	m.queued = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_drafts_queued_total",
		Help: "Drafts the rules queued for approval (or auto-approved).",
	})
	m.approvalLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "parley_approval_latency_seconds",
		Help: "Time from a draft being queued to a person approving it.",
		// 10 s .. ~1.4 days.
		Buckets: prometheus.ExponentialBuckets(10, 3, 10),
	})
	m.sends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_sends_total",
		Help: "Attempts to post an approved draft, by platform and result (sent or error).",
	}, []string{"platform", "result"})
	m.connectorErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_connector_errors_total",
		Help: "Errors talking to a platform (failed sends, listener errors), by platform.",
	}, []string{"platform"})
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "parley_logins_total",
		Help: "Web inbox login attempts, by result (ok, failed, limited).",
	}, []string{"result"})
	m.ingested.WithLabelValues("stored")
	m.ingested.WithLabelValues("duplicate")
	for _, r := range []string{"ok", "failed", "limited"} {
		m.logins.WithLabelValues(r)
	}
	m.reg.MustRegister(m.ingested, m.queued, m.approvalLatency, m.sends, m.connectorErrors, m.logins,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveIngest counts what one store write of the pipeline did (call it
// from bot.PipelineOptions.OnStored).
func (m *Metrics) ObserveIngest(res parley.IngestResult) {
	if m == nil {
		return
	}
	m.ingested.WithLabelValues("stored").Add(float64(res.Stored))
	m.ingested.WithLabelValues("duplicate").Add(float64(res.Duplicates))
	m.queued.Add(float64(res.Drafts))
}

// ObserveSend counts one attempt to post d (call it from
// bot.OutboxOptions.OnResult); a non-nil err is also a connector error.
func (m *Metrics) ObserveSend(d parley.Draft, err error) {
	if m == nil {
		return
	}
	result := "sent"
	if err != nil {
		result = "error"
		m.connectorErrors.WithLabelValues(d.Platform).Inc()
	}
	m.sends.WithLabelValues(d.Platform, result).Inc()
}

// ObserveConnectorError counts an error of a platform's listener or API
// outside sending.
func (m *Metrics) ObserveConnectorError(platform string) {
	if m == nil {
		return
	}
	m.connectorErrors.WithLabelValues(platform).Inc()
}

// ObserveApproval records how long d waited from being queued to being
// approved (d.DecidedAt - d.CreatedAt). The web inbox calls it for its own
// approvals; call it for approvals made elsewhere (Discord buttons, CLI in
// the same process). Drafts approved by a rule are not counted.
func (m *Metrics) ObserveApproval(d parley.Draft) {
	if m == nil || d.DecidedAt.IsZero() || d.CreatedAt.IsZero() || d.AutoApprove {
		return
	}
	m.approvalLatency.Observe(max(0, d.DecidedAt.Sub(d.CreatedAt).Seconds()))
}

// ObserveDecision records a decision the decision service made
// (bot.DecisionsOptions.OnDecided): approvals count in the approval
// latency.
func (m *Metrics) ObserveDecision(action string, d parley.Draft) {
	if action == "approve" {
		m.ObserveApproval(d)
	}
}

func (m *Metrics) observeLogin(result string) {
	if m == nil {
		return
	}
	m.logins.WithLabelValues(result).Inc()
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

// Registry is where the metrics live, for adding collectors of your own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 10 * time.Second})
}

// StatsFunc reads the store's mention and draft counts
// (parley.InboxStore.QueueStats).
type StatsFunc func(ctx context.Context) (parley.Stats, error)

// WatchStore adds gauges read from stats at every scrape: drafts by state
// and mentions stored. Only the first call has an effect.
func (m *Metrics) WatchStore(stats StatsFunc, logger *slog.Logger) {
	if m == nil {
		return
	}
	m.statsOnce.Do(func() {
		m.reg.MustRegister(&statsCollector{stats: stats, logger: logger})
	})
}

type statsCollector struct {
	stats  StatsFunc
	logger *slog.Logger
}

var (
	draftsDesc = prometheus.NewDesc("parley_drafts", "Drafts in the store, by state.", []string{"state"}, nil)
	storedDesc = prometheus.NewDesc("parley_mentions_stored", "Mentions in the store.", nil, nil)
)

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- draftsDesc
	ch <- storedDesc
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		if c.logger != nil {
			c.logger.Warn("metrics: read store stats", "err", err)
		}
		ch <- prometheus.NewInvalidMetric(draftsDesc, err)
		return
	}
	for _, state := range parley.DraftStates {
		ch <- prometheus.MustNewConstMetric(draftsDesc, prometheus.GaugeValue, float64(st.Drafts[state]), string(state))
	}
	ch <- prometheus.MustNewConstMetric(storedDesc, prometheus.GaugeValue, float64(st.Mentions))
}
