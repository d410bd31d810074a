package web

import (
	"strings"
	"sync"
	"time"
)

// LoginLimit throttles failed logins. Only failures count: a success
// never does, and the right password from an address that has not failed
// is never refused. Zero fields take the defaults.
//
//   - A name and address pair may fail PerUser times (default 5); after
//     that each attempt of the pair waits Backoff (default 30s) after its
//     last failure, doubling with every further failure, up to Window.
//   - An address may fail PerIP times (default 20, any names) in Window
//     (default 15 minutes); then it waits until its oldest failure leaves
//     the window.
//   - When one name has failed 4·PerUser times from all addresses in
//     Window (a guess spread over many addresses), every address that has
//     failed for it waits as if it had used up its PerUser failures.
type LoginLimit struct {
	PerUser int
	PerIP   int
	Window  time.Duration
	Backoff time.Duration
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
	if l.Backoff <= 0 {
		l.Backoff = 30 * time.Second
	}
	return l
}

// loginLimiter keeps the failures of the last Window in memory, by
// address, by name and by the pair.
type loginLimiter struct {
	limit LoginLimit
	now   func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
	byIP      map[string][]time.Time
	byUser    map[string][]time.Time
	byPair    map[string][]time.Time
}

func newLoginLimiter(l LoginLimit, now func() time.Time) *loginLimiter {
	return &loginLimiter{limit: l.withDefaults(), now: now,
		byIP: map[string][]time.Time{}, byUser: map[string][]time.Time{}, byPair: map[string][]time.Time{}}
}

func pairKey(ip, user string) string { return user + "\x00" + ip }

// allow reports whether a login for user from ip may be tried now; when
// not, wait says for how long. It records nothing: only failed does.
func (l *loginLimiter) allow(ip, user string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	user = strings.ToLower(user)
	if now.Sub(l.lastPrune) > time.Second {
		l.prune(now)
		l.lastPrune = now
	}
	cut := now.Add(-l.limit.Window)
	if ips := recent(l.byIP[ip], cut); len(ips) >= l.limit.PerIP {
		return false, ips[len(ips)-l.limit.PerIP].Add(l.limit.Window).Sub(now)
	}
	pair := recent(l.byPair[pairKey(ip, user)], cut)
	if len(pair) == 0 {
		return true, 0
	}
	free := l.limit.PerUser
	if len(recent(l.byUser[user], cut)) >= 4*l.limit.PerUser {
		free = min(free, len(pair))
	}
	if len(pair) < free {
		return true, 0
	}
	d := l.limit.Backoff << min(len(pair)-free, 30)
	if d <= 0 || d > l.limit.Window {
		d = l.limit.Window
	}
	if until := pair[len(pair)-1].Add(d); until.After(now) {
		return false, until.Sub(now)
	}
	return true, 0
}

// failed records a failed attempt for user from ip.
func (l *loginLimiter) failed(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	user = strings.ToLower(user)
	l.byIP[ip] = append(l.byIP[ip], now)
	l.byUser[user] = append(l.byUser[user], now)
	l.byPair[pairKey(ip, user)] = append(l.byPair[pairKey(ip, user)], now)
}

// succeeded clears the failures of user from ip.
func (l *loginLimiter) succeeded(ip, user string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.byPair, pairKey(ip, strings.ToLower(user)))
}

// recent returns the times after cut (ts is in order).
func recent(ts []time.Time, cut time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// prune drops failures older than the window (keeping memory bounded by
// the failures of the last window).
func (l *loginLimiter) prune(now time.Time) {
	cut := now.Add(-l.limit.Window)
	for _, m := range []map[string][]time.Time{l.byIP, l.byUser, l.byPair} {
		for k, ts := range m {
			if r := recent(ts, cut); len(r) == 0 {
				delete(m, k)
			} else {
				m[k] = r
			}
		}
	}
}

// rateLimiter allows each key (an API token) n requests in any window
// (a sliding window over the times of the requests it allowed).
type rateLimiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	lastPrune time.Time
	hits      map[string][]time.Time
}

func newRateLimiter(n int, window time.Duration, now func() time.Time) *rateLimiter {
	return &rateLimiter{n: n, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records a request for key when it is within the limit; when it
// is not, wait says when the oldest counted request leaves the window.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	cut := now.Add(-l.window)
	if now.Sub(l.lastPrune) > l.window {
		for k, ts := range l.hits {
			if len(recent(ts, cut)) == 0 {
				delete(l.hits, k)
			}
		}
		l.lastPrune = now
	}
	ts := recent(l.hits[key], cut)
	if len(ts) >= l.n {
		l.hits[key] = ts
		return false, ts[len(ts)-l.n].Add(l.window).Sub(now)
	}
	l.hits[key] = append(ts, now)
	return true, 0
}
