package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var (
	_ parley.StatusStore  = (*Store)(nil)
	_ parley.DraftRetrier = (*Store)(nil)
)

// Cursors implements parley.StatusStore.
func (s *Store) Cursors(ctx context.Context) ([]parley.Cursor, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, value, updated_at FROM cursors ORDER BY key`)
	if err != nil {
		return nil, dbError("list cursors", err)
	}
	return collect(rows, func(r pgx.Row) (parley.Cursor, error) {
		var c parley.Cursor
		var at int64
		err := r.Scan(&c.Key, &c.Value, &at)
		c.UpdatedAt = fromMS(at)
		return c, err
	})
}

// OutboxStatus implements parley.StatusStore.
func (s *Store) OutboxStatus(ctx context.Context, limit int) (parley.OutboxStatus, error) {
	var o parley.OutboxStatus
	if limit <= 0 {
		limit = 50
	}
	err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE state = 'approved'), count(*) FILTER (WHERE state = 'sending'),
		count(*) FILTER (WHERE state = 'approved' AND last_error != ''), count(*) FILTER (WHERE state = 'failed')
		FROM drafts WHERE state IN ('approved', 'sending', 'failed')`).Scan(&o.Approved, &o.Sending, &o.Retrying, &o.Failed)
	if err != nil {
		return o, dbError("outbox status", err)
	}
	o.Failing, err = s.queryDrafts(ctx, `SELECT `+draftColumns+` FROM drafts
		WHERE state = 'failed' OR (state = 'approved' AND last_error != '')
		ORDER BY updated_at DESC, id DESC LIMIT $1`, limit)
	return o, err
}

// RetryDraft implements parley.DraftRetrier.
func (s *Store) RetryDraft(ctx context.Context, id int64, actor string) (parley.Draft, error) {
	return s.decide(ctx, id, actor, "retry", "sent again from the status page or CLI",
		[]parley.DraftState{parley.DraftFailed, parley.DraftApproved},
		func(tx pgx.Tx, now int64) error {
			// An approved draft is only retried early when it already
			// failed once; one that never went waits its turn.
			tag, err := tx.Exec(ctx, `UPDATE drafts SET state = 'approved', next_attempt_at = 0, updated_at = $1
				WHERE id = $2 AND (state = 'failed' OR last_error != '')`, now, id)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return parley.Errorf(parley.ECONFLICT, "draft %d is approved and waits for its first attempt: nothing to retry", id)
			}
			return nil
		})
}
