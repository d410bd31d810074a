package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/internal/backoff"
	"github.com/parleybot/parley/web"
	"github.com/parleybot/parley/webhook"
)

func init() {
	register(&command{
		name:    "run",
		summary: "run the bot: listen on the connectors, draft, post approved replies",
		usage: `parley run --config FILE [--db PATH]

Listens on every connector in the config (Mastodon, Discord), runs each
mention through the pipeline, serves the web inbox (--addr, default
127.0.0.1:8080; add users with 'parley user add'), and posts approved drafts
exactly once. Stop it
with Ctrl-C or SIGTERM: it stops listening, stores every mention it accepted,
lets a post in flight finish, and exits. Only one 'parley run' may use a
database at a time.

Example:
  PARLEY_MASTODON_TOKEN=... parley run --config parley.yaml`,
		run: runRun,
	})
}

// shutdownTimeout bounds a graceful stop.
const shutdownTimeout = 10 * time.Second

func runRun(ctx context.Context, e *env, args []string) (retErr error) {
	addr := e.flags().String("addr", "", "where the web inbox listens (default the config's web.addr, else "+web.DefaultAddr+")")
	if _, err := e.parse(args); err != nil {
		return err
	}
	e.setLogLevel(slog.LevelInfo)
	cfg, err := loadConfigOrCancel(ctx, e)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Web.Addr = *addr
	}
	holder := bot.Holder()
	st, where, unlock, err := e.openShared(ctx, cfg, holder)
	if err != nil {
		return err
	}
	defer unlock()
	defer joinErr(&retErr, st.Close)
	conns, err := buildConnectors(e, cfg, st)
	if err != nil {
		return err
	}
	m := &Main{e: e, cfg: cfg, store: st, where: where, conns: conns, holder: holder}
	if err := m.Run(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	e.logger.Info("shutting down", "timeout", shutdownTimeout.String())
	return m.Close()
}

// digestRetry spaces the digest schedule's restarts after a database
// outage.
var digestRetry = backoff.Policy{Base: time.Second, Max: 30 * time.Second}

// Main is the running bot: sources feed the pipeline; the outbox posts;
// the web inbox serves people. Run builds the parts and starts them under
// a bot.Bot; Close stops them in reverse order within shutdownTimeout.
type Main struct {
	e     *env
	cfg   *Config
	store sharedStore
	where string // the database, for logs (SQLite's file, PostgreSQL's host and name)
	// holder names this process for leases on a shared store.
	holder string
	conns  connectorSet
	// webListener, when set, is where the inbox listens (else cfg.Web.Addr).
	webListener net.Listener
	// advocatesNow, when set, is the advocates worker's clock: the demo
	// keeps it at the sample's "today", so the invitations it drafts are
	// the ones its summary counted.
	advocatesNow func() time.Time

	metrics    *bot.Metrics
	pipeline   *bot.Pipeline
	outbox     *bot.Outbox
	decisions  *bot.Decisions
	web        *web.Server
	advocates  *bot.Advocates
	webhooks   *bot.Webhooks
	alerts     *bot.Alerts // nil when alerts are off
	bot        *bot.Bot
	connStates connectorStates
	status     *statusReader
}

