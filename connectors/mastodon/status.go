package mastodon

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

var _ parley.StatusReporter = (*Connector)(nil)

// liveState is what the connector knows of its own health, for Status.
type liveState struct {
	mu        sync.Mutex
	streaming map[string]bool // feed name → its stream is connected
	streams   int             // feeds that have a stream
	polled    bool            // the last poll succeeded
	lastErr   string
	lastErrAt time.Time
}

func (l *liveState) note(feed, event string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.streaming == nil {
		l.streaming = map[string]bool{}
	}
	switch event {
	case "stream_connected":
		l.streaming[feed] = true
	case "stream_disconnected":
		l.streaming[feed] = false
	case "poll_done":
		l.polled = true
	case "poll_failed":
		l.polled = false
	}
}

func (l *liveState) fail(what string, err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lastErr, l.lastErrAt = what+": "+err.Error(), time.Now()
}

// Status implements parley.StatusReporter: streaming while every feed that
// can stream does (keyword searches always poll), else polling; the
// server's rate-limit headers as last seen.
func (c *Connector) Status() parley.ConnectorStatus {
	l := &c.live
	l.mu.Lock()
	up := 0
	for _, on := range l.streaming {
		if on {
			up++
		}
	}
	st := parley.ConnectorStatus{Platform: parley.PlatformMastodon, Connected: l.polled || up > 0,
		LastError: l.lastErr, LastErrorAt: l.lastErrAt}
	streams := l.streams
	l.mu.Unlock()
	st.Mode = parley.ModePolling
	if streams > 0 && up == streams {
		st.Mode = parley.ModeStreaming
	}
	st.Detail = fmt.Sprintf("%d of %d streams connected", up, streams)
	if len(c.keywords) > 0 {
		st.Detail += fmt.Sprintf("; %d keyword searches poll every %s", len(c.keywords), c.pollInterval)
	}
	st.RateLimit = c.lim.state()
	return st
}

// rateState is the rate-limit headers last seen.
type rateState struct {
	remaining, limit int
	reset            time.Time
	hits             int
}

// record keeps the rate-limit headers of resp.
func (l *limiter) record(h http.Header, reset time.Time, limited bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.rate.seen {
		l.rate.remaining, l.rate.limit = -1, -1
		l.rate.seen = true
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining"))); err == nil {
		l.rate.remaining = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit"))); err == nil {
		l.rate.limit = n
	}
	if !reset.IsZero() {
		l.rate.reset = reset
	}
	if limited {
		l.rate.hits++
	}
}

func (l *limiter) state() parley.RateLimit {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := parley.RateLimit{Remaining: -1, Limit: -1, HeldUntil: l.until, Hits: l.rate.hits}
	if l.rate.seen {
		r.Remaining, r.Limit, r.Reset = l.rate.remaining, l.rate.limit, l.rate.reset
	}
	return r
}
