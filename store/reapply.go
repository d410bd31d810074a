package store

import (
	"context"
	"fmt"
	"time"

	"github.com/parleybot/parley"
)

var _ parley.RuleReapplier = (*Store)(nil)

// MentionIDsSince returns the ids of the mentions created at or after
// since, oldest first.
func (s *Store) MentionIDsSince(ctx context.Context, since time.Time) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM mentions WHERE created_at >= ? ORDER BY created_at, id`, ms(since))
	if err != nil {
		return nil, dbError("list mentions", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, dbError("list mentions", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("list mentions", err)
	}
	return ids, nil
}

// RedecideMentions decides stored mentions again (parley.RuleReapplier).
func (s *Store) RedecideMentions(ctx context.Context, ids []int64, decide parley.DecideFunc, actor string,
	dryRun bool) ([]parley.Reapplied, error) {
	if decide == nil {
		return nil, parley.Errorf(parley.EINVALID, "decide again: no rules given")
	}
	if actor == "" {
		return nil, parley.Errorf(parley.EINVALID, "decide again: who runs the rules is needed for the audit log")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("decide again", err)
	}
	defer tx.Rollback()
	out := make([]parley.Reapplied, 0, len(ids))
	for _, id := range ids {
		before, err := scanMention(tx.QueryRowContext(ctx, `SELECT `+mentionColumns+`
			FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = ?`, id))
		if err != nil {
			return nil, notFound(err, "mention %d not found", id)
		}
		r, err := s.redecideTx(ctx, tx, id, decide, actor, fmt.Sprintf("rules applied again to mention %d", id))
		if err != nil {
			return nil, err
		}
		out = append(out, parley.Reapplied{Before: before, Redecision: r})
	}
	if dryRun {
		return out, nil // the deferred rollback undoes it all
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError("decide again", err)
	}
	return out, nil
}
