package postgres

import (
	"context"
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

// Changes implements parley.ChangeFeed with LISTEN on a connection of its
// own (outside the pool, so a busy pool never delays it), opened on the
// first reader and kept until the store closes.
func (s *Store) Changes(ctx context.Context) <-chan struct{} {
	return s.feed.Subscribe(ctx, s.listen)
}

// listen keeps a LISTEN connection until ctx ends, getting it back with
// backoff when it breaks. After each (re)connection readers are told once,
// as a change may have slipped by while it was down.
func (s *Store) listen(ctx context.Context) {
	for attempt := 0; ; attempt++ {
		err := s.listenOnce(ctx, func() { attempt = 0 })
		if ctx.Err() != nil {
			return
		}
		s.logger.Warn("live updates: lost the LISTEN connection to PostgreSQL; pages poll until it is back",
			"db", s.where, "err", err)
		s.feed.Broadcast()
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
	s.feed.Broadcast()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.feed.Broadcast()
	}
}
