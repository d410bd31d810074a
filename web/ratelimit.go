package web

import (
	"strings"
	"sync"
	"time"
)

// LoginLimit bounds login attempts in a sliding window. Zero fields take
// the defaults: 5 failed attempts per user name and 20 attempts per IP
// address every 15 minutes.
type LoginLimit struct {
	PerUser int
	PerIP   int
	Window  time.Duration
}

func (l LoginLimit) withDefaults() LoginLimit {
	if l.PerUser <= 0 {
		l.PerUser = 5
	}
	if l.PerIP <= 0 {
		l.PerIP = 20
	}
	if l.Window <= 0 {
		l.Window = 15 * time.Minute
	}
	return l
}

// loginLimiter counts login attempts per IP (all of them) and per user
// name (failures; a success clears them), in memory.
type loginLimiter struct {
	limit LoginLimit
	now   func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
	byIP      map[string][]time.Time
	byUser    map[string][]time.Time
}

func newLoginLimiter(l LoginLimit, now func() time.Time) *loginLimiter {
	return &loginLimiter{limit: l.withDefaults(), now: now,
		byIP: map[string][]time.Time{}, byUser: map[string][]time.Time{}}
}

// allow records an attempt from ip for user and reports whether it may go
// ahead; when not, wait says for how long.
func (l *loginLimiter) allow(ip, user string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	user = strings.ToLower(user)
	if now.Sub(l.lastPrune) > time.Second {
		l.prune(now)
		l.lastPrune = now
	}
	ips, users := recent(l.byIP[ip], now.Add(-l.limit.Window)), recent(l.byUser[user], now.Add(-l.limit.Window))
	if len(ips) >= l.limit.PerIP {
		return false, ips[0].Add(l.limit.Window).Sub(now)
	}
	// Every attempt counts against the address, even one refused for the name.
	l.byIP[ip] = append(ips, now)
	if len(users) >= l.limit.PerUser {
		return false, users[0].Add(l.limit.Window).Sub(now)
	}
	return true, 0
}

// failed records a failed attempt for user.
func (l *loginLimiter) failed(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	user = strings.ToLower(user)
	l.byUser[user] = append(l.byUser[user], l.now())
}

// succeeded clears user's failures.
func (l *loginLimiter) succeeded(user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byUser, strings.ToLower(user))
}

// recent returns the times after cut (ts is in order).
func recent(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// prune drops attempts older than the window (keeping memory bounded by
// the attempts of the last window).
func (l *loginLimiter) prune(now time.Time) {
	cut := now.Add(-l.limit.Window)
	for _, m := range []map[string][]time.Time{l.byIP, l.byUser} {
		for k, ts := range m {
			if r := recent(ts, cut); len(r) == 0 {
				delete(m, k)
			} else {
				m[k] = r
			}
		}
	}
}
