package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

// MaxNoteLength bounds a staff note, in bytes.
const MaxNoteLength = 4000

// AddNote writes a staff note about a person and an audit entry ("note").
// Errors: EINVALID for an empty or too long text or an empty author;
// ENOTFOUND for no such person.
func (s *Store) AddNote(ctx context.Context, personID int64, author, text string) (parley.Note, error) {
	text = strings.TrimSpace(text)
	switch {
	case strings.TrimSpace(author) == "":
		return parley.Note{}, parley.Errorf(parley.EINVALID, "note: who is writing? (author is empty)")
	case text == "":
		return parley.Note{}, parley.Errorf(parley.EINVALID, "the note is empty: write something first")
	case len(text) > MaxNoteLength:
		return parley.Note{}, parley.Errorf(parley.EINVALID, "the note is %d characters long; keep it under %d", len(text), MaxNoteLength)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.Note{}, dbError("add note", err)
	}
	defer tx.Rollback()
	if err := personExists(ctx, tx, personID); err != nil {
		return parley.Note{}, err
	}
	now := s.now().UnixMilli()
	n := parley.Note{PersonID: personID, Author: author, Text: text, CreatedAt: fromMS(now)}
	if err := tx.QueryRowContext(ctx, `INSERT INTO person_notes (person_id, author, text, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		personID, author, text, now).Scan(&n.ID); err != nil {
		return parley.Note{}, dbError("add note", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'note', ?, ?)`,
		now, author, personID, fmt.Sprintf("note %d", n.ID)); err != nil {
		return parley.Note{}, dbError("audit", err)
	}
	return n, dbError("add note", tx.Commit())
}

