package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.Leaser = (*Store)(nil)

// nowMS is the database's clock in Unix milliseconds.
const nowMS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`

// TakeLease implements parley.Leaser in one statement: the row is taken
// only when it is free, expired or the holder's own.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (parley.Lease, bool, error) {
	l := parley.Lease{Name: name}
	switch {
	case strings.TrimSpace(name) == "" || strings.TrimSpace(holder) == "":
		return l, false, parley.Errorf(parley.EINVALID, "lease: the name and the holder must not be empty")
	case ttl < time.Second:
		return l, false, parley.Errorf(parley.EINVALID, "lease %s: a ttl of %s is too short (at least 1s)", name, ttl)
	}
	var until int64
	err := s.pool.QueryRow(ctx, `INSERT INTO leases (name, holder, epoch, until_at) VALUES ($1, $2, 1, `+nowMS+` + $3)
		ON CONFLICT (name) DO UPDATE SET
			epoch = CASE WHEN leases.holder = excluded.holder THEN leases.epoch ELSE leases.epoch + 1 END,
			holder = excluded.holder, until_at = excluded.until_at
		WHERE leases.holder = excluded.holder OR leases.until_at < `+nowMS+`
		RETURNING holder, epoch, until_at`, name, holder, ttl.Milliseconds()).Scan(&l.Holder, &l.Epoch, &until)
	if err == nil {
		l.Until = fromMS(until)
		return l, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return l, false, dbError("take lease "+name, err)
	}
	err = s.pool.QueryRow(ctx, `SELECT holder, epoch, until_at FROM leases WHERE name = $1`, name).Scan(&l.Holder, &l.Epoch, &until)
	l.Until = fromMS(until)
	return l, false, dbError("read lease "+name, err)
}

// ReleaseLease implements parley.Leaser: the lease expires at once.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.pool.Exec(ctx, `UPDATE leases SET until_at = 0 WHERE name = $1 AND holder = $2`, name, holder)
	return dbError("release lease "+name, err)
}

var _ parley.LeaseLister = (*Store)(nil)

// Leases implements parley.LeaseLister.
func (s *Store) Leases(ctx context.Context) ([]parley.Lease, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, holder, epoch, until_at FROM leases ORDER BY name`)
	if err != nil {
		return nil, dbError("list leases", err)
	}
	return collect(rows, func(r pgx.Row) (parley.Lease, error) {
		var l parley.Lease
		var until int64
		err := r.Scan(&l.Name, &l.Holder, &l.Epoch, &until)
		l.Until = fromMS(until)
		return l, err
	})
}

// holdNode takes the liveness lease of node (nothing for "") and keeps
// renewing it until the store closes, which releases it. A renewal that
// fails is logged and tried again: other nodes take this one's sending
// drafts over only once the lease has run out.
func (s *Store) holdNode(ctx context.Context, node string) error {
	if node == "" {
		return nil
	}
	name := "node:" + node
	if _, ok, err := s.TakeLease(ctx, name, node, NodeLeaseTTL); err != nil {
		return err
	} else if !ok {
		return parley.Errorf(parley.ECONFLICT, "node %s: its liveness lease is held by another process", node)
	}
	s.node = node
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(NodeLeaseTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-t.C:
			}
			if _, ok, err := s.TakeLease(rctx, name, node, NodeLeaseTTL); (err != nil || !ok) && rctx.Err() == nil {
				s.logger.Warn("cannot renew this node's liveness lease", "node", node, "err", err)
			}
		}
	}()
	s.stopNode = func() {
		cancel()
		<-done
		rel, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.ReleaseLease(rel, name, node); err != nil {
			s.logger.Warn("cannot release this node's liveness lease; it runs out by itself", "node", node, "err", err)
		}
	}
	return nil
}
