package store

import (
	"context"

	"github.com/parleybot/parley"
)

// maxDigestAdvocates bounds DigestWindow.Advocates.
const maxDigestAdvocates = 20

// digestPeople fills the advocate part of a digest window. All the
// advocate and prompt reads of the digest live here, so the advocates
// work (migration 0004: prompts and their outcomes) extends this one
// function. Until then it reads what exists: people.advocate_state and
// advocate_score. Prompts are drafts of kind prompt (w.Drafts) and
// opt-outs are audit entries with action "optout" (w.Audit).
func (s *Store) digestPeople(ctx context.Context, w *parley.DigestWindow) error {
	w.AdvocateStates = map[string]int{}
	rows, err := s.rdb.QueryContext(ctx, `SELECT advocate_state, count(*) FROM people WHERE advocate_state != ''
		GROUP BY advocate_state`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return err
		}
		w.AdvocateStates[st] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	w.Advocates, err = s.digestQueryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE advocate_state = 'advocate'
		ORDER BY advocate_score DESC, id LIMIT ?`, maxDigestAdvocates)
	return err
}
