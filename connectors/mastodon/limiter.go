package mastodon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxRateWait caps a single pause asked for by the server (a Retry-After
// or X-RateLimit-Reset far in the future is a server bug, not a plan).
const maxRateWait = time.Hour

// defaultRetryAfter is the pause after a 429 that says nothing of when to
// come back.
const defaultRetryAfter = 30 * time.Second

// limiter holds every request to one server back while the server has
// asked us to wait: after a 429 (Retry-After, else X-RateLimit-Reset) and
// while X-RateLimit-Remaining is 0 (until X-RateLimit-Reset). Every REST
// request and every streaming handshake goes through it, so no loop of
// ours can spin against a throttled server.
type limiter struct {
	log *slog.Logger

	mu    sync.Mutex
	until time.Time
	rate  struct {
		rateState
		seen bool
	}
}

// wait blocks until the server accepts requests again or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	for {
		d := l.blockedFor()
		if d <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// blockedFor is how long requests must still wait.
func (l *limiter) blockedFor() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Until(l.until)
}

func (l *limiter) holdUntil(t time.Time) {
	now := time.Now()
	if t.After(now.Add(maxRateWait)) {
		t = now.Add(maxRateWait)
	}
	l.mu.Lock()
	if t.After(l.until) {
		l.until = t
	}
	l.mu.Unlock()
}

// observe reads the rate-limit headers of resp. It reports whether resp is
// a 429, and how long the server asked us to wait.
func (l *limiter) observe(resp *http.Response, path string) (wait time.Duration, limited bool) {
	now := time.Now()
	h := resp.Header
	reset, hasReset := parseResetHeader(h.Get("X-RateLimit-Reset"), now)
	if hasReset || resp.StatusCode == http.StatusTooManyRequests || h.Get("X-RateLimit-Remaining") != "" {
		var r time.Time
		if hasReset {
			r = reset
		}
		l.record(h, r, resp.StatusCode == http.StatusTooManyRequests)
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		wait = parseRetryAfter(h.Get("Retry-After"), now)
		if wait <= 0 && hasReset {
			wait = reset.Sub(now)
		}
		if wait <= 0 {
			wait = defaultRetryAfter
		}
		wait = min(wait, maxRateWait)
		l.holdUntil(now.Add(wait))
		l.log.Warn("mastodon server rate limit hit (429); pausing requests", "path", path, "retry_after", wait.Round(time.Millisecond).String())
		return wait, true
	}
	if rem := strings.TrimSpace(h.Get("X-RateLimit-Remaining")); rem != "" && hasReset {
		if n, err := strconv.Atoi(rem); err == nil && n <= 0 && reset.After(now) {
			l.holdUntil(reset)
			l.log.Info("mastodon rate limit used up; pausing requests until it resets", "reset_in", reset.Sub(now).Round(time.Millisecond).String())
		}
	}
	return 0, false
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f <= 0 {
			return 0
		}
		return time.Duration(f * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// parseResetHeader reads X-RateLimit-Reset: an ISO 8601 time (Mastodon,
// GoToSocial) or, from some proxies, a Unix time in seconds.
func parseResetHeader(v string, now time.Time) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > 1e9 {
			return time.Unix(n, 0), true
		}
		return now.Add(time.Duration(n) * time.Second), true
	}
	return time.Time{}, false
}

// rateLimitedError is a 429 answer; the limiter already holds further
// requests back.
type rateLimitedError struct {
	retryAfter time.Duration
}

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("the server is rate limiting us (429); retry after %s", e.retryAfter.Round(time.Second))
}

type ctxKey int

const idempotencyKey ctxKey = 1

// withIdempotencyKey makes the transport send key as Idempotency-Key.
func withIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idempotencyKey, key)
}

// transport wraps the caller's RoundTripper: it waits for the limiter,
// adds the Idempotency-Key carried by the request's context, and turns a
// 429 into a *rateLimitedError (so go-mastodon's own retry loop, which
// ignores Retry-After, never runs).
type transport struct {
	base      http.RoundTripper
	lim       *limiter
	userAgent string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.lim.wait(req.Context()); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	r := req.Clone(req.Context())
	if key, ok := req.Context().Value(idempotencyKey).(string); ok && key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	if t.userAgent != "" && r.Header.Get("User-Agent") == "" {
		r.Header.Set("User-Agent", t.userAgent)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if wait, limited := t.lim.observe(resp, r.URL.Path); limited {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		return nil, &rateLimitedError{retryAfter: wait}
	}
	return resp, nil
}
