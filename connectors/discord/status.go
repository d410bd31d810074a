package discord

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/parleybot/parley"
)

var _ parley.StatusReporter = (*Connector)(nil)

// rateHeaders keeps the rate-limit headers of the last REST answer that
// carried them (X-RateLimit-Remaining, -Limit, -Reset: per route bucket).
type rateHeaders struct {
	next http.RoundTripper

	mu               sync.Mutex
	remaining, limit int
	reset            time.Time
	seen             bool
}

func (t *rateHeaders) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	h := resp.Header
	rem, err1 := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	lim, err2 := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	if err1 == nil && err2 == nil {
		t.mu.Lock()
		t.remaining, t.limit, t.seen = rem, lim, true
		if f, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64); err == nil {
			t.reset = time.UnixMilli(int64(f * 1000))
		} else if f, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err == nil {
			t.reset = time.Now().Add(time.Duration(f * float64(time.Second)))
		}
		t.mu.Unlock()
	}
	return resp, nil
}

// liveState is what Status reports beyond the rate limits.
type liveState struct {
	mu        sync.Mutex
	up        bool
	lastErr   string
	lastErrAt time.Time
	heldUntil time.Time
}

func (c *Connector) noteGateway(up bool, err error) {
	c.live.mu.Lock()
	defer c.live.mu.Unlock()
	c.live.up = up
	if err != nil {
		c.live.lastErr, c.live.lastErrAt = "gateway: "+err.Error(), c.opt.now()
	}
}

// Status implements parley.StatusReporter: the gateway (Discord's
// stream) up or reconnecting, whether the message content intent was
// granted, the last error, and the rate-limit headers of the last answer.
func (c *Connector) Status() parley.ConnectorStatus {
	c.live.mu.Lock()
	st := parley.ConnectorStatus{Platform: parley.PlatformDiscord, Connected: c.live.up, Mode: parley.ModeStreaming,
		LastError: c.live.lastErr, LastErrorAt: c.live.lastErrAt}
	held := c.live.heldUntil
	c.live.mu.Unlock()
	st.Detail = "gateway connected"
	if !st.Connected {
		st.Detail = "gateway reconnecting"
	}
	c.mu.Lock()
	if c.intents&discordgo.IntentsMessageContent == 0 {
		st.Detail += ", without the message content intent (hears only messages that mention the bot)"
	}
	c.mu.Unlock()
	c.rl.mu.Lock()
	st.RateLimit = parley.RateLimit{Remaining: -1, Limit: -1, Hits: c.rl.total, HeldUntil: held}
	c.rl.mu.Unlock()
	if t := c.rateHeaders; t != nil {
		t.mu.Lock()
		if t.seen {
			st.RateLimit.Remaining, st.RateLimit.Limit, st.RateLimit.Reset = t.remaining, t.limit, t.reset
		}
		t.mu.Unlock()
	}
	return st
}
