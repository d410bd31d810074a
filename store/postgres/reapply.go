package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.RuleReapplier = (*Store)(nil)

// MentionIDsSince returns the ids of the mentions created at or after
// since, oldest first.
func (s *Store) MentionIDsSince(ctx context.Context, since time.Time) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM mentions WHERE created_at >= $1 ORDER BY created_at, id`, ms(since))
	if err != nil {
		return nil, dbError("list mentions", err)
	}
	return collect(rows, func(r pgx.Row) (int64, error) {
		var id int64
		err := r.Scan(&id)
		return id, err
	})
}

// errDryRun rolls back a dry run's transaction after it ran in full.
var errDryRun = errors.New("dry run")

// RedecideMentions decides stored mentions again (parley.RuleReapplier),
// in one transaction holding the write lock ingest takes, so no batch
// lands between two of them.
func (s *Store) RedecideMentions(ctx context.Context, ids []int64, decide parley.DecideFunc, actor string,
	dryRun bool) ([]parley.Reapplied, error) {
	if decide == nil {
		return nil, parley.Errorf(parley.EINVALID, "decide again: no rules given")
	}
	if actor == "" {
		return nil, parley.Errorf(parley.EINVALID, "decide again: who runs the rules is needed for the audit log")
	}
	out := make([]parley.Reapplied, 0, len(ids))
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		for _, id := range ids {
			before, err := scanMention(tx.QueryRow(ctx, `SELECT `+mentionColumns+`
				FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = $1`, id))
			if err != nil {
				return notFound(err, "mention %d not found", id)
			}
			r, err := s.redecideTx(ctx, tx, id, decide, actor, fmt.Sprintf("rules applied again to mention %d", id))
			if err != nil {
				return err
			}
			out = append(out, parley.Reapplied{Before: before, Redecision: r})
		}
		if dryRun {
			return errDryRun
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		return out, nil
	}
	if err != nil {
		return nil, dbError("decide again", err)
	}
	return out, nil
}
