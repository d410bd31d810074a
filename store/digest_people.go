package store

import (
	"context"

	"github.com/parleybot/parley"
)

// maxDigestAdvocates bounds DigestWindow.Advocates.
const maxDigestAdvocates = 20

// digestPeople fills the advocate part of a digest window: the people
// per advocate state and the top advocates (people), the state changes
// of the period (migration 0004's advocate changes) and the prompts sent
// in it with their outcomes. All the advocate and prompt reads of the
// digest live here. Prompt drafts are also in w.Drafts (kind prompt) and
// opt-outs in w.Audit (action "optout").
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
	w.Advocates, err = s.queryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE advocate_state = 'advocate'
		ORDER BY advocate_score DESC, id LIMIT ?`, maxDigestAdvocates)
	if err != nil {
		return err
	}
	if w.AdvocateChanges, err = s.AdvocateChanges(ctx, w.From, w.To); err != nil {
		return err
	}
	w.Prompts, err = s.PromptConversion(ctx, w.From, w.To)
	return err
}