// Run starts the pipeline, the outbox, the web inbox and every source, and
// returns. An error means nothing is left running.
func (m *Main) Run(ctx context.Context) error {
	if err := m.build(ctx); err != nil {
		return err
	}
	sch, metricsLn, err := m.prepare()
	if err != nil {
		return errors.Join(err, m.pipeline.Close(ctx))
	}
	// Close stops the parts in the reverse order: the sources first, then
	// the pipeline (which stores what they handed it, feeding the
	// advocates worker), then the rest; the outbox last, so a post in
	// flight finishes.
	log, bg := m.e.logger, context.WithoutCancel(ctx)
	m.bot = bot.New()
	m.bot.Go(bg, "the outbox", m.outbox.Run)
	// After the pipeline and the outbox stop, so their last events are stored.
	m.bot.Go(bg, "the webhooks", m.webhooks.Run)
	m.bot.Go(bg, "the web inbox", func(ctx context.Context) error { return m.web.Serve(ctx, m.webListener, metricsLn) })
	m.bot.Go(bg, "the digest", func(ctx context.Context) error {
		// A database outage stops the schedule for a while, not for good.
		for attempt := 0; ; attempt++ {
			err := m.leased("digest", m.withAlerts(sch.Run), nil)(ctx)
			if ctx.Err() == nil && parley.ErrorCode(err) == parley.EUNAVAILABLE {
				delay := digestRetry.Delay(attempt)
				log.Warn("digest scheduler: the database is unavailable; starting again", "retry_in", delay.String(), "err", err)
				if backoff.Sleep(ctx, delay) == nil {
					continue
				}
				return nil
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Error("digest scheduler stopped", "err", err)
			}
			return err
		}
	})
	m.bot.Go(bg, "the database watch", func(ctx context.Context) error {
		return bot.WatchDatabase(ctx, m.store.Check, bot.DatabaseWatchOptions{Logger: log, Metrics: m.metrics})
	})
	m.bot.Go(bg, "the advocates worker", func(ctx context.Context) error {
		err := m.advocates.Run(ctx)
		if err != nil && !errors.Is(err, context.Canceled) {
			log.Error("advocates stopped", "err", err)
		}
		return err
	})
	m.bot.OnStop("the pipeline", m.pipeline.Close)
	m.startSources(ctx)
	return nil
}

// build makes the parts: advocates, pipeline, outbox, web inbox.
func (m *Main) build(ctx context.Context) error {
	log := m.e.logger
	if m.holder == "" {
		m.holder = bot.Holder()
	}
	m.metrics = bot.NewMetrics()
	eng, err := m.cfg.advocateEngine()
	if err != nil {
		return err
	}
	wc := m.cfg.Webhooks
	m.webhooks = bot.NewWebhooks(m.store, webhook.NewClient(webhook.Options{AllowPrivate: wc.AllowPrivate, Timeout: wc.Timeout}),
		bot.WebhooksOptions{Logger: log.With("part", "webhooks"), RetryFor: wc.RetryFor})
	m.advocates = bot.NewAdvocates(m.store, eng, bot.AdvocatesOptions{Logger: log.With("part", "advocates"), Now: m.advocatesNow,
		Emit: m.webhooks.Emit})
	p, err := newPipeline(m.e, m.cfg, m.store, m.metrics, bot.PipelineOptions{
		OnStored: func(stored []*parley.Mention, res parley.IngestResult) {
			m.advocates.OnStored(stored, res)
			m.webhooks.OnStored(stored, res)
		}})
	if err != nil {
		return err
	}
	m.pipeline = p
	policy := eng.Policy()
	m.outbox = bot.NewOutbox(m.store, m.conns.senders, bot.OutboxOptions{Logger: log.With("part", "outbox"),
		OnResult:  m.metrics.ObserveSend,
		OnOutcome: m.webhooks.OnOutcome,
		HoldPrompt: func(_ parley.Draft, to parley.Person, now time.Time) (time.Time, bool) {
			until, _, quiet := parley.QuietUntil(now, to.TimeZone, policy)
			return until, quiet
		}})
	m.decisions = bot.NewDecisions(m.store, bot.DecisionsOptions{Logger: log.With("part", "decisions"),
		Check:  m.outbox.CheckDraft,
		Grace:  m.cfg.undoGrace(),
		Decide: m.cfg.ruleSet().Decide(log.With("part", "decisions")),
		OnDecided: func(action string, d parley.Draft) {
			m.metrics.ObserveDecision(action, d)
			m.webhooks.OnDecided(action, d)
			m.outbox.Wake()
		}})
	for _, src := range m.conns.sources {
		if ds, ok := src.source.(interface{ SetDecider(parley.Decider) }); ok {
			ds.SetDecider(m.decisions)
		}
	}
	m.status = &statusReader{st: m.store, live: &m.connStates, digest: m.cfg.Digest}
	if _, shared := m.store.(parley.Leaser); shared {
		m.status.node = m.holder
	}
	m.web, err = web.New(m.cfg.Web, web.Options{
		Store: m.store, Logger: log.With("part", "web"), Metrics: m.metrics.Registry(),
		Decider:    m.decisions,
		Connectors: m.connStates.list,
		Node:       m.status.node,
		TextLimit:  bot.TextLimit(m.conns.senders),
		Templates:  m.cfg.ruleSet(),
		Status:     m.status.read,
		Webhooks:   m.webhooks,
		Alerts:     m.store,
		Getenv:     m.e.getenv,
		// The inbox's overdue mark and filter use the digest's target.
		ResponseTarget: m.cfg.Digest.ResponseTarget,
	})
	if err != nil {
		return errors.Join(err, p.Close(ctx))
	}
	m.metrics.WatchStore(m.store.QueueStats, log)
	return nil
}

