package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
)

var _ parley.EraseStore = (*Store)(nil)

// eraseStep is one statement of an erasure; count says which total its
// changed rows add to ('m' mentions, 'd' drafts, 'x' deleted, 0 none).
type eraseStep struct {
	count byte
	query string
}

// eraseSteps take ?1 as the person's id, ?2 their platform, ?3 the actor
// and ?4 now (ms). Order matters: threads and replies are found by the
// mentions' platform ids before those are replaced.
var eraseSteps = []eraseStep{
	{0, `UPDATE threads SET root_key = 'erased:' || id WHERE platform = ?2 AND root_key IN
		(SELECT external_id FROM mentions WHERE person_id = ?1)`},
	{0, `UPDATE mentions SET in_reply_to = '' WHERE platform = ?2 AND person_id <> ?1 AND in_reply_to IN
		(SELECT external_id FROM mentions WHERE person_id = ?1)`},
	{'x', `DELETE FROM conversation_notes WHERE conversation_id IN (SELECT thread_id FROM mentions WHERE person_id = ?1)`},
	{'m', `UPDATE mentions SET text = '', url = '', external_id = 'erased:' || id, in_reply_to = '', overrides = ''
		WHERE person_id = ?1`},
	{0, `UPDATE drafts SET state = 'rejected', decided_by = ?3, decided_at = ?4, updated_at = ?4
		WHERE person_id = ?1 AND state IN ('pending', 'approved')`},
	{'d', `UPDATE drafts SET text = '', original_text = '', last_error = '' WHERE person_id = ?1`},
	{'x', `DELETE FROM prompts WHERE person_id = ?1`},
	{'x', `DELETE FROM person_notes WHERE person_id = ?1`},
	{'x', `DELETE FROM advocate_changes WHERE person_id = ?1`},
	{'x', `DELETE FROM person_links WHERE person_id = ?1`},
	{0, `DELETE FROM person_links WHERE group_id IN (SELECT group_id FROM person_links GROUP BY group_id HAVING count(*) < 2)`},
	{'x', `DELETE FROM webhook_deliveries WHERE person_id = ?1`},
	{0, `UPDATE alerts SET title = 'About an erased person', detail = '' WHERE person_id = ?1`},
	{0, `UPDATE audit SET detail = '' WHERE person_id = ?1 OR draft_id IN (SELECT id FROM drafts WHERE person_id = ?1)`},
	{0, `UPDATE people SET handle = 'erased-' || id, name = '', external_id = 'erased:' || id, followers = 0,
		timezone = '', advocate_note = '', advocate_confirmed_by = '' WHERE id = ?1`},
}

