package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// The streaming client is ours, on gorilla/websocket, rather than
// go-mastodon's WSClient: that one reconnects in a tight loop without
// backoff, gives up for good on a failed dial, panics on a payload that is
// not a string, and cannot say when it (re)connected, which is when a
// catch-up poll is due.

// dialConfig holds what the websocket dialer borrows from the REST
// transport.
type dialConfig struct {
	base      http.RoundTripper
	userAgent string
}

func (d dialConfig) dialer() *websocket.Dialer {
	w := &websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 20 * time.Second}
	if tr, ok := d.base.(*http.Transport); ok {
		if tr.Proxy != nil {
			w.Proxy = tr.Proxy
		}
		if tr.TLSClientConfig != nil {
			w.TLSClientConfig = tr.TLSClientConfig.Clone()
		}
		w.NetDialContext = tr.DialContext
	}
	return w
}

// errStreamRefused is a stream the server will not give us (unknown
// stream, no streaming, token refused): retried slowly while polling.
type errStreamRefused struct{ reason string }

func (e *errStreamRefused) Error() string { return "the server refused the stream: " + e.reason }

// streamURL returns the websocket URL of one stream; with tokenInURL the
// access token is in its query, and then the URL must never be logged.
func (c *Connector) streamURL(ctx context.Context, params url.Values, tokenInURL bool) (string, error) {
	inst, _ := c.instance(ctx)
	base := *c.server
	if s := strings.TrimSpace(inst.StreamingURL); s != "" {
		if u, err := url.Parse(s); err == nil && u.Host != "" {
			base = *u
		}
	}
	switch base.Scheme {
	case "https", "wss":
		base.Scheme = "wss"
	default:
		base.Scheme = "ws"
	}
	base.Path = strings.TrimRight(base.Path, "/") + "/api/v1/streaming"
	base.RawPath = ""
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	// Mastodon reads the token from the Authorization header, which proxies
	// and server logs do not record; GoToSocial and Akkoma read it only from
	// the query (or the subprotocol), so it goes there when they ask.
	if tokenInURL {
		q.Set("access_token", c.api.token)
	}
	base.RawQuery = q.Encode()
	return base.String(), nil
}

// streamLoop keeps the feed's stream connected until ctx ends, with
// exponential backoff and jitter between attempts.
func (c *Connector) streamLoop(ctx context.Context, f *feed, events chan<- streamEvent) {
	attempt := 0
	refusedLogged := false
	stableAfter := min(30*time.Second, c.backoffMax)
	for ctx.Err() == nil {
		connectedAt, err := c.streamOnce(ctx, f, events)
		if ctx.Err() != nil {
			return
		}
		if !connectedAt.IsZero() {
			send(ctx, events, streamEvent{kind: evDisconnected, at: time.Now()})
			c.emit(f.name, "stream_disconnected")
			if time.Since(connectedAt) >= stableAfter {
				attempt = 0
			}
		}
		var refused *errStreamRefused
		var wait time.Duration
		switch {
		case errors.As(err, &refused):
			wait = c.backoffMax
			c.live.fail("stream "+f.name, err)
			if !refusedLogged {
				c.log.Warn("mastodon streaming unavailable for this feed; polling instead and retrying the stream now and then",
					"feed", f.name, "reason", refused.reason, "poll_interval", c.pollInterval.String(), "retry_in", wait.String())
				refusedLogged = true
			}
		default:
			c.live.fail("stream "+f.name, err)
			wait = c.backoff(attempt)
			attempt++
			c.log.Info("mastodon stream disconnected; reconnecting", "feed", f.name, "err", err, "retry_in", wait.Round(time.Millisecond).String())
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return
		}
	}
}

func send(ctx context.Context, events chan<- streamEvent, ev streamEvent) bool {
	select {
	case events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// streamOnce connects once and reads until the connection ends. It returns
// when it connected (zero if it did not) and why it ended.
func (c *Connector) streamOnce(ctx context.Context, f *feed, events chan<- streamEvent) (connectedAt time.Time, err error) {
	conn, err := c.dialStream(ctx, f.name, f.stream)
	if err != nil {
		return time.Time{}, err
	}
	defer conn.Close()
	connectedAt = time.Now()
	c.log.Debug("mastodon stream connected", "feed", f.name, "stream", f.stream.Get("stream"))
	c.emit(f.name, "stream_connected")
	if !send(ctx, events, streamEvent{kind: evConnected, at: connectedAt}) {
		return connectedAt, ctx.Err()
	}

	readTimeout := 3 * c.pingInterval
	conn.SetReadLimit(c.maxFrame)
	_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
	conn.SetPongHandler(func(string) error {
		return conn.SetReadDeadline(time.Now().Add(readTimeout))
	})
	conn.SetPingHandler(func(data string) error {
		_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
		err := conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(10*time.Second))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		return err
	})
	defer c.startPinger(ctx, conn)()

	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() != nil {
				return connectedAt, ctx.Err()
			}
			if errors.Is(err, websocket.ErrReadLimit) {
				c.log.Warn("mastodon stream frame too large; reconnecting and polling for what it carried", "feed", f.name, "max_bytes", c.maxFrame)
				return connectedAt, fmt.Errorf("frame larger than %d bytes", c.maxFrame)
			}
			return connectedAt, err
		}
		_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
		if err := c.handleFrame(ctx, f, data, events); err != nil {
			return connectedAt, err
		}
	}
}