// prepare opens the web inbox's listeners and makes the digest schedule:
// the steps that can still fail before anything runs.
func (m *Main) prepare() (*digest.Scheduler, net.Listener, error) {
	var err error
	if m.webListener == nil {
		if m.webListener, err = net.Listen("tcp", m.cfg.Web.WithDefaults().Addr); err != nil {
			return nil, nil, parley.Errorf(parley.EUNAVAILABLE, "the web inbox cannot listen on %s (is another program using it? use --addr): %w",
				m.cfg.Web.WithDefaults().Addr, err)
		}
	}
	var metricsLn net.Listener
	if a := m.cfg.Web.MetricsAddr; a != "" {
		if metricsLn, err = net.Listen("tcp", a); err != nil {
			_ = m.webListener.Close() // nothing was served on it yet
			return nil, nil, parley.Errorf(parley.EUNAVAILABLE, "web.metrics_addr %s: cannot listen (is another program using it?): %w", a, err)
		}
	}
	svc, err := digest.NewService(m.store, m.cfg.Digest, digest.ServiceOptions{Brand: m.cfg.Brand.Name,
		Posters: digestPosters(m.conns), Logger: m.e.logger.With("part", "digest"), Getenv: m.e.getenv})
	var sch *digest.Scheduler
	if err == nil {
		sch, err = digest.NewScheduler(svc)
	}
	if err == nil {
		m.status.next = sch.Next
		m.alerts = m.buildAlerts(svc)
	}
	if err != nil {
		// Nothing was served on them yet: the error above is the news.
		_ = m.webListener.Close()
		if metricsLn != nil {
			_ = metricsLn.Close() // nothing was served on it
		}
		return nil, nil, err
	}
	return sch, metricsLn, nil
}

// buildAlerts makes the alert detectors the alerts: section asks for
// (nil when it is off): raised alerts go to the webhooks and, through the
// digest's delivery, to the section's channels.
func (m *Main) buildAlerts(svc *digest.Service) *bot.Alerts {
	ac := m.cfg.Alerts
	if !ac.Enabled {
		return nil
	}
	o := ac.options(m.cfg.Digest.WithDefaults().ResponseTarget)
	o.Logger, o.Emit, o.BaseURL = m.e.logger.With("part", "alerts"), m.webhooks.Emit, m.cfg.Web.BaseURL
	if len(ac.Channels) > 0 {
		o.Notify = func(ctx context.Context, a parley.Alert) error {
			_, err := svc.Notify(ctx, ac.Channels, alertNotice(a, m.cfg.Web.BaseURL))
			return err
		}
	}
	return bot.NewAlerts(m.store, o)
}