// ErasePerson implements parley.EraseStore. After the transaction it
// merges the search index (so the old words leave it), rewrites the file
// (VACUUM, with secure_delete on, so no free page keeps them) and empties
// the write-ahead log: the erased text is then nowhere in the database
// files. VACUUM rewrites the whole file; on a large database it takes a
// while and needs as much free disk again.
func (s *Store) ErasePerson(ctx context.Context, personID int64, actor string, block bool) (parley.Erasure, error) {
	e := parley.Erasure{PersonID: personID, Blocked: block, At: s.now()}
	if strings.TrimSpace(actor) == "" {
		return e, parley.Errorf(parley.EINVALID, "an erasure needs an actor for the audit log")
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return e, dbError("erase", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return e, dbError("erase", err)
	}
	defer func() { _ = tx.Rollback() }()
	var externalID, handle string
	err = tx.QueryRowContext(ctx, `SELECT platform, external_id, handle FROM people WHERE id = ?`, personID).
		Scan(&e.Platform, &externalID, &handle)
	if err != nil {
		return e, notFound(err, "person %d not found", personID)
	}
	if err := scrubDigests(ctx, tx, personID, handle); err != nil {
		return e, err
	}
	for _, st := range eraseSteps {
		res, err := tx.ExecContext(ctx, st.query, personID, e.Platform, actor, ms(e.At))
		if err != nil {
			return e, dbError("erase", err)
		}
		n, _ := res.RowsAffected()
		switch st.count {
		case 'm':
			e.Mentions += int(n)
		case 'd':
			e.Drafts += int(n)
		case 'x':
			e.Deleted += int(n)
		}
	}
	if block {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tombstones (key, platform, created_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO NOTHING`, parley.TombstoneKey(e.Platform, externalID), e.Platform, ms(e.At)); err != nil {
			return e, dbError("erase", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'erase', ?, ?)`,
		ms(e.At), actor, personID, e.Detail()); err != nil {
		return e, dbError("erase", err)
	}
	if err := tx.Commit(); err != nil {
		return e, dbError("erase", err)
	}
	return e, s.scrubFiles(ctx)
}

// scrubDigests replaces the person's handle and texts where stored
// digests quote them verbatim.
func scrubDigests(ctx context.Context, tx *sql.Tx, personID int64, handle string) error {
	words := []string{}
	rows, err := tx.QueryContext(ctx, `SELECT text FROM mentions WHERE person_id = ? AND text <> ''`, personID)
	if err != nil {
		return dbError("erase", err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return dbError("erase", err)
		}
		words = append(words, t)
	}
	rows.Close()
	if handle != "" {
		words = append(words, handle)
	}
	for _, w := range words {
		if _, err := tx.ExecContext(ctx, `UPDATE digests SET summary = replace(summary, ?1, '[erased]'),
			markdown = replace(markdown, ?1, '[erased]'), html = replace(html, ?1, '[erased]'), text = replace(text, ?1, '[erased]')
			WHERE instr(markdown, ?1) > 0 OR instr(html, ?1) > 0 OR instr(text, ?1) > 0 OR instr(summary, ?1) > 0`, w); err != nil {
			return dbError("erase", err)
		}
	}
	return nil
}

// scrubTries and scrubBackoff bound the tries to empty the write-ahead
// log after an erasure (about 6 s in all).
const scrubTries = 10

var scrubBackoff = backoff.Policy{Base: 25 * time.Millisecond, Max: time.Second}

// scrubFiles removes old values from the files: the FTS5 index merged
// into one segment (an external-content index keeps deleted words in old
// segments until then), the file rebuilt, the write-ahead log emptied.
func (s *Store) scrubFiles(ctx context.Context) error {
	for _, q := range []string{`INSERT INTO mentions_fts (mentions_fts) VALUES ('optimize')`, `VACUUM`} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("erase: scrub the database file (%s): %w", q, dbError("erase", err))
		}
	}
	// The background checkpointer's own (passive) checkpoint, or a reader
	// in the middle of a read, makes a truncating checkpoint report busy
	// for a moment: try again a few times. A reader that keeps the log's
	// old frames longer than that leaves the log as it is, and the
	// erasure says so.
	var busy int
	for attempt := range scrubTries {
		var frames, done int
		if err := s.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("erase: empty the write-ahead log: %w", dbError("erase", err))
		}
		if busy == 0 || attempt == scrubTries-1 {
			break
		}
		if err := backoff.Sleep(ctx, scrubBackoff.Delay(attempt)); err != nil {
			return fmt.Errorf("erase: empty the write-ahead log: %w", err)
		}
	}
	if busy != 0 {
		return parley.Errorf(parley.EUNAVAILABLE, "erase: the data is erased, but a reader kept the write-ahead log "+
			"(%s-wal) from being emptied; it still holds old pages until the next checkpoint: run the erasure again", s.path)
	}
	return nil
}

// Tombstones implements parley.EraseStore.
func (s *Store) Tombstones(ctx context.Context) ([]string, error) {
	out := []string{}
	err := eachRow(ctx, s.rdb, func(row scanner) (string, error) {
		var k string
		return k, row.Scan(&k)
	}, appendTo(&out), `SELECT key FROM tombstones ORDER BY key`)
	return out, err
}
