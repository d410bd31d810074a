package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gomastodon "github.com/mattn/go-mastodon"
	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
	"github.com/parleybot/parley/internal/textutil"
	"golang.org/x/sync/errgroup"
)

// Page sizes asked for; servers cap them (Mastodon: 80 notifications, 40
// statuses).
const (
	notificationsLimit = 40
	statusesLimit      = 40
	// maxPagesPerPoll bounds one catch-up; the next poll goes on from the
	// cursor.
	maxPagesPerPoll = 250
	// searchPages bounds the offset pages read per keyword per poll.
	searchPages = 5
	// instanceTTL is how long the instance's limits are cached.
	instanceTTL = time.Hour
	// seenSize is how many recently delivered status ids are remembered to
	// deliver a status seen on a stream and a poll (or two feeds) once.
	seenSize = 8192
)

// Connector is one bot account on one Mastodon-API server. It implements
// parley.Source (Run), parley.Sender (Platform, Send) and
// parley.DraftChecker (CheckDraft). Send and CheckDraft may be called from
// any goroutine, while Run is going or not; Run must not be called twice
// at the same time.
type Connector struct {
	cfg     Config
	server  *url.URL
	api     *api
	cursors parley.CursorStore
	log     *slog.Logger
	lim     *limiter
	dialer  dialConfig

	pollInterval time.Duration
	backoffBase  time.Duration
	backoffMax   time.Duration
	pingInterval time.Duration
	maxFrame     int64
	trace        func(feed, event string)

	hashtags []string // normalized, lower case
	keywords []string

	mu     sync.Mutex
	inst   instanceInfo
	instAt time.Time
	self   *apiAccount

	seen seenSet

	live liveState

	// streamTokenInURL is set once the server refused a streaming
	// handshake that carried the token only in the Authorization header.
	streamTokenInURL atomic.Bool
}

var (
	_ parley.Source       = (*Connector)(nil)
	_ parley.Sender       = (*Connector)(nil)
	_ parley.DraftChecker = (*Connector)(nil)
)

// Option adjusts a Connector (mostly for tests).
type Option func(*options)

type options struct {
	httpClient   *http.Client
	pollInterval time.Duration
	backoffBase  time.Duration
	backoffMax   time.Duration
	pingInterval time.Duration
	maxFrame     int64
	userAgent    string
	trace        func(feed, event string)
}

// WithHTTPClient makes the connector use hc (its Transport and Timeout)
// for REST calls; the streaming dialer reuses the transport's TLS, proxy
// and dial settings when it is an *http.Transport.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.httpClient = hc } }

// WithPollInterval overrides Config.PollInterval (tests use milliseconds).
func WithPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithBackoff sets the reconnect and retry backoff: the first wait is
// about base, doubling (with jitter) up to longest. Defaults: 1s and 5m.
func WithBackoff(base, longest time.Duration) Option {
	return func(o *options) { o.backoffBase, o.backoffMax = base, longest }
}

// WithPingInterval sets how often the stream is pinged; a stream silent
// for three intervals is considered dead. Default 30s.
func WithPingInterval(d time.Duration) Option { return func(o *options) { o.pingInterval = d } }

// WithMaxFrameSize sets the largest streaming frame read (default 4 MiB);
// a larger one drops the connection and the feed is polled instead.
func WithMaxFrameSize(n int64) Option { return func(o *options) { o.maxFrame = n } }

// WithUserAgent sets the User-Agent of every request (default
// "Parley (+https://github.com/parleybot/parley)").
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// withTrace reports internal milestones to tests.
func withTrace(f func(feed, event string)) Option { return func(o *options) { o.trace = f } }