// alertNotice is an alert as the staff channels get it.
func alertNotice(a parley.Alert, baseURL string) digest.Notice {
	return digest.Notice{ID: fmt.Sprintf("alert-%d", a.ID), Subject: "Parley alert: " + a.Title, Text: bot.AlertText(a, baseURL)}
}

// withAlerts runs the alert detectors beside fn, on the same lease as the
// digest schedule (one node runs both), until fn returns; they stop with it.
func (m *Main) withAlerts(fn func(context.Context) error) func(context.Context) error {
	if m.alerts == nil {
		return fn
	}
	return func(ctx context.Context) error {
		actx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = m.alerts.Run(actx) // it logs its own failures and returns when actx ends
		}()
		err := fn(ctx)
		cancel()
		<-done
		return err
	}
}

// startSources runs every connector into the pipeline until ctx ends or
// Close stops them. A connector that fails is logged and shown as
// stopped in the inbox; the others go on.
func (m *Main) startSources(ctx context.Context) {
	log := m.e.logger
	names := make([]string, 0, len(m.conns.sources))
	for _, src := range m.conns.sources {
		names = append(names, src.name)
		sink := m.connStates.add(src.name, src.prefix, src.source, m.pipeline)
		if _, shared := m.store.(parley.Leaser); shared {
			m.connStates.setHolder(src.name, m.holder, parley.Lease{}, false) // until the lease is taken
		}
		m.bot.Go(ctx, "connector "+src.name, func(sctx context.Context) error {
			run := func(ctx context.Context) error { return src.source.Run(ctx, sink) }
			onHolder := func(l parley.Lease, mine bool) { m.connStates.setHolder(src.name, m.holder, l, mine) }
			if err := m.leased("connector:"+src.name, run, onHolder)(sctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("connector stopped", "connector", src.name, "err", err)
				m.connStates.set(src.name, web.ConnectorStopped, err)
			}
			return nil // reported above; a failed connector does not fail the shutdown
		})
	}
	switch {
	case len(names) == 0 && len(m.conns.senders) == 0:
		log.Warn("no connectors configured: nothing to listen to (add connectors.mastodon or connectors.discord); approved drafts wait")
	case len(names) == 0:
		log.Info("no connectors to listen to; approved drafts go out through the configured senders")
	}
	log.Info("parley running", "db", m.where, "connectors", strings.Join(names, ","), "rules", m.cfg.ruleSet().Len(),
		"inbox", m.URL())
}

// leased returns fn as it runs on this process: on a store shared by
// several processes (parley.Leaser), only while this one holds the lease
// name, so exactly one of them runs each connector account and the digest
// schedule, and another takes over within bot.DefaultLeaseTTL when it
// dies; on SQLite (one process) fn itself.
// onHolder (may be nil) is told who holds the lease as it changes.
func (m *Main) leased(name string, fn func(context.Context) error, onHolder func(parley.Lease, bool)) func(context.Context) error {
	l, ok := m.store.(parley.Leaser)
	if !ok {
		return fn
	}
	return func(ctx context.Context) error {
		return bot.RunLeased(ctx, l, name, m.holder, bot.LeaseOptions{Logger: m.e.logger, OnHolder: onHolder}, fn)
	}
}

// URL is where the web inbox is served.
func (m *Main) URL() string {
	if b := m.cfg.Web.BaseURL; b != "" {
		return b
	}
	return "http://" + m.webListener.Addr().String()
}

// Close stops the sources, stores every accepted mention, lets the outbox
// finish a post in flight, and returns within shutdownTimeout. A part
// that did not stop in time is in the error.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := m.bot.Close(ctx)
	st := m.pipeline.Stats()
	m.e.logger.Info("stopped", "mentions_stored", st.Stored, "duplicates", st.Duplicates, "drafts", st.Drafts)
	return err
}

type namedSource struct {
	name   string
	source parley.Source
	prefix string // of its cursor keys
}