// Notes returns the staff notes about a person, newest first.
func (s *Store) Notes(ctx context.Context, personID int64) ([]parley.Note, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, person_id, author, text, created_at FROM person_notes
		WHERE person_id = ? ORDER BY created_at DESC, id DESC`, personID)
	if err != nil {
		return nil, fmt.Errorf("notes of person %d: %w", personID, err)
	}
	defer rows.Close()
	var out []parley.Note
	for rows.Next() {
		var n parley.Note
		var at int64
		if err := rows.Scan(&n.ID, &n.PersonID, &n.Author, &n.Text, &at); err != nil {
			return nil, err
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	return out, rows.Err()
}

func personExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM people WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "person %d not found", id)
	}
	return err
}

// LinkPeople records that two people are the same human (say, on Discord
// and Mastodon): they join one group, merging the groups they were in.
// Written to the audit log ("link"). Errors: EINVALID when a == b;
// ENOTFOUND for no such person; ECONFLICT when they are already linked.
func (s *Store) LinkPeople(ctx context.Context, a, b int64, actor string) error {
	if a == b {
		return parley.Errorf(parley.EINVALID, "cannot link person %d to themselves", a)
	}
	if strings.TrimSpace(actor) == "" {
		return parley.Errorf(parley.EINVALID, "link people: who is acting? (actor is empty)")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("link people", err)
	}
	defer tx.Rollback()
	for _, id := range []int64{a, b} {
		if err := personExists(ctx, tx, id); err != nil {
			return err
		}
	}
	group := func(id int64) (int64, error) {
		var g int64
		err := tx.QueryRowContext(ctx, `SELECT group_id FROM person_links WHERE person_id = ?`, id).Scan(&g)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return g, err
	}
	ga, err := group(a)
	if err != nil {
		return dbError("link people", err)
	}
	gb, err := group(b)
	if err != nil {
		return dbError("link people", err)
	}
	now := s.now().UnixMilli()
	switch {
	case ga != 0 && ga == gb:
		return parley.Errorf(parley.ECONFLICT, "people %d and %d are already linked", a, b)
	case ga != 0 && gb != 0:
		_, err = tx.ExecContext(ctx, `UPDATE person_links SET group_id = ? WHERE group_id = ?`, ga, gb)
	case ga != 0:
		_, err = tx.ExecContext(ctx, `INSERT INTO person_links (person_id, group_id, linked_by, linked_at) VALUES (?, ?, ?, ?)`,
			b, ga, actor, now)
	case gb != 0:
		_, err = tx.ExecContext(ctx, `INSERT INTO person_links (person_id, group_id, linked_by, linked_at) VALUES (?, ?, ?, ?)`,
			a, gb, actor, now)
	default:
		g := min(a, b)
		_, err = tx.ExecContext(ctx, `INSERT INTO person_links (person_id, group_id, linked_by, linked_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
			a, g, actor, now, b, g, actor, now)
	}
	if err != nil {
		return dbError("link people", err)
	}
	for _, p := range [][2]int64{{a, b}, {b, a}} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'link', ?, ?)`,
			now, actor, p[0], fmt.Sprintf("linked to person %d", p[1])); err != nil {
			return dbError("audit", err)
		}
	}
	return dbError("link people", tx.Commit())
}

// UnlinkPerson takes a person out of their group of linked people (a group
// left with one member is dissolved). Written to the audit log ("unlink").
// ENOTFOUND when the person is not linked to anyone.
func (s *Store) UnlinkPerson(ctx context.Context, id int64, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return parley.Errorf(parley.EINVALID, "unlink person: who is acting? (actor is empty)")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("unlink person", err)
	}
	defer tx.Rollback()
	var g int64
	err = tx.QueryRowContext(ctx, `DELETE FROM person_links WHERE person_id = ? RETURNING group_id`, id).Scan(&g)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "person %d is not linked to anyone", id)
	}
	if err != nil {
		return dbError("unlink person", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM person_links WHERE group_id = ?1
		AND (SELECT count(*) FROM person_links WHERE group_id = ?1) < 2`, g); err != nil {
		return dbError("unlink person", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'unlink', ?, '')`,
		s.now().UnixMilli(), actor, id); err != nil {
		return dbError("audit", err)
	}
	return dbError("unlink person", tx.Commit())
}

// LinkedPeople returns the people linked to id (not id itself), by platform
// and handle; none when id is not linked.
func (s *Store) LinkedPeople(ctx context.Context, id int64) ([]parley.Person, error) {
	ps, err := s.queryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE id IN (
		SELECT person_id FROM person_links WHERE person_id != ?1
			AND group_id = (SELECT group_id FROM person_links WHERE person_id = ?1))
		ORDER BY platform, handle`, id)
	if err != nil {
		return nil, fmt.Errorf("linked people of %d: %w", id, err)
	}
	return ps, nil
}

// SearchPeople finds people whose handle, name or external id contains q
// (case-insensitive), most recently seen first, at most limit (0 means 20).
func (s *Store) SearchPeople(ctx context.Context, q string, limit int) ([]parley.Person, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "@")
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	ps, err := s.queryPeople(ctx, `SELECT `+personColumns+` FROM people
		WHERE instr(lower(handle), lower(?1)) > 0 OR instr(lower(name), lower(?1)) > 0 OR external_id = ?1
		ORDER BY last_seen DESC LIMIT ?2`, q, limit)
	if err != nil {
		return nil, fmt.Errorf("search people: %w", err)
	}
	return ps, nil
}

// SetOptOut opts a person out of (or back into) prompts by a manager's
// hand: the same as OptOut/OptIn, so waiting prompts are withdrawn and the
// audit log says who did it. Errors: ENOTFOUND, EINVALID for an empty actor.
func (s *Store) SetOptOut(ctx context.Context, personID int64, optedOut bool, actor, reason string) (parley.Person, error) {
	var res parley.OptOutResult
	var err error
	if optedOut {
		res, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: personID, Actor: actor, Reason: reason})
	} else {
		res, err = s.OptIn(ctx, personID, actor, reason)
	}
	return res.Person, err
}
