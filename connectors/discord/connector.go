package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

// Intents the connector asks the gateway for. Message content is
// privileged: without it enabled in the Developer Portal, Discord closes the
// gateway with code 4014 and the connector goes on without it (messages then
// arrive with empty content unless they mention the bot or are DMs).
const (
	baseIntents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	allIntents  = baseIntents | discordgo.IntentsMessageContent
)

// Application flags telling that the message content intent is enabled.
const (
	appFlagGatewayMessageContent        = 1 << 19
	appFlagGatewayMessageContentLimited = 1 << 18
)

// Gateway close codes the connector acts on.
const (
	closeAuthenticationFailed = 4004
	closeInvalidIntents       = 4013
	closeDisallowedIntents    = 4014
)

// Option tunes a Connector (mostly for tests).
type Option func(*options)

type options struct {
	httpClient     *http.Client
	minBackoff     time.Duration
	maxBackoff     time.Duration
	pollInterval   time.Duration
	rateRetries    int
	maxRateWait    time.Duration
	stormThreshold int
	stormWindow    time.Duration
	now            func() time.Time
}

// WithHTTPClient sets the HTTP client whose transport carries REST calls
// (its transport is wrapped to reach api_url).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithReconnectBackoff sets the first and the longest wait between gateway
// reconnection attempts (default 1s and 2m).
func WithReconnectBackoff(first, longest time.Duration) Option {
	return func(o *options) { o.minBackoff, o.maxBackoff = first, longest }
}

// WithStaffPollInterval sets how often the staff channel mirror looks for new
// and decided drafts (default 3s).
func WithStaffPollInterval(d time.Duration) Option { return func(o *options) { o.pollInterval = d } }

// WithRateLimitRetries sets how many times one REST call is retried after a
// 429 answer before it fails with EUNAVAILABLE (default 5), and the longest
// single wait honoured (default 1m).
func WithRateLimitRetries(n int, maxWait time.Duration) Option {
	return func(o *options) { o.rateRetries, o.maxRateWait = n, maxWait }
}

// WithRateLimitStorm sets when 429 answers count as a storm worth a warning:
// threshold answers within window (default 10 in 1m).
func WithRateLimitStorm(threshold int, window time.Duration) Option {
	return func(o *options) { o.stormThreshold, o.stormWindow = threshold, window }
}

// Connector is a Discord bot: a parley.Source (Run) and a parley.Sender
// (Send). Run also runs the staff-channel approval mirror when
// staff_channel is configured. Send may be called before, during and after
// Run, from several goroutines.
type Connector struct {
	cfg   Config
	log   *slog.Logger
	store parley.Store
	// decider makes the staff buttons' decisions (SetDecider).
	decider parley.Decider
	s       *discordgo.Session
	opt     options

	channels   map[string]bool
	guilds     map[string]bool
	keywords   []string
	staffRoles map[string]bool

	running atomic.Bool
	start   time.Time     // when Run began: channels without a cursor start here
	stop    chan struct{} // closed when Run ends

	msgs         chan *discordgo.Message
	interactions chan *discordgo.Interaction
	connected    chan struct{}
	disconnected chan struct{}
	intentErr    chan int // gateway close codes seen by Open

	mu        sync.Mutex
	botID     string
	botName   string
	appID     string
	botRoles  map[string]map[string]bool // guild → role ids of the bot
	roleNames map[string]string
	chans     map[string]chanInfo
	intents   discordgo.Intent
	cursors   map[string]string // configured channel → last message id handled
	dirty     map[string]bool   // cursors not yet saved
	seen      *seenSet

	rl          rateState
	rateHeaders *rateHeaders
	live        liveState

	staffMu sync.Mutex
}

type chanInfo struct {
	guildID  string
	parentID string
	name     string
	typ      discordgo.ChannelType
}

func (i chanInfo) isThread() bool {
	return i.typ == discordgo.ChannelTypeGuildPublicThread || i.typ == discordgo.ChannelTypeGuildPrivateThread || i.typ == discordgo.ChannelTypeGuildNewsThread
}