type connectorSet struct {
	sources []namedSource
	senders []parley.Sender
}

// buildConnectors makes the connectors the config names. It contacts no
// server.
func buildConnectors(e *env, cfg *Config, st parley.Store) (connectorSet, error) {
	var set connectorSet
	for _, w := range cfg.warnings() {
		e.logger.Warn(w)
	}
	for i, mc := range cfg.Connectors.Mastodon {
		token, err := mc.Token(e.getenv)
		if err != nil {
			return set, fmt.Errorf("connectors.mastodon[%d]: %w", i, err)
		}
		c, err := mastodon.New(mc, token, st, e.logger)
		if err != nil {
			return set, fmt.Errorf("connectors.mastodon[%d]: %w", i, err)
		}
		set.sources = append(set.sources, namedSource{"mastodon:" + mc.String(), c, mastodonCursorPrefix(mc)})
		// Replies go out through the account that heard the mention.
		set.senders = append(set.senders, c)
	}
	if dc := cfg.Connectors.Discord; dc != nil {
		token, err := dc.Token(e.getenv)
		if err != nil {
			return set, fmt.Errorf("connectors.discord: %w", err)
		}
		c, err := discord.New(*dc, token, st, e.logger)
		if err != nil {
			return set, fmt.Errorf("connectors.discord: %w", err)
		}
		set.sources = append(set.sources, namedSource{"discord", c, "discord:"})
		set.senders = append(set.senders, c)
	}
	return set, nil
}

// cliDecisions is the decision service for a command: the platform's
// check of a draft comes from the connectors the config names (built
// without contacting a server; none without a config), and a corrected
// mention is decided again by the config's rules. Its decisions emit the
// same webhook events as the web's (Webhooks.OnDecided), stored before
// the command returns; a running 'parley run' delivers them.
func cliDecisions(e *env, cfg *Config, st interface {
	parley.Store
	parley.WebhookStore
	bot.DecisionStore
}) (*bot.Decisions, error) {
	var senders []parley.Sender
	var decide parley.DecideFunc
	grace := DefaultUndoGrace
	if cfg != nil {
		conns, err := buildConnectors(e, cfg, st)
		if err != nil {
			return nil, err
		}
		senders = conns.senders
		decide = cfg.ruleSet().Decide(e.logger)
		grace = cfg.undoGrace()
	}
	wh := bot.NewWebhooks(st, nil, bot.WebhooksOptions{Logger: e.logger})
	return bot.NewDecisions(st, bot.DecisionsOptions{Logger: e.logger, Check: bot.SenderCheck(st, senders), Decide: decide, Grace: grace,
		OnDecided: func(action string, d parley.Draft) {
			wh.OnDecided(action, d)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := wh.Flush(ctx); err != nil {
				e.logger.Error("the decision's webhook event was not stored", "draft_id", d.ID, "err", err)
			}
		}}), nil
}

// lockDatabase takes an exclusive lock on a file beside the database, so a
// second 'parley run' on the same database refuses to start instead of
// posting twice. The lock goes with the process, even on kill -9.
func lockDatabase(dbPath string) (unlock func(), err error) {
	path := dbPath + ".lock"
	if err := os.MkdirAll(dirOf(path), 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		_ = f.Close() // read-only use; the conflict is what to report
		owner := strings.TrimSpace(string(b[:n]))
		if owner != "" {
			owner = " (pid " + owner + ")"
		}
		return nil, parley.Errorf(parley.ECONFLICT, "another parley run%s is using %s: stop it first, or use another --db", owner, dbPath)
	}
	// The pid in the file only makes the conflict message above more
	// helpful; the lock is what keeps a second run out, so a failed write
	// is not worth refusing to start.
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		// Closing the file releases the lock even if the unlock failed.
		_ = unlockFile(f)
		_ = f.Close()
	}, nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i > 0 {
		return path[:i]
	}
	return "."
}
