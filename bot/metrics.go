package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/parleybot/parley"
)

// Metrics are the pipeline's Prometheus metrics. One value serves the
// whole process: the pipeline, the outbox, the decision service and the
// connectors report to it through the Observe methods, WatchStore adds the
// store's counts read at each scrape, and the web server serves Registry
// at /metrics (adding its own login counts). A nil *Metrics ignores every
// call.
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
//	parley_database_up                                         gauge, 1 or 0 (WatchDatabase)
//	parley_database_outages_total                              counter (WatchDatabase)
type Metrics struct {
	reg             *prometheus.Registry
	ingested        *prometheus.CounterVec
	queued          prometheus.Counter
	approvalLatency prometheus.Histogram
	sends           *prometheus.CounterVec
	connectorErrors *prometheus.CounterVec
	dbUp            prometheus.Gauge
	dbOutages       prometheus.Counter

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
	m.dbUp = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parley_database_up",
		Help: "1 while the database answers the health check, 0 during an outage.",
	})
	m.dbOutages = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "parley_database_outages_total",
		Help: "Times the database stopped answering the health check.",
	})
	m.dbUp.Set(1)
	m.ingested.WithLabelValues("stored")
	m.ingested.WithLabelValues("duplicate")
	m.reg.MustRegister(m.ingested, m.queued, m.approvalLatency, m.sends, m.connectorErrors, m.dbUp, m.dbOutages,
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
// approved (d.DecidedAt - d.CreatedAt); ObserveDecision calls it for every
// approval of the decision service. Drafts approved by a rule are not
// counted.
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

// observeDatabase records the database going down or coming back.
func (m *Metrics) observeDatabase(up bool) {
	if m == nil {
		return
	}
	if up {
		m.dbUp.Set(1)
		return
	}
	m.dbUp.Set(0)
	m.dbOutages.Inc()
}

// Registry is where the metrics live: serve it, or add collectors of your
// own. A nil *Metrics has none.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
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