// New returns a Connector for cfg. token is the bot token (as read by
// cfg.Token; a "Bot " prefix is added when missing). store is used for
// cursors and, with a staff channel, for the approval queue; it may be nil
// only when the connector is used as a Sender alone. New does not touch the
// network. Errors: EINVALID for an unusable config.
func New(cfg Config, token string, store parley.Store, logger *slog.Logger, opts ...Option) (*Connector, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, parley.Errorf(parley.EINVALID, "connectors.discord: empty bot token (set %s)", cfg.TokenVar())
	}
	if !strings.HasPrefix(token, "Bot ") {
		token = "Bot " + token
	}
	base, err := cfg.apiBase()
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "connectors.discord.api_url: %w", err)
	}
	if cfg.StaffChannel != "" && len(cfg.StaffRoles) == 0 {
		return nil, parley.Errorf(parley.EINVALID, "connectors.discord.staff_roles: staff_channel is set but staff_roles is empty")
	}
	o := options{
		minBackoff:     time.Second,
		maxBackoff:     2 * time.Minute,
		pollInterval:   3 * time.Second,
		rateRetries:    5,
		maxRateWait:    time.Minute,
		stormThreshold: 10,
		stormWindow:    time.Minute,
		now:            time.Now,
	}
	for _, f := range opts {
		f(&o)
	}
	hc := o.httpClient
	if hc == nil {
		hc = &http.Client{Timeout: 20 * time.Second}
	}
	client := *hc
	next := client.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	if base.String() != DefaultAPIURL {
		next = &rewriteTransport{base: base, next: next}
	}
	rh := &rateHeaders{next: next}
	client.Transport = rh

	s, err := discordgo.New(token)
	if err != nil {
		return nil, fmt.Errorf("discord: new session: %w", err)
	}
	s.Client = &client
	s.ShouldReconnectOnError = false // Run reconnects, with its own backoff and catch-up
	s.ShouldRetryOnRateLimit = false // call() retries 429s, watching ctx and counting storms
	s.SyncEvents = true              // handlers keep gateway order; they only queue
	s.StateEnabled = false
	s.LogLevel = -1 // discordgo would print to the global log; Run logs instead
	s.Identify.Intents = allIntents
	s.Identify.Compress = false

	c := &Connector{
		rateHeaders:  rh,
		cfg:          cfg,
		log:          logger.With("connector", "discord"),
		store:        store,
		s:            s,
		opt:          o,
		channels:     set(cfg.Channels),
		guilds:       set(cfg.Guilds),
		staffRoles:   set(cfg.StaffRoles),
		stop:         make(chan struct{}),
		msgs:         make(chan *discordgo.Message, 256),
		interactions: make(chan *discordgo.Interaction, 64),
		connected:    make(chan struct{}, 1),
		disconnected: make(chan struct{}, 1),
		intentErr:    make(chan int, 1),
		botRoles:     map[string]map[string]bool{},
		roleNames:    map[string]string{},
		chans:        map[string]chanInfo{},
		intents:      allIntents,
		cursors:      map[string]string{},
		dirty:        map[string]bool{},
		seen:         newSeenSet(2048),
	}
	for _, k := range cfg.Keywords {
		if k = strings.ToLower(strings.TrimSpace(k)); k != "" {
			c.keywords = append(c.keywords, k)
		}
	}
	c.addHandlers()
	return c, nil
}

func set(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[strings.TrimSpace(id)] = true
	}
	return m
}

// Platform returns "discord".
func (c *Connector) Platform() string { return parley.PlatformDiscord }

// rewriteTransport sends every request meant for discord.com to the
// configured API base, leaving discordgo's global endpoints untouched.
type rewriteTransport struct {
	base *url.URL
	next http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "discord.com" {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = t.base.Scheme
	r.URL.Host = t.base.Host
	r.URL.Path = t.base.Path + req.URL.Path
	if req.URL.RawPath != "" {
		r.URL.RawPath = t.base.Path + req.URL.RawPath
	}
	r.Host = t.base.Host
	return t.next.RoundTrip(r)
}

func (c *Connector) addHandlers() {
	c.s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { c.onReady(r) })
	c.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Connect) { signal(c.connected) })
	c.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) { signal(c.disconnected) })
	c.s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Resumed) { c.log.Info("gateway session resumed") })
	c.s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { c.onGuild(g.Guild) })
	c.s.AddHandler(func(_ *discordgo.Session, ch *discordgo.ChannelCreate) { c.rememberChannel(ch.Channel) })
	c.s.AddHandler(func(_ *discordgo.Session, ch *discordgo.ThreadCreate) { c.rememberChannel(ch.Channel) })
	c.s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) {
		if m.Message == nil {
			return
		}
		select {
		case c.msgs <- m.Message:
		case <-c.stop:
		}
	})
	c.s.AddHandler(func(_ *discordgo.Session, i *discordgo.InteractionCreate) {
		if i.Interaction == nil {
			return
		}
		select {
		case c.interactions <- i.Interaction:
		case <-c.stop:
		default:
			c.log.Warn("interaction queue full; click ignored", "interaction_id", i.ID)
		}
	})
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *Connector) onReady(r *discordgo.Ready) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.User != nil {
		c.botID = r.User.ID
		c.botName = r.User.Username
		if r.User.GlobalName != "" {
			c.botName = r.User.GlobalName
		}
	}
	if r.Application != nil {
		c.appID = r.Application.ID
		if c.intents&discordgo.IntentsMessageContent != 0 && r.Application.Flags&(appFlagGatewayMessageContent|appFlagGatewayMessageContentLimited) == 0 {
			c.log.Warn("the message content intent does not look enabled for this application: messages will arrive with empty content unless they mention the bot or are DMs; enable MESSAGE CONTENT INTENT under Bot in the Discord Developer Portal")
		}
	}
	for _, g := range r.Guilds {
		c.onGuildLocked(g)
	}
	c.log.Info("gateway ready", "bot_user", c.botName, "bot_id", c.botID, "guilds", len(r.Guilds))
}