// startPinger pings the server every pingInterval and closes conn when ctx
// ends, which unblocks a read. The returned function stops it and waits.
func (c *Connector) startPinger(ctx context.Context, conn *websocket.Conn) (stop func()) {
	done := make(chan struct{})
	pingerDone := make(chan struct{})
	go func() {
		defer close(pingerDone)
		t := time.NewTicker(c.pingInterval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
				conn.Close()
				return
			case <-t.C:
				_ = conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(10*time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-pingerDone
	}
}

// frame is one streaming message: {"event":"update","stream":["user"],
// "payload":"<JSON string>"}, or an error {"error":"...","status":400}.
type frame struct {
	Event   string          `json:"event"`
	Stream  []string        `json:"stream"`
	Payload json.RawMessage `json:"payload"`
	Error   string          `json:"error"`
	Status  int             `json:"status"`
}

// handleFrame turns one frame into events. It returns an error only to end
// the connection (the server reported an error).
func (c *Connector) handleFrame(ctx context.Context, f *feed, data []byte, events chan<- streamEvent) error {
	var fr frame
	if err := json.Unmarshal(data, &fr); err != nil {
		c.log.Error("mastodon: unreadable stream frame; polling to fetch what it carried", "feed", f.name, "bytes", len(data), "err", err)
		c.emit(f.name, "malformed")
		send(ctx, events, streamEvent{kind: evMissed})
		return nil
	}
	if fr.Error != "" && fr.Event == "" {
		return &errStreamRefused{reason: fmt.Sprintf("%s (status %d)", fr.Error, fr.Status)}
	}
	if fr.Event != "update" && fr.Event != "notification" {
		return nil // delete, status.update, filters_changed, announcement, ...
	}
	payload := []byte(fr.Payload)
	if p := strings.TrimSpace(string(fr.Payload)); strings.HasPrefix(p, `"`) {
		var s string
		if err := json.Unmarshal(fr.Payload, &s); err != nil {
			payload = nil
		} else {
			payload = []byte(s)
		}
	}
	bad := func(what string, err error) error {
		c.log.Error("mastodon: malformed "+what+" in stream; polling to fetch it", "feed", f.name, "event", fr.Event, "bytes", len(data), "id", rawID(payload), "err", err)
		c.emit(f.name, "malformed")
		send(ctx, events, streamEvent{kind: evMissed})
		return nil
	}
	switch fr.Event {
	case "notification":
		var n apiNotification
		if err := json.Unmarshal(payload, &n); err != nil {
			return bad("notification", err)
		}
		if f.kind != feedNotifications || n.Type != "mention" || n.Status == nil {
			return nil
		}
		send(ctx, events, streamEvent{kind: evStatus, status: n.Status, channel: f.name})
	case "update":
		var s apiStatus
		if err := json.Unmarshal(payload, &s); err != nil {
			return bad("status", err)
		}
		switch f.kind {
		case feedTag:
			send(ctx, events, streamEvent{kind: evStatus, status: &s, channel: f.name})
		case feedNotifications:
			if c.matchesHome(&s) {
				send(ctx, events, streamEvent{kind: evStatus, status: &s, channel: "home"})
			}
		}
	}
	return nil
}

// dialStream opens one stream's websocket (through the rate limiter),
// retrying with the token in the URL when the server ignores the
// Authorization header. A refusal is an *errStreamRefused.
func (c *Connector) dialStream(ctx context.Context, feedName string, params url.Values) (*websocket.Conn, error) {
	if err := c.lim.wait(ctx); err != nil {
		return nil, err
	}
	tokenInURL := c.streamTokenInURL.Load()
	u, err := c.streamURL(ctx, params, tokenInURL)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+c.api.token)
	if c.dialer.userAgent != "" {
		h.Set("User-Agent", c.dialer.userAgent)
	}
	conn, resp, err := c.dialer.dialer().DialContext(ctx, u, h)
	if err != nil && !tokenInURL && resp != nil && resp.StatusCode == http.StatusUnauthorized {
		c.log.Info("mastodon server ignores the Authorization header on the stream; sending the token in the stream URL", "feed", feedName)
		c.streamTokenInURL.Store(true)
		if u, err = c.streamURL(ctx, params, true); err != nil {
			return nil, err
		}
		conn, resp, err = c.dialer.dialer().DialContext(ctx, u, h)
	}
	if err != nil {
		if resp != nil {
			if _, limited := c.lim.observe(resp, "/api/v1/streaming"); limited {
				return nil, errors.New("handshake rate limited (429)")
			}
			switch {
			case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
				return nil, &errStreamRefused{reason: fmt.Sprintf("%d %s (is the token valid, with the read scope?)", resp.StatusCode, http.StatusText(resp.StatusCode))}
			case resp.StatusCode >= 400 && resp.StatusCode < 500, resp.StatusCode == http.StatusNotImplemented:
				return nil, &errStreamRefused{reason: fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))}
			}
			return nil, fmt.Errorf("handshake: %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
		}
		return nil, fmt.Errorf("dial: %w", stripURL(err))
	}
	return conn, nil
}
