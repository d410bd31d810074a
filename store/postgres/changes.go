package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

var _ parley.ChangeFeed = (*Store)(nil)

// changeChannel is the channel the triggers of migration 0007 notify.
const changeChannel = "parley_changes"

// changeBackoff spaces the feed's attempts to get its connection back.
var changeBackoff = backoff.Policy{Base: 250 * time.Millisecond, Max: 10 * time.Second, Jitter: 0.2}

// changeFeed fans the notifications of one listening connection out to the
// readers of Changes. The connection is opened on the first reader and
// kept until the store closes.
type changeFeed struct {
	mu      sync.Mutex
	subs    map[chan struct{}]struct{}
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Changes implements parley.ChangeFeed with LISTEN on a connection of its
// own (outside the pool, so a busy pool never delays it).
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	f := &s.feed
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch
	}
	if f.subs == nil {
		f.subs = map[chan struct{}]struct{}{}
	}
	f.subs[ch] = struct{}{}
	if !f.started {
		f.started = true
		var lctx context.Context
		lctx, f.cancel = context.WithCancel(context.Background())
		f.done = make(chan struct{})
		go s.listen(lctx)
	}
	context.AfterFunc(ctx, func() { f.remove(ch) })
	return ch
}

// remove closes and forgets one reader's channel.
func (f *changeFeed) remove(ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// broadcast tells every reader, without waiting on any: a reader that has
// not taken the last value yet gets one value for both.
func (f *changeFeed) broadcast() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// stop ends the listener and closes every reader's channel.
func (f *changeFeed) stop() {
	f.mu.Lock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
	started, cancel, done := f.started, f.cancel, f.done
	f.mu.Unlock()
	if started {
		cancel()
		<-done
	}
}

// listen keeps a LISTEN connection until ctx ends, getting it back with
// backoff when it breaks. After each (re)connection readers are told once,
// as a change may have slipped by while it was down.
func (s *Store) listen(ctx context.Context) {
	defer close(s.feed.done)
	for attempt := 0; ; attempt++ {
		err := s.listenOnce(ctx, func() { attempt = 0 })
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("live updates: lost the LISTEN connection to PostgreSQL; pages poll until it is back",
			"db", s.where, "err", err)
		s.feed.broadcast()
		if backoff.Sleep(ctx, changeBackoff.Delay(attempt)) != nil {
			return
		}
	}
}

// listenOnce listens on one connection until it fails or ctx ends.
func (s *Store) listenOnce(ctx context.Context, connected func()) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changeChannel); err != nil {
		return err
	}
	connected()
	s.feed.broadcast()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.feed.broadcast()
	}
}