func (c *Connector) onGuild(g *discordgo.Guild) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.onGuildLocked(g)
}

func (c *Connector) onGuildLocked(g *discordgo.Guild) {
	if g == nil {
		return
	}
	for _, r := range g.Roles {
		c.roleNames[r.ID] = r.Name
	}
	for _, ch := range append(append([]*discordgo.Channel{}, g.Channels...), g.Threads...) {
		if ch.GuildID == "" {
			ch.GuildID = g.ID
		}
		c.chans[ch.ID] = chanInfo{guildID: ch.GuildID, parentID: ch.ParentID, name: ch.Name, typ: ch.Type}
	}
	for _, m := range g.Members {
		if m.User != nil && m.User.ID == c.botID {
			c.botRoles[g.ID] = set(m.Roles)
		}
	}
}

func (c *Connector) rememberChannel(ch *discordgo.Channel) {
	if ch == nil {
		return
	}
	c.mu.Lock()
	c.chans[ch.ID] = chanInfo{guildID: ch.GuildID, parentID: ch.ParentID, name: ch.Name, typ: ch.Type}
	c.mu.Unlock()
}

// Run connects to the gateway and delivers mentions to sink until ctx
// ends, reconnecting (with RESUME) and catching up on the configured
// channels after every (re)connection. With a staff channel configured it
// also mirrors the approval queue there and handles the buttons. It returns
// nil when ctx ends, and an error only when it cannot go on: the token was
// refused (EINVALID), the store failed for good, or Run was already called.
func (c *Connector) Run(ctx context.Context, sink parley.Sink) error {
	if !c.running.CompareAndSwap(false, true) {
		return parley.Errorf(parley.EINVALID, "discord: Run called twice")
	}
	if c.store == nil {
		return parley.Errorf(parley.EINVALID, "discord: Run needs a store for its cursors")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		close(c.stop)
		_ = c.s.Close() // takes about a second: discordgo waits for the close frame
		wg.Wait()
		c.flushCursors(context.WithoutCancel(ctx), sink)
	}()

	c.start = c.opt.now()
	c.log.Info("connecting to Discord", "api_url", c.apiURL(), "watched_channels", len(c.cfg.Channels),
		"keywords", len(c.keywords), "staff_channel", c.cfg.StaffChannel)
	if c.cfg.StaffChannel != "" {
		wg.Add(2)
		go func() { defer wg.Done(); c.staffLoop(ctx) }()
		go func() { defer wg.Done(); c.interactionLoop(ctx) }()
	}

	connected := false
	retry := backoff.Policy{Base: c.opt.minBackoff, Max: c.opt.maxBackoff}
	failures := 0
	for {
		if !connected {
			err := c.open()
			// A stale Disconnect (discordgo emits one per Close, and both
			// its reader and its heartbeat may close) finds the session
			// open: nothing to do.
			if err == nil || errors.Is(err, discordgo.ErrWSAlreadyOpen) {
				c.noteGateway(true, nil)
				connected = true
				failures = 0
				continue
			}
			if fatal := c.openFailed(err); fatal != nil {
				return fatal
			}
			c.noteGateway(false, err)
			wait := retry.Delay(failures)
			failures++
			c.log.Warn("gateway connection failed; retrying", "err", err, "retry_in", wait)
			if backoff.Sleep(ctx, wait) != nil {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.disconnected:
			c.noteGateway(false, nil)
			c.log.Info("gateway disconnected; reconnecting")
			connected = false
		case <-c.connected:
			if err := c.catchUp(ctx, sink); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		case m := <-c.msgs:
			if err := c.handle(ctx, sink, m, false); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
	}
}

func (c *Connector) apiURL() string {
	u, err := c.cfg.apiBase()
	if err != nil {
		return ""
	}
	return u.String()
}

func (c *Connector) open() error {
	c.mu.Lock()
	intents := c.intents
	c.mu.Unlock()
	// Written only after a refused IDENTIFY, when no discordgo goroutine
	// of an old connection can be reading it.
	if c.s.Identify.Intents != intents {
		c.s.Identify.Intents = intents
	}
	return c.s.Open()
}

// openFailed looks at why Open failed: a refused token ends Run; a refused
// privileged intent makes the connector go on without it.
func (c *Connector) openFailed(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return nil
	}
	switch ce.Code {
	case closeAuthenticationFailed:
		return parley.Errorf(parley.EINVALID, "discord: the gateway refused the bot token (close code 4004); check %s", c.cfg.TokenVar())
	case closeDisallowedIntents, closeInvalidIntents:
		c.mu.Lock()
		had := c.intents&discordgo.IntentsMessageContent != 0
		c.intents = baseIntents
		c.mu.Unlock()
		if !had {
			return parley.Errorf(parley.EINVALID, "discord: the gateway refused the intents %d (close code %d)", baseIntents, ce.Code)
		}
		c.log.Warn("the MESSAGE CONTENT privileged intent is not enabled for this bot (gateway close 4014): going on without it, so messages arrive with empty content unless they mention the bot or are DMs, and keywords never match; enable it under Bot → Privileged Gateway Intents in the Discord Developer Portal")
	}
	return nil
}

// call runs one REST call, retrying it after 429 answers (honouring
// retry_after, at most opt.rateRetries times, and ctx). Every 429 counts
// towards the storm warning.
func (c *Connector) call(ctx context.Context, fn func(opts ...discordgo.RequestOption) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false))
		var rle *discordgo.RateLimitError
		if !errors.As(err, &rle) {
			return err
		}
		wait := time.Duration(0)
		if rle.RateLimit != nil && rle.TooManyRequests != nil {
			wait = rle.RetryAfter
		}
		c.noteRateLimit(rle.URL, wait)
		if attempt >= c.opt.rateRetries {
			// RateLimitError's text holds the URL, and interaction URLs
			// hold a token: keep it out of errors and logs.
			return &rateLimitedError{route: redactRoute(rle.URL), after: wait}
		}
		wait = max(min(wait, c.opt.maxRateWait), 5*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// rateLimitedError is returned when a call is still rate limited after
// its retries.
type rateLimitedError struct {
	route string
	after time.Duration
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("still rate limited on %s (retry after %s)", e.route, e.after)
}

type rateState struct {
	mu        sync.Mutex
	times     []time.Time
	warnedAt  time.Time
	total     int
	lastRoute string
}

func (c *Connector) noteRateLimit(route string, wait time.Duration) {
	now := c.opt.now()
	c.rl.mu.Lock()
	defer c.rl.mu.Unlock()
	c.rl.total++
	c.rl.lastRoute = route
	c.live.mu.Lock()
	c.live.heldUntil = now.Add(wait)
	c.live.mu.Unlock()
	cut := now.Add(-c.opt.stormWindow)
	keep := c.rl.times[:0]
	for _, t := range c.rl.times {
		if t.After(cut) {
			keep = append(keep, t)
		}
	}
	c.rl.times = append(keep, now)
	c.log.Info("rate limited by Discord; waiting", "route", redactRoute(route), "retry_after", wait)
	if len(c.rl.times) >= c.opt.stormThreshold && now.Sub(c.rl.warnedAt) >= c.opt.stormWindow {
		c.rl.warnedAt = now
		c.log.Warn("429 storm: Discord keeps rate limiting the bot; posts are delayed, not lost",
			"count", len(c.rl.times), "window", c.opt.stormWindow, "route", redactRoute(route))
	}
}

// RateLimited returns how many 429 answers the connector has met so far.
func (c *Connector) RateLimited() int {
	c.rl.mu.Lock()
	defer c.rl.mu.Unlock()
	return c.rl.total
}

// redactRoute drops interaction and webhook tokens from a URL for the log.
func redactRoute(u string) string {
	for _, p := range []string{"/interactions/", "/webhooks/"} {
		if i := strings.Index(u, p); i >= 0 {
			rest := u[i+len(p):]
			parts := strings.SplitN(rest, "/", 3)
			if len(parts) >= 2 {
				parts[1] = "…"
			}
			return u[:i+len(p)] + strings.Join(parts, "/")
		}
	}
	return u
}

// seenSet remembers the last n message ids delivered, so a message seen
// twice (gateway replay after RESUME and history) is submitted once.
type seenSet struct {
	ids  map[string]bool
	ring []string
	next int
}

func newSeenSet(n int) *seenSet { return &seenSet{ids: map[string]bool{}, ring: make([]string, n)} }

func (s *seenSet) has(id string) bool { return s.ids[id] }

func (s *seenSet) add(id string) {
	if s.ids[id] {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.ids[id] = true
	s.next = (s.next + 1) % len(s.ring)
}
