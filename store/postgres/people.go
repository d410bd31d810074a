package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

// MaxNoteLength bounds a staff note, in bytes.
const MaxNoteLength = 4000

// AddNote implements parley.PeopleStore.
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
	now := s.now().UnixMilli()
	n := parley.Note{PersonID: personID, Author: author, Text: text, CreatedAt: fromMS(now)}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := personExists(ctx, tx, personID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO person_notes (person_id, author, text, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			personID, author, text, now).Scan(&n.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'note', $3, $4)`,
			now, author, personID, fmt.Sprintf("note %d", n.ID))
		return err
	})
	if err != nil {
		return parley.Note{}, dbError("add note", err)
	}
	return n, nil
}

// Notes implements parley.PeopleStore.
func (s *Store) Notes(ctx context.Context, personID int64) ([]parley.Note, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, person_id, author, text, created_at FROM person_notes
		WHERE person_id = $1 ORDER BY created_at DESC, id DESC`, personID)
	if err != nil {
		return nil, dbError(fmt.Sprintf("notes of person %d", personID), err)
	}
	return collect(rows, func(r pgx.Row) (parley.Note, error) {
		var n parley.Note
		var at int64
		err := r.Scan(&n.ID, &n.PersonID, &n.Author, &n.Text, &at)
		n.CreatedAt = fromMS(at)
		return n, err
	})
}

func personExists(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM people WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "person %d not found", id)
	}
	return err
}

// LinkPeople implements parley.PeopleStore.
func (s *Store) LinkPeople(ctx context.Context, a, b int64, actor string) error {
	if a == b {
		return parley.Errorf(parley.EINVALID, "cannot link person %d to themselves", a)
	}
	if strings.TrimSpace(actor) == "" {
		return parley.Errorf(parley.EINVALID, "link people: who is acting? (actor is empty)")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Links change rarely; one at a time keeps groups whole.
		if _, err := tx.Exec(ctx, `LOCK TABLE person_links IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		for _, id := range []int64{a, b} {
			if err := personExists(ctx, tx, id); err != nil {
				return err
			}
		}
		group := func(id int64) (int64, error) {
			var g int64
			err := tx.QueryRow(ctx, `SELECT group_id FROM person_links WHERE person_id = $1`, id).Scan(&g)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0, nil
			}
			return g, err
		}
		ga, err := group(a)
		if err != nil {
			return err
		}
		gb, err := group(b)
		if err != nil {
			return err
		}
		now := s.now().UnixMilli()
		const insert = `INSERT INTO person_links (person_id, group_id, linked_by, linked_at) VALUES ($1, $2, $3, $4)`
		switch {
		case ga != 0 && ga == gb:
			return parley.Errorf(parley.ECONFLICT, "people %d and %d are already linked", a, b)
		case ga != 0 && gb != 0:
			_, err = tx.Exec(ctx, `UPDATE person_links SET group_id = $1 WHERE group_id = $2`, ga, gb)
		case ga != 0:
			_, err = tx.Exec(ctx, insert, b, ga, actor, now)
		case gb != 0:
			_, err = tx.Exec(ctx, insert, a, gb, actor, now)
		default:
			if _, err = tx.Exec(ctx, insert, a, min(a, b), actor, now); err == nil {
				_, err = tx.Exec(ctx, insert, b, min(a, b), actor, now)
			}
		}
		if err != nil {
			return err
		}
		for _, p := range [][2]int64{{a, b}, {b, a}} {
			if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'link', $3, $4)`,
				now, actor, p[0], fmt.Sprintf("linked to person %d", p[1])); err != nil {
				return err
			}
		}
		return nil
	})
	return dbError("link people", err)
}

// UnlinkPerson implements parley.PeopleStore.
func (s *Store) UnlinkPerson(ctx context.Context, id int64, actor string) error {
	if strings.TrimSpace(actor) == "" {
		return parley.Errorf(parley.EINVALID, "unlink person: who is acting? (actor is empty)")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE person_links IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		var g int64
		err := tx.QueryRow(ctx, `DELETE FROM person_links WHERE person_id = $1 RETURNING group_id`, id).Scan(&g)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "person %d is not linked to anyone", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM person_links WHERE group_id = $1
			AND (SELECT count(*) FROM person_links WHERE group_id = $1) < 2`, g); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'unlink', $3, '')`,
			s.now().UnixMilli(), actor, id)
		return err
	})
	return dbError("unlink person", err)
}

func (s *Store) queryPeople(ctx context.Context, q string, args ...any) ([]parley.Person, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, dbError("read people", err)
	}
	return collect(rows, scanPerson)
}

// LinkedPeople implements parley.PeopleStore.
func (s *Store) LinkedPeople(ctx context.Context, id int64) ([]parley.Person, error) {
	return s.queryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE id IN (
		SELECT person_id FROM person_links WHERE person_id != $1
			AND group_id = (SELECT group_id FROM person_links WHERE person_id = $1))
		ORDER BY platform, handle`, id)
}

// SearchPeople implements parley.PeopleStore.
func (s *Store) SearchPeople(ctx context.Context, q string, limit int) ([]parley.Person, error) {
	q = strings.TrimPrefix(strings.TrimSpace(q), "@")
	if q == "" {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	return s.queryPeople(ctx, `SELECT `+personColumns+` FROM people
		WHERE strpos(lower(handle), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0 OR external_id = $1
		ORDER BY last_seen DESC LIMIT $2`, q, limit)
}
