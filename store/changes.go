package store

import (
	"context"
	"time"

	"github.com/parleybot/parley"
)

var _ parley.ChangeFeed = (*Store)(nil)

// changeWatchEvery is how often the change feed asks SQLite whether
// another connection committed. Asking costs one pragma (no page read),
// so a live page hears of a new message within a tenth of a second
// instead of at its next poll.
const changeWatchEvery = 100 * time.Millisecond

// Changes implements parley.ChangeFeed. SQLite has no notifications, but
// PRAGMA data_version on a connection moves whenever any other connection
// (this process's writers, or another process on the same file) commits:
// one connection of the feed's own watches it for every reader.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	return s.feed.Subscribe(ctx, s.watchChanges)
}

// watchChanges tells the feed's readers of every commit until ctx ends.
// Without its connection (it failed to open, or broke) it tells them
// every time it tries again, so pages look again rather than miss one.
func (s *Store) watchChanges(ctx context.Context) {
	db, err := openDB(s.path, time.Second, connReader)
	if err != nil {
		s.logger.Warn("live updates: cannot open the change watcher's connection; pages poll instead", "db", s.path, "err", err)
		return
	}
	defer func() { _ = db.Close() }() // read-only; nothing to report
	db.SetMaxOpenConns(1)
	tick := time.NewTicker(changeWatchEvery)
	defer tick.Stop()
	last := int64(-1)
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		var v int64
		if err := db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
			if ctx.Err() == nil {
				s.feed.Broadcast()
			}
			continue
		}
		if v != last {
			if last >= 0 {
				s.feed.Broadcast()
			}
			last = v
		}
	}
}
