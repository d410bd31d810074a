package store

import (
	"context"
	"database/sql"

	"github.com/parleybot/parley"
)

var (
	_ parley.StatusStore  = (*Store)(nil)
	_ parley.DraftRetrier = (*Store)(nil)
)

// Cursors implements parley.StatusStore.
func (s *Store) Cursors(ctx context.Context) ([]parley.Cursor, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT key, value, updated_at FROM cursors ORDER BY key`)
	if err != nil {
		return nil, dbError("list cursors", err)
	}
	defer rows.Close()
	var out []parley.Cursor
	for rows.Next() {
		var c parley.Cursor
		var at int64
		if err := rows.Scan(&c.Key, &c.Value, &at); err != nil {
			return nil, dbError("list cursors", err)
		}
		c.UpdatedAt = fromMS(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list cursors", err)
	}
	return out, nil
}

// OutboxStatus implements parley.StatusStore.
func (s *Store) OutboxStatus(ctx context.Context, limit int) (parley.OutboxStatus, error) {
	var o parley.OutboxStatus
	if limit <= 0 {
		limit = 50
	}
	err := s.rdb.QueryRowContext(ctx, `SELECT
		coalesce(sum(state = 'approved'), 0), coalesce(sum(state = 'sending'), 0),
		coalesce(sum(state = 'approved' AND last_error != ''), 0), coalesce(sum(state = 'failed'), 0)
		FROM drafts WHERE state IN ('approved', 'sending', 'failed')`).Scan(&o.Approved, &o.Sending, &o.Retrying, &o.Failed)
	if err != nil {
		return o, dbError("outbox status", err)
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+draftColumns+` FROM drafts
		WHERE state = 'failed' OR (state = 'approved' AND last_error != '')
		ORDER BY updated_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return o, dbError("outbox status", err)
	}
	if o.Failing, err = scanDrafts(rows); err != nil {
		return o, dbError("outbox status", err)
	}
	return o, nil
}

// RetryDraft implements parley.DraftRetrier.
func (s *Store) RetryDraft(ctx context.Context, id int64, actor string) (parley.Draft, error) {
	return s.decide(ctx, id, actor, "retry", "sent again from the status page or CLI",
		[]parley.DraftState{parley.DraftFailed, parley.DraftApproved},
		func(tx *sql.Tx, now int64) error {
			// An approved draft is only retried early when it already
			// failed once; one that never went waits its turn.
			res, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'approved', next_attempt_at = 0, updated_at = ?
				WHERE id = ? AND (state = 'failed' OR last_error != '')`, now, id)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return parley.Errorf(parley.ECONFLICT, "draft %d is approved and waits for its first attempt: nothing to retry", id)
			}
			return nil
		})
}
