package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// clock is a settable time for rate limits.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// tryFrom posts a login as if from addr (the server trusts the proxy).
func (c *client) tryFrom(addr, name, password string) *http.Response {
	c.e.t.Helper()
	c.get("/login")
	res, _ := c.post("/login", url.Values{"name": {name}, "password": {password}}, "X-Forwarded-For", addr)
	return res
}

func retryAfter(t *testing.T, res *http.Response) time.Duration {
	t.Helper()
	n, err := strconv.Atoi(res.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q", res.Header.Get("Retry-After"))
	return time.Duration(n) * time.Second
}

// Logins are throttled per name and address with a growing wait; only
// failures count, and the right password from an address that has not
// failed always gets in, however many failures others made.
func TestLoginThrottleByNameAndAddress(t *testing.T) {
	clk := &clock{now: time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)}
	e := newEnv(t, func(c *web.Config, o *web.Options) {
		c.BehindProxy = true
		o.Now = clk.Now
		o.LoginLimit = web.LoginLimit{PerUser: 3, PerIP: 8, Window: time.Hour, Backoff: time.Minute}
	})
	e.addUser("ana", parley.RoleAgent, "the right password")
	e.addUser("bo", parley.RoleAgent, "the right password")
	attacker := e.client()
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, attacker.tryFrom("203.0.113.9", "ana", "wrong").StatusCode)
	}
	res := attacker.tryFrom("203.0.113.9", "ana", "wrong")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the failing address waits")
	first := retryAfter(t, res)
	assert.Equal(t, time.Minute, first)
	// Refused attempts do not count: the wait does not grow.
	for range 5 {
		res = attacker.tryFrom("203.0.113.9", "ana", "wrong")
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	}
	assert.LessOrEqual(t, retryAfter(t, res), first)

	// Ana, from her own address, is not locked out.
	ana := e.client()
	assert.Equal(t, http.StatusSeeOther, ana.tryFrom("198.51.100.7", "ana", "the right password").StatusCode)

	// After the wait, one more failure doubles it.
	clk.Add(first)
	assert.Equal(t, http.StatusUnauthorized, attacker.tryFrom("203.0.113.9", "ana", "wrong").StatusCode)
	res = attacker.tryFrom("203.0.113.9", "ana", "the right password")
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, 2*time.Minute, retryAfter(t, res))

	// Successful logins never count against an address.
	for range 12 {
		require.Equal(t, http.StatusSeeOther, e.client().tryFrom("192.0.2.1", "bo", "the right password").StatusCode)
	}

	// An address spraying many names waits once it has failed PerIP times.
	spray := e.client()
	for i := range 8 {
		assert.Equal(t, http.StatusUnauthorized, spray.tryFrom("203.0.113.50", "name"+strconv.Itoa(i), "guess").StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, spray.tryFrom("203.0.113.50", "bo", "the right password").StatusCode)
	assert.Equal(t, http.StatusSeeOther, e.client().tryFrom("192.0.2.2", "bo", "the right password").StatusCode)

	// Guessing one name from many addresses: once it has failed 4·PerUser
	// times, every address that failed for it waits after one failure.
	for i := range 12 {
		assert.Equal(t, http.StatusUnauthorized, e.client().tryFrom("10.0.0."+strconv.Itoa(i), "bo", "guess").StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, e.client().tryFrom("10.0.0.1", "bo", "guess").StatusCode)
	assert.Equal(t, http.StatusSeeOther, e.client().tryFrom("192.0.2.3", "bo", "the right password").StatusCode)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A failed login under a name that is not a user (a password typed into
// the name field, or a megabyte of junk) is recorded without what was
// typed: in the audit table, the log and /activity.
func TestFailedLoginNamesRedacted(t *testing.T) {
	var logs syncBuffer
	e := newEnv(t, func(_ *web.Config, o *web.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	e.addUser("ana", parley.RoleManager, "the right password")
	c := e.client()
	c.get("/login")
	secret := "Tr0ub4dor&3-my-password"
	huge := strings.Repeat("x", 900<<10)
	for _, name := range []string{secret, huge, "ana"} {
		res, body := c.post("/login", url.Values{"name": {name}, "password": {"wrong"}})
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		assert.Less(t, len(body), 64<<10, "the typed name is not echoed back in full")
	}
	entries, err := e.st.AuditEntries(context.Background(), parley.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, entries, 3)
	for _, en := range entries {
		assert.Equal(t, "login_failed", en.Action)
		assert.LessOrEqual(t, len(en.Actor)+len(en.Detail), 200, "audit entry is short")
		assert.NotContains(t, en.Actor, secret)
		assert.NotContains(t, en.Actor, "xxxx")
	}
	assert.Equal(t, "ana", entries[0].Actor, "a real user's name is kept")
	assert.NotEqual(t, entries[1].Actor, entries[2].Actor, "different names stay apart")
	assert.NotContains(t, logs.String(), secret)
	assert.NotContains(t, logs.String(), strings.Repeat("x", 100))

	m := e.loggedIn("bo", parley.RoleManager)
	res, body := m.get("/activity")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotContains(t, body, secret)
	assert.Contains(t, body, "login_failed")
}