// New returns a connector for cfg with the account's access token. cursors
// keeps the position in each feed (the store, in production). It does not
// contact the server. Errors: EINVALID for a bad server URL or an empty
// token.
func New(cfg Config, token string, cursors parley.CursorStore, logger *slog.Logger, opts ...Option) (*Connector, error) {
	server, err := cfg.ServerURL()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, parley.Errorf(parley.EINVALID, "%s: empty access token (from %s)", cfg.prefix(), cfg.TokenVar())
	}
	if cursors == nil {
		return nil, parley.Errorf(parley.EINVALID, "%s: no cursor store", cfg.prefix())
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{
		pollInterval: cfg.Interval(),
		backoffBase:  time.Second,
		backoffMax:   5 * time.Minute,
		pingInterval: 30 * time.Second,
		maxFrame:     4 << 20,
		userAgent:    "Parley (+https://github.com/parleybot/parley)",
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.backoffBase <= 0 {
		o.backoffBase = time.Second
	}
	if o.backoffMax < o.backoffBase {
		o.backoffMax = o.backoffBase
	}
	if o.pollInterval <= 0 {
		o.pollInterval = DefaultPollInterval
	}
	log := logger.With("component", "mastodon", "server", server.Host)
	if cfg.Name != "" {
		log = log.With("account", cfg.Name)
	}
	lim := &limiter{log: log}
	base := http.DefaultTransport
	timeout := 60 * time.Second
	if o.httpClient != nil {
		if o.httpClient.Transport != nil {
			base = o.httpClient.Transport
		}
		timeout = o.httpClient.Timeout
	}
	hc := &http.Client{
		Transport: &transport{base: base, lim: lim, userAgent: o.userAgent},
		Timeout:   timeout,
	}
	if o.httpClient != nil {
		hc.CheckRedirect = o.httpClient.CheckRedirect
		hc.Jar = o.httpClient.Jar
	}
	c := &Connector{
		cfg:          cfg,
		server:       server,
		api:          newAPI(server, strings.TrimSpace(token), hc),
		cursors:      cursors,
		log:          log,
		lim:          lim,
		dialer:       dialConfig{base: base, userAgent: o.userAgent},
		pollInterval: o.pollInterval,
		backoffBase:  o.backoffBase,
		backoffMax:   o.backoffMax,
		pingInterval: o.pingInterval,
		maxFrame:     o.maxFrame,
		trace:        o.trace,
		seen:         seenSet{max: seenSize},
	}
	c.api.mc.UserAgent = o.userAgent
	for _, h := range cfg.Hashtags {
		if t := strings.ToLower(normHashtag(h)); t != "" && !slices.Contains(c.hashtags, t) {
			c.hashtags = append(c.hashtags, t)
		}
	}
	for _, k := range cfg.Keywords {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(c.keywords, k) {
			c.keywords = append(c.keywords, k)
		}
	}
	return c, nil
}

// Platform returns "mastodon".
func (c *Connector) Platform() string { return parley.PlatformMastodon }

// Name returns the config's label (may be empty).
func (c *Connector) Name() string { return c.cfg.Name }

// Account implements the outbox's routing: replies to mentions this
// connector heard go out through it. "" when the config names no account.
func (c *Connector) Account() string { return c.cfg.Name }

// statusID takes this account's namespace off a mention id (see toMention).
func (c *Connector) statusID(externalID string) string {
	if c.cfg.Name == "" {
		return externalID
	}
	return strings.TrimPrefix(externalID, c.cfg.Name+":")
}

// Server returns the server's base URL.
func (c *Connector) Server() string { return c.server.String() }

func (c *Connector) emit(feed, event string) {
	c.live.note(feed, event)
	if c.trace != nil {
		c.trace(feed, event)
	}
}

// Verify checks the token against the server and returns the bot account.
// Errors: EINVALID when the server refuses the token, EUNAVAILABLE when it
// cannot be reached.
func (c *Connector) Verify(ctx context.Context) (parley.Person, error) {
	self, err := c.account(ctx)
	if err != nil {
		return parley.Person{}, err
	}
	return toPerson(self, c.domain(ctx)), nil
}

// account fetches (once) the bot's own account.
func (c *Connector) account(ctx context.Context) (*apiAccount, error) {
	c.mu.Lock()
	self := c.self
	c.mu.Unlock()
	if self != nil {
		return self, nil
	}
	acc, err := c.api.mc.GetAccountCurrentUser(ctx)
	if err != nil {
		return nil, classify("verifying the access token", stripURL(err))
	}
	self = &apiAccount{ID: acc.ID, Username: acc.Username, Acct: acc.Acct, DisplayName: acc.DisplayName}
	c.mu.Lock()
	c.self = self
	c.mu.Unlock()
	return self, nil
}

// instance returns the server's instance information, cached for an hour.
// On failure it returns the last known (or default) values and the error.
func (c *Connector) instance(ctx context.Context) (instanceInfo, error) {
	c.mu.Lock()
	inst, at := c.inst, c.instAt
	c.mu.Unlock()
	if !at.IsZero() && time.Since(at) < instanceTTL {
		return inst, nil
	}
	fresh, err := c.api.fetchInstance(ctx)
	if err != nil {
		if inst.Domain == "" {
			inst.Domain = strings.ToLower(c.server.Hostname())
		}
		// Keep what is known and ask again in a minute, not on every call.
		c.mu.Lock()
		c.inst, c.instAt = inst, time.Now().Add(time.Minute-instanceTTL)
		c.mu.Unlock()
		return inst, classify("reading the instance information", err)
	}
	if fresh.Domain == "" {
		fresh.Domain = strings.ToLower(c.server.Hostname())
	}
	if fresh.MaxChars <= 0 {
		fresh.MaxChars = DefaultMaxCharacters
	}
	c.mu.Lock()
	c.inst, c.instAt = fresh, time.Now()
	c.mu.Unlock()
	return fresh, nil
}

// domain is the account domain local handles are qualified with.
func (c *Connector) domain(ctx context.Context) string {
	inst, _ := c.instance(ctx)
	if inst.Domain != "" {
		return inst.Domain
	}
	return strings.ToLower(c.server.Hostname())
}

// backoff returns the wait before retry number attempt (0-based): about
// base·2^attempt, capped at max, with jitter in [d/2, d].
func (c *Connector) backoff(attempt int) time.Duration {
	return backoff.Policy{Base: c.backoffBase, Max: c.backoffMax, Jitter: 0.5}.Delay(attempt)
}

func sleepCtx(ctx context.Context, d time.Duration) error { return backoff.Sleep(ctx, d) }

// feedKind tells what a feed polls.
type feedKind int

const (
	feedNotifications feedKind = iota
	feedTag
	feedSearch
)

// feed is one thing listened to: the account's notifications, a hashtag
// or a keyword search. Its cursor is the newest id fully handled.
type feed struct {
	kind    feedKind
	name    string // for logs and Mention.Channel
	arg     string // hashtag or keyword
	key     string // cursor key
	stream  url.Values
	cursor  string
	pollErr int
}

func (c *Connector) feeds(self *apiAccount) []*feed {
	prefix := "mastodon:" + strings.ToLower(c.server.Host) + ":" + string(self.ID) + ":"
	stream := "user:notification"
	if len(c.keywords) > 0 {
		stream = "user" // home timeline updates are matched against the keywords
	}
	fs := []*feed{{
		kind:   feedNotifications,
		name:   "mentions",
		key:    prefix + "notifications",
		stream: url.Values{"stream": {stream}},
	}}
	for _, t := range c.hashtags {
		fs = append(fs, &feed{
			kind:   feedTag,
			name:   "tag:" + t,
			arg:    t,
			key:    prefix + "tag:" + t,
			stream: url.Values{"stream": {"hashtag"}, "tag": {t}},
		})
	}
	for _, k := range c.keywords {
		fs = append(fs, &feed{
			kind: feedSearch,
			name: "search:" + k,
			arg:  k,
			key:  prefix + "search:" + strings.ToLower(k),
		})
	}
	return fs
}

// Run listens until ctx ends (then it returns nil) and delivers every
// mention, hashtag post and keyword match to sink, oldest first within
// each feed. It returns an error only when it cannot go on: the server
// refuses the token or has no Mastodon API (EINVALID), the cursor store
// fails on start, or sink
// fails other than by ctx ending. Network trouble, 429s and malformed
// items are logged and retried or skipped.
func (c *Connector) Run(ctx context.Context, sink parley.Sink) error {
	var self *apiAccount
	for attempt := 0; ; attempt++ {
		var err error
		self, err = c.account(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		switch parley.ErrorCode(err) {
		case parley.EINVALID:
			return err
		case parley.ENOTFOUND:
			return parley.Errorf(parley.EINVALID, "%s.server: %s does not answer the Mastodon API (verify_credentials not found); check the URL: %w", c.cfg.prefix(), c.server, err)
		}
		wait := c.backoff(attempt)
		c.live.fail("logging in", err)
		c.log.Warn("mastodon server not reachable; retrying", "err", err, "retry_in", wait.Round(time.Millisecond).String())
		if sleepCtx(ctx, wait) != nil {
			return nil
		}
	}
	if _, err := c.instance(ctx); err != nil && ctx.Err() == nil {
		c.log.Warn("mastodon instance information unavailable; using defaults", "err", err)
	}
	fs := c.feeds(self)
	c.live.mu.Lock()
	c.live.streams = 0
	for _, f := range fs {
		if f.stream != nil {
			c.live.streams++
		}
	}
	c.live.mu.Unlock()
	for _, f := range fs {
		cur, err := c.cursors.Cursor(ctx, f.key)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("mastodon: reading cursor %s: %w", f.key, err)
		}
		f.cursor = cur
	}
	c.log.Info("mastodon connector listening", "acct", self.Acct, "feeds", len(fs), "poll_interval", c.pollInterval.String())

	// The first feed to fail stops the others; their own ends are no error.
	g, gctx := errgroup.WithContext(ctx)
	for _, f := range fs {
		g.Go(func() error { return c.runFeed(gctx, f, sink) })
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// streamEvent is what a feed's stream reader tells the feed's loop.
type streamEvent struct {
	kind    int
	at      time.Time
	status  *apiStatus
	channel string
}

const (
	evConnected = iota
	evDisconnected
	evStatus
	evMissed // a frame could not be read: poll to fetch what it carried
)

// runFeed owns one feed: its stream reader goroutine, its polls and its
// cursor. Everything for the feed happens on this goroutine, in order.
func (c *Connector) runFeed(ctx context.Context, f *feed, sink parley.Sink) error {
	events := make(chan streamEvent, 64)
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
	}()
	if f.stream != nil {
		wg.Go(func() { c.streamLoop(sctx, f, events) })
	}

	var lastPoll time.Time
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	poll := func(why string) error {
		lastPoll = time.Now()
		retry.Stop()
		err := c.poll(ctx, f, sink)
		if err == nil {
			f.pollErr = 0
			c.emit(f.name, "poll_done")
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, errSink) {
			return err
		}
		wait := min(c.backoff(f.pollErr), c.pollInterval)
		f.pollErr++
		c.live.fail("poll "+f.name, err)
		c.log.Warn("mastodon poll failed; retrying", "feed", f.name, "why", why, "err", err, "retry_in", wait.Round(time.Millisecond).String())
		c.emit(f.name, "poll_failed")
		retry.Reset(wait)
		return nil
	}

	if err := poll("start"); err != nil {
		return err
	}
	ticker := time.NewTicker(c.pollInterval)
	defer ticker.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			switch ev.kind {
			case evConnected:
				// What arrived between the last poll and the connection
				// is on neither; a poll that started after it is enough.
				if !lastPoll.After(ev.at) {
					err = poll("stream connected")
				}
				c.emit(f.name, "stream_ready")
			case evMissed:
				err = poll("unreadable stream frame")
			case evStatus:
				err = c.deliver(ctx, sink, ev.status, ev.channel)
			}
		case <-ticker.C:
			err = poll("interval")
		case <-retry.C:
			err = poll("retry")
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// errSink marks a failure of the sink (not of the server).
var errSink = errors.New("sink refused the mention")

// deliver submits one status unless it is ours, a reblog, or already
// delivered.
func (c *Connector) deliver(ctx context.Context, sink parley.Sink, s *apiStatus, channel string) error {
	if s == nil || s.ID == "" || s.isReblog() {
		return nil
	}
	c.mu.Lock()
	self := c.self
	c.mu.Unlock()
	if self != nil && s.Account.ID == self.ID {
		return nil
	}
	id := string(s.ID)
	// Reserve the id first, so two feeds seeing the same status at once
	// deliver it once.
	if !c.seen.add(id) {
		return nil
	}
	m := toMention(s, c.domain(ctx), channel, c.cfg.Name, time.Now())
	if len(m.Text) > MaxTextBytes {
		c.log.Warn("mastodon status text too long; truncated", "status_id", id, "bytes", len(m.Text), "kept_bytes", MaxTextBytes, "feed", channel)
		m.Text = textutil.TruncateBytes(m.Text, MaxTextBytes)
	}
	if err := sink.Submit(ctx, m); err != nil {
		c.seen.remove(id)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("mastodon: status %s: %w: %w", id, errSink, err)
	}
	c.emit(channel, "delivered:"+id)
	return nil
}

// pollItem is one element of a page: its cursor id and, when it carries a
// status to deliver, the status.
type pollItem struct {
	id     string
	status *apiStatus
}

// poll fetches everything newer than the feed's cursor, page by page,
// delivers it oldest first and saves the cursor after each page (and
// where a delivery failed). The very first poll of a feed (no cursor)
// reads only the newest page, so a new install does not replay history;
// when that page is empty the cursor becomes "0" (everything from now on).
func (c *Connector) poll(ctx context.Context, f *feed, sink parley.Sink) error {
	start := f.cursor
	saved := f.cursor
	save := func() {
		if f.cursor == saved {
			return
		}
		// A cancelled run still records how far it got.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		// Through the sink: saved only once the mentions delivered
		// before it are stored, so a crash re-reads them.
		if err := parley.SaveCursor(sctx, sink, c.cursors, f.key, f.cursor); err != nil {
			c.log.Warn("mastodon: saving the feed cursor failed (a restart will re-read from the last saved one)", "feed", f.name, "err", err)
			return
		}
		saved = f.cursor
	}
	defer save()
	delivered := 0
	for page := 0; page < maxPagesPerPoll; page++ {
		items, more, err := c.fetchPage(ctx, f)
		if err != nil {
			return err
		}
		progressed := false
		for _, it := range items {
			if f.cursor != "" && gomastodon.ID(it.id).Compare(gomastodon.ID(f.cursor)) <= 0 {
				continue // the server ignored min_id, or a duplicate
			}
			if it.status != nil {
				if err := c.deliver(ctx, sink, it.status, f.name); err != nil {
					return err
				}
				delivered++
			}
			f.cursor = it.id
			progressed = true
		}
		save()
		if !more || !progressed {
			break
		}
	}
	if f.cursor == "" {
		// Nothing yet: from now on everything counts, from the beginning.
		f.cursor = "0"
		save()
	}
	if delivered > 0 || f.cursor != start {
		c.log.Debug("mastodon feed polled", "feed", f.name, "items", delivered, "cursor", f.cursor)
	}
	return nil
}

// fetchPage reads the page after the feed's cursor, sorted oldest first.
// more reports whether another page may follow.
func (c *Connector) fetchPage(ctx context.Context, f *feed) (items []pollItem, more bool, err error) {
	switch f.kind {
	case feedNotifications:
		q := url.Values{"types[]": {"mention"}, "limit": {fmt.Sprint(notificationsLimit)}}
		if f.cursor != "" {
			q.Set("min_id", f.cursor)
		}
		raws, err := c.api.getList(ctx, "/api/v1/notifications", q)
		if err != nil {
			return nil, false, classify("reading notifications", err)
		}
		for _, raw := range raws {
			var n apiNotification
			if err := json.Unmarshal(raw, &n); err != nil {
				c.skipMalformed(f, "notification", raw, err)
				if id := rawID(raw); id != "" {
					items = append(items, pollItem{id: id})
				}
				continue
			}
			if n.ID == "" {
				continue
			}
			it := pollItem{id: string(n.ID)}
			if n.Type == "mention" && n.Status != nil {
				it.status = n.Status
			}
			items = append(items, it)
		}
		more = f.cursor != "" && len(raws) > 0
	case feedTag:
		q := url.Values{"limit": {fmt.Sprint(statusesLimit)}}
		if f.cursor != "" {
			q.Set("min_id", f.cursor)
		}
		raws, err := c.api.getList(ctx, "/api/v1/timelines/tag/"+url.PathEscape(f.arg), q)
		if err != nil {
			return nil, false, classify("reading the #"+f.arg+" timeline", err)
		}
		items = c.statusItems(f, raws)
		more = f.cursor != "" && len(raws) > 0
	case feedSearch:
		seen := map[string]bool{}
		for page := 0; page < searchPages; page++ {
			q := url.Values{"q": {f.arg}, "type": {"statuses"}, "resolve": {"false"}, "limit": {fmt.Sprint(statusesLimit)}}
			if f.cursor != "" {
				q.Set("min_id", f.cursor)
			}
			if page > 0 {
				q.Set("offset", fmt.Sprint(page*statusesLimit))
			}
			var res struct {
				Statuses []json.RawMessage `json:"statuses"`
			}
			if err := c.api.getJSON(ctx, "/api/v2/search", q, &res); err != nil {
				return nil, false, classify("searching for "+f.arg, err)
			}
			for _, it := range c.statusItems(f, res.Statuses) {
				if !seen[it.id] {
					seen[it.id] = true
					items = append(items, it)
				}
			}
			if len(res.Statuses) < statusesLimit || f.cursor == "" {
				break
			}
		}
	}
	slices.SortStableFunc(items, func(a, b pollItem) int { return gomastodon.ID(a.id).Compare(gomastodon.ID(b.id)) })
	return items, more, nil
}

func (c *Connector) statusItems(f *feed, raws []json.RawMessage) []pollItem {
	items := make([]pollItem, 0, len(raws))
	for _, raw := range raws {
		var s apiStatus
		if err := json.Unmarshal(raw, &s); err != nil {
			c.skipMalformed(f, "status", raw, err)
			if id := rawID(raw); id != "" {
				items = append(items, pollItem{id: id})
			}
			continue
		}
		if s.ID == "" {
			continue
		}
		items = append(items, pollItem{id: string(s.ID), status: &s})
	}
	return items
}

// skipMalformed logs an element of a page that cannot be read.
func (c *Connector) skipMalformed(f *feed, what string, raw []byte, err error) {
	c.log.Error("mastodon: skipping a malformed "+what+" the server sent (the rest of the page is delivered)",
		"feed", f.name, "id", rawID(raw), "bytes", len(raw), "err", err)
	c.emit(f.name, "malformed")
}

// rawID extracts the id of a JSON object that does not decode otherwise.
func rawID(raw []byte) string {
	var v struct {
		ID gomastodon.ID `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return ""
		}
		var s string
		if json.Unmarshal(m["id"], &s) != nil {
			return ""
		}
		return s
	}
	return string(v.ID)
}

// matchesHome reports whether a home-timeline status concerns the brand:
// it contains a keyword or carries a configured hashtag.
func (c *Connector) matchesHome(s *apiStatus) bool {
	for _, t := range s.Tags {
		if slices.Contains(c.hashtags, strings.ToLower(t.Name)) {
			return true
		}
	}
	if len(c.keywords) == 0 {
		return false
	}
	text := statusText(s)
	for _, k := range c.keywords {
		if containsWord(text, k) {
			return true
		}
	}
	return false
}

// seenSet remembers the last max ids delivered.
type seenSet struct {
	mu   sync.Mutex
	max  int
	ids  map[string]struct{}
	ring []string
	next int
}

// add records id; it reports false when id was already there.
func (s *seenSet) add(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ids == nil {
		s.ids = make(map[string]struct{}, s.max)
	}
	if _, ok := s.ids[id]; ok {
		return false
	}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % s.max
	}
	s.ids[id] = struct{}{}
	return true
}

// remove forgets id (its ring slot is reused in turn).
func (s *seenSet) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}
