package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

// Busiest returns the person with the most mentions and the thread with
// the most mentions (0 when there are none): the heaviest history and
// thread reads, which the benchmark times.
func (s *Store) Busiest(ctx context.Context) (person, thread int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		coalesce((SELECT person_id FROM mentions GROUP BY person_id ORDER BY count(*) DESC LIMIT 1), 0),
		coalesce((SELECT thread_id FROM mentions GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1), 0)`).Scan(&person, &thread)
	if err != nil {
		return 0, 0, dbError("busiest person and thread", err)
	}
	return person, thread, nil
}

// baselineBatch is how many mentions BaselineCopy writes a transaction.
const baselineBatch = 512

var (
	baselineMentionCols = []string{"id", "platform", "account", "external_id", "person_id", "thread_id", "text", "created_at",
		"received_at", "in_reply_to", "url", "channel", "visibility", "lang", "direct", "sentiment"}
	baselinePersonCols = []string{"id", "platform", "external_id", "handle", "name", "followers", "first_seen", "last_seen", "mentions"}
)

// BaselineCopy writes mentions and their new authors with COPY, 512
// mentions a transaction, into copies of the people and mentions tables
// (their columns, indexes and full-text column, without foreign keys) in a
// scratch schema of the store's database, dropped afterwards: ids kept in
// memory (duplicates skipped there), no threads, no classifier, no rules. It is the yardstick the
// benchmark compares the pipeline with on PostgreSQL. next returns the
// mentions one by one (false when there are no more).
func (s *Store) BaselineCopy(ctx context.Context, next func() (parley.Mention, bool)) (retErr error) {
	const schema = "parley_bench_raw"
	if _, err := s.pool.Exec(ctx, `DROP SCHEMA IF EXISTS `+schema+` CASCADE; CREATE SCHEMA `+schema+`;
		CREATE TABLE `+schema+`.people (LIKE people INCLUDING ALL);
		CREATE TABLE `+schema+`.mentions (LIKE mentions INCLUDING ALL)`); err != nil {
		return dbError("raw copy: make the scratch tables", err)
	}
	defer func() {
		if _, err := s.pool.Exec(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`); err != nil && retErr == nil {
			retErr = dbError("raw copy: drop the scratch tables", err)
		}
	}()
	people := map[[2]string]int64{}
	threads := map[[2]string]int64{} // a mention's key -> its thread; also says it was seen
	var mRows, pRows [][]any
	flush := func() error {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "people"}, baselinePersonCols, pgx.CopyFromRows(pRows)); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{schema, "mentions"}, baselineMentionCols, pgx.CopyFromRows(mRows))
			return err
		})
		mRows, pRows = mRows[:0], pRows[:0]
		return dbError("raw copy", err)
	}
	for id := int64(1); ; id++ {
		m, ok := next()
		if !ok {
			break
		}
		if _, dup := threads[[2]string{m.Platform, m.ExternalID}]; dup {
			continue // re-delivered: COPY has no ON CONFLICT, so the raw path skips it here
		}
		a := m.Author
		key := [2]string{m.Platform, a.ExternalID}
		pid, seen := people[key]
		if !seen {
			pid = int64(len(people) + 1)
			people[key] = pid
			pRows = append(pRows, []any{pid, m.Platform, a.ExternalID, a.Handle, a.Name, int64(a.Followers),
				ms(m.CreatedAt), ms(m.CreatedAt), 1})
		}
		root := m.InReplyTo
		if root == "" {
			root = m.ExternalID
		}
		tid, ok := threads[[2]string{m.Platform, root}]
		if !ok {
			tid = id
		}
		threads[[2]string{m.Platform, m.ExternalID}] = tid
		mRows = append(mRows, []any{id, m.Platform, m.Account, m.ExternalID, pid, tid, m.Text, ms(m.CreatedAt),
			ms(m.ReceivedAt), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, m.Direct, string(m.Sentiment.Label)})
		if len(mRows) >= baselineBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(mRows) > 0 {
		return flush()
	}
	return nil
}

// Empty reports whether the store holds no mention yet (a benchmark fills
// only an empty database).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var some bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mentions)`).Scan(&some)
	if err != nil {
		return false, dbError("count mentions", err)
	}
	return !some, nil
}
