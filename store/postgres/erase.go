package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.EraseStore = (*Store)(nil)

// eraseStep is one statement of an erasure with how many of (person,
// platform, actor, now) it takes, and which total its changed rows add to
// ('m' mentions, 'd' drafts, 'x' deleted, 0 none). The order is the
// SQLite store's: threads and replies are found by the mentions'
// platform ids before those are replaced.
type eraseStep struct {
	args  int
	count byte
	query string
}

var eraseSteps = []eraseStep{
	{2, 0, `UPDATE threads SET root_key = 'erased:' || id WHERE platform = $2 AND root_key IN
		(SELECT external_id FROM mentions WHERE person_id = $1)`},
	{2, 0, `UPDATE mentions SET in_reply_to = '' WHERE platform = $2 AND person_id <> $1 AND in_reply_to IN
		(SELECT external_id FROM mentions WHERE person_id = $1)`},
	{1, 'x', `DELETE FROM conversation_notes WHERE conversation_id IN (SELECT thread_id FROM mentions WHERE person_id = $1)`},
	{1, 'm', `UPDATE mentions SET text = '', url = '', external_id = 'erased:' || id, in_reply_to = '', overrides = ''
		WHERE person_id = $1`},
	{4, 0, `UPDATE drafts SET state = 'rejected', decided_by = $3, decided_at = $4, updated_at = $4
		WHERE person_id = $1 AND state IN ('pending', 'approved') AND $2 = $2`},
	{1, 'd', `UPDATE drafts SET text = '', original_text = '', last_error = '' WHERE person_id = $1`},
	{1, 'x', `DELETE FROM prompts WHERE person_id = $1`},
	{1, 'x', `DELETE FROM person_notes WHERE person_id = $1`},
	{1, 'x', `DELETE FROM advocate_changes WHERE person_id = $1`},
	{1, 'x', `DELETE FROM person_links WHERE person_id = $1`},
	{0, 0, `DELETE FROM person_links WHERE group_id IN (SELECT group_id FROM person_links GROUP BY group_id HAVING count(*) < 2)`},
	{1, 'x', `DELETE FROM webhook_deliveries WHERE person_id = $1`},
	{1, 0, `UPDATE alerts SET title = 'About an erased person', detail = '' WHERE person_id = $1`},
	{1, 0, `UPDATE audit SET detail = '' WHERE person_id = $1 OR draft_id IN (SELECT id FROM drafts WHERE person_id = $1)`},
	{1, 0, `UPDATE people SET handle = 'erased-' || id, name = '', external_id = 'erased:' || id, followers = 0,
		timezone = '', advocate_note = '', advocate_confirmed_by = '' WHERE id = $1`},
}

// ErasePerson implements parley.EraseStore. After the transaction it
// vacuums the tables it changed, so the old row versions leave them (the
// server's own write-ahead log and backups keep them until they rotate).
func (s *Store) ErasePerson(ctx context.Context, personID int64, actor string, block bool) (parley.Erasure, error) {
	e := parley.Erasure{PersonID: personID, Blocked: block, At: s.now()}
	if strings.TrimSpace(actor) == "" {
		return e, parley.Errorf(parley.EINVALID, "an erasure needs an actor for the audit log")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var externalID, handle string
		err := tx.QueryRow(ctx, `SELECT platform, external_id, handle FROM people WHERE id = $1 FOR UPDATE`, personID).
			Scan(&e.Platform, &externalID, &handle)
		if err != nil {
			return notFound(err, "person %d not found", personID)
		}
		if err := scrubDigests(ctx, tx, personID, handle); err != nil {
			return err
		}
		all := []any{personID, e.Platform, actor, ms(e.At)}
		for _, st := range eraseSteps {
			tag, err := tx.Exec(ctx, st.query, all[:st.args]...)
			if err != nil {
				return dbError("erase", err)
			}
			switch st.count {
			case 'm':
				e.Mentions += int(tag.RowsAffected())
			case 'd':
				e.Drafts += int(tag.RowsAffected())
			case 'x':
				e.Deleted += int(tag.RowsAffected())
			}
		}
		if block {
			if _, err := tx.Exec(ctx, `INSERT INTO tombstones (key, platform, created_at) VALUES ($1, $2, $3)
				ON CONFLICT (key) DO NOTHING`, parley.TombstoneKey(e.Platform, externalID), e.Platform, ms(e.At)); err != nil {
				return dbError("erase", err)
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'erase', $3, $4)`,
			ms(e.At), actor, personID, e.Detail())
		return dbError("erase", err)
	})
	if err != nil {
		return e, err
	}
	// VACUUM cannot run in a transaction; a failure leaves dead row
	// versions for autovacuum, not visible rows.
	if _, err := s.pool.Exec(ctx, `VACUUM mentions, people, drafts, threads, audit, person_notes, conversation_notes,
		prompts, advocate_changes, webhook_deliveries, digests, alerts`); err != nil {
		s.logger.Warn("vacuum after erasure", "err", err)
	}
	return e, nil
}

// scrubDigests replaces the person's handle and texts where stored
// digests quote them verbatim.
func scrubDigests(ctx context.Context, tx pgx.Tx, personID int64, handle string) error {
	rows, err := tx.Query(ctx, `SELECT text FROM mentions WHERE person_id = $1 AND text <> ''`, personID)
	if err != nil {
		return dbError("erase", err)
	}
	words, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return dbError("erase", err)
	}
	if handle != "" {
		words = append(words, handle)
	}
	for _, w := range words {
		if _, err := tx.Exec(ctx, `UPDATE digests SET summary = replace(summary, $1, '[erased]'),
			markdown = replace(markdown, $1, '[erased]'), html = replace(html, $1, '[erased]'), text = replace(text, $1, '[erased]')
			WHERE strpos(markdown, $1) > 0 OR strpos(html, $1) > 0 OR strpos(text, $1) > 0 OR strpos(summary, $1) > 0`, w); err != nil {
			return dbError("erase", err)
		}
	}
	return nil
}

// Tombstones implements parley.EraseStore.
func (s *Store) Tombstones(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT key FROM tombstones ORDER BY key`)
	if err != nil {
		return nil, dbError("tombstones", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if out == nil {
		out = []string{}
	}
	return out, dbError("tombstones", err)
}
