package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/parleybot/parley"
)

// PersonAdvocate returns one person as AdvocateEntries shows people: with
// what the last scoring said (Note, ScoredAt) and who confirmed them, for
// the web inbox's person page. It works for anyone, advocate or not (the
// extra fields are then empty). Errors: ENOTFOUND for no such person.
func (s *Store) PersonAdvocate(ctx context.Context, personID int64) (parley.AdvocateEntry, error) {
	var e parley.AdvocateEntry
	var confirmed, scored int64
	err := s.rdb.QueryRowContext(ctx, `SELECT advocate_note, advocate_confirmed_by, advocate_confirmed_at, advocate_scored_at
		FROM people WHERE id = ?`, personID).Scan(&e.Note, &e.ConfirmedBy, &confirmed, &scored)
	if errors.Is(err, sql.ErrNoRows) {
		return e, parley.Errorf(parley.ENOTFOUND, "person %d not found", personID)
	}
	if err != nil {
		return e, fmt.Errorf("advocate entry of person %d: %w", personID, err)
	}
	e.ConfirmedAt, e.ScoredAt = fromMS(confirmed), fromMS(scored)
	if e.Person, err = s.Person(ctx, personID); err != nil {
		return e, err
	}
	return e, nil
}
