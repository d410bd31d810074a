package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// This file holds advocate scores and states; advocate_prompts.go the
// prompts and their outcomes; advocate_consent.go opt-out and opt-in.

var _ parley.AdvocateStore = (*Store)(nil)

// ActorParley is the actor Parley itself acts as in the audit log and the
// advocate changes (scoring, withdrawing prompts, acknowledging opt-outs).
const ActorParley = "parley"

const advocatePersonColumns = personColumns + `, advocate_note, advocate_confirmed_by, advocate_confirmed_at`

func scanAdvocatePerson(row scanner) (parley.AdvocateHistory, error) {
	var h parley.AdvocateHistory
	var confirmedAt int64
	p, err := scanPerson(rowsWithExtra2{row, []any{&h.Note, &h.ConfirmedBy, &confirmedAt}})
	if err != nil {
		return h, err
	}
	h.Person = p
	h.ConfirmedAt = fromMS(confirmedAt)
	return h, nil
}

// rowsWithExtra2 scans a person row followed by extra columns.
type rowsWithExtra2 struct {
	row   scanner
	extra []any
}

func (r rowsWithExtra2) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// AdvocateHistories implements parley.AdvocateStore. It reads in one
// snapshot: the people, their mentions in the window, the replies others
// made to them and their prompts.
func (s *Store) AdvocateHistories(ctx context.Context, since, until time.Time) ([]parley.AdvocateHistory, error) {
	return s.advocateHistories(ctx, 0, since, until)
}

// AdvocateHistory implements parley.AdvocateStore.
func (s *Store) AdvocateHistory(ctx context.Context, personID int64, since, until time.Time) (parley.AdvocateHistory, error) {
	hs, err := s.advocateHistories(ctx, personID, since, until)
	if err != nil {
		return parley.AdvocateHistory{}, err
	}
	if len(hs) == 0 {
		return parley.AdvocateHistory{}, parley.Errorf(parley.ENOTFOUND, "person %d not found", personID)
	}
	return hs[0], nil
}

// advocateHistories reads the histories of one person (personID != 0) or
// of everyone the scoring must look at.
func (s *Store) advocateHistories(ctx context.Context, personID int64, since, until time.Time) ([]parley.AdvocateHistory, error) {
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("advocate histories: %w", err)
	}
	defer tx.Rollback()
	r := &advocateRead{ctx: ctx, tx: tx, personID: personID, args: []any{ms(since), ms(until)}}
	if personID != 0 {
		r.args = append(r.args, personID)
	}
	if err := r.people(); err != nil || len(r.out) == 0 {
		return nil, err
	}
	for _, read := range []func() error{r.mentions, r.engagement, r.prompts} {
		if err := read(); err != nil {
			return nil, err
		}
	}
	return r.out, nil
}

// advocateRead is one reading of advocate histories, in one read
// transaction: the people first, then what each query adds to them.
type advocateRead struct {
	ctx      context.Context
	tx       *sql.Tx
	personID int64 // one person, or 0 for everyone the scoring looks at
	args     []any // ?1 and ?2 the window in ms, ?3 personID when set

	out   []parley.AdvocateHistory
	index map[int64]int // position in out by person id
}

// people reads the people: the one asked for, or everyone who wrote in the
// window or has an advocate state or score.
func (r *advocateRead) people() error {
	who := `(id IN (SELECT person_id FROM mentions WHERE created_at >= ?1 AND created_at < ?2)
		OR advocate_state != '' OR advocate_score != 0)`
	if r.personID != 0 {
		who = `id = ?3`
	}
	rows, err := r.tx.QueryContext(r.ctx, `SELECT `+advocatePersonColumns+` FROM people WHERE `+who+` ORDER BY id`, r.args...)
	if err != nil {
		return fmt.Errorf("advocate people: %w", err)
	}
	r.index = map[int64]int{}
	for rows.Next() {
		h, err := scanAdvocatePerson(rows)
		if err != nil {
			rows.Close()
			return err
		}
		r.index[h.Person.ID] = len(r.out)
		r.out = append(r.out, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("advocate people: %w", err)
	}
	return nil
}

// mentions adds the people's mentions in the window.
func (r *advocateRead) mentions() error {
	mq := `SELECT ` + mentionColumns + ` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= ?1 AND m.created_at < ?2`
	if r.personID != 0 {
		mq += ` AND m.person_id = ?3`
	}
	mrows, err := r.tx.QueryContext(r.ctx, mq+` ORDER BY m.person_id, m.created_at, m.id`, r.args...)
	if err != nil {
		return fmt.Errorf("advocate mentions: %w", err)
	}
	for mrows.Next() {
		m, err := scanMention(mrows)
		if err != nil {
			mrows.Close()
			return err
		}
		if i, ok := r.index[m.PersonID]; ok {
			r.out[i].Mentions = append(r.out[i].Mentions, m)
		}
	}
	mrows.Close()
	if err := mrows.Err(); err != nil {
		return fmt.Errorf("advocate mentions: %w", err)
	}
	return nil
}

// engagement adds the replies other people posted to their posts of the
// window.
func (r *advocateRead) engagement() error {
	eq := `SELECT o.person_id, count(*) FROM mentions r
		JOIN mentions o ON o.platform = r.platform AND o.external_id = r.in_reply_to
		WHERE r.created_at >= ?1 AND r.created_at < ?2 AND r.in_reply_to != '' AND r.person_id != o.person_id
		AND o.created_at >= ?1 AND o.created_at < ?2`
	if r.personID != 0 {
		eq += ` AND o.person_id = ?3`
	}
	erows, err := r.tx.QueryContext(r.ctx, eq+` GROUP BY o.person_id`, r.args...)
	if err != nil {
		return fmt.Errorf("advocate engagement: %w", err)
	}
	for erows.Next() {
		var id int64
		var n int
		if err := erows.Scan(&id, &n); err != nil {
			erows.Close()
			return err
		}
		if i, ok := r.index[id]; ok {
			r.out[i].RepliesReceived = n
		}
	}
	erows.Close()
	if err := erows.Err(); err != nil {
		return fmt.Errorf("advocate engagement: %w", err)
	}
	return nil
}

// prompts adds their prompts, newest first.
func (r *advocateRead) prompts() error {
	pq := `SELECT ` + promptColumns + ` FROM prompts pr JOIN drafts d ON d.id = pr.draft_id`
	var pargs []any
	if r.personID != 0 {
		pq += ` WHERE pr.person_id = ?`
		pargs = append(pargs, r.personID)
	}
	prompts, err := queryPrompts(r.ctx, r.tx, pq+` ORDER BY pr.created_at DESC, pr.draft_id DESC`, pargs...)
	if err != nil {
		return fmt.Errorf("advocate prompts: %w", err)
	}
	for _, p := range prompts {
		if i, ok := r.index[p.PersonID]; ok {
			r.out[i].Prompts = append(r.out[i].Prompts, p)
		}
	}
	return nil
}

// SaveAdvocates implements parley.AdvocateStore.
func (s *Store) SaveAdvocates(ctx context.Context, updates []parley.AdvocateUpdate, at time.Time) ([]parley.AdvocateChange, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("save advocates", err)
	}
	defer tx.Rollback()
	now := ms(at)
	var changes []parley.AdvocateChange
	for _, u := range updates {
		if u.To != u.From {
			c := parley.AdvocateChange{PersonID: u.PersonID, From: u.From, To: u.To, Score: u.Score, At: fromMS(now),
				Actor: ActorParley, Reason: u.Reason}
			err := tx.QueryRowContext(ctx, `UPDATE people SET advocate_state = ?, advocate_score = ?, advocate_note = ?,
				advocate_scored_at = ? WHERE id = ? AND advocate_state = ? RETURNING handle, platform`,
				u.To, u.Score, u.Note, now, u.PersonID, u.From).Scan(&c.Handle, &c.Platform)
			switch {
			case err == nil:
				if err := tx.QueryRowContext(ctx, `INSERT INTO advocate_changes (person_id, at, from_state, to_state, score, actor, reason)
					VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.PersonID, now, c.From, c.To, c.Score, c.Actor, c.Reason).Scan(&c.ID); err != nil {
					return nil, dbError("save advocates", err)
				}
				changes = append(changes, c)
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return nil, dbError("save advocates", err)
			}
			// The state moved meanwhile (a manager confirmed): keep it,
			// save the score.
		}
		if _, err := tx.ExecContext(ctx, `UPDATE people SET advocate_score = ?, advocate_note = ?, advocate_scored_at = ?
			WHERE id = ?`, u.Score, u.Note, now, u.PersonID); err != nil {
			return nil, dbError("save advocates", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, dbError("save advocates", err)
	}
	return changes, nil
}

// ConfirmAdvocate implements parley.AdvocateStore.
func (s *Store) ConfirmAdvocate(ctx context.Context, personID int64, actor string) (parley.AdvocateChange, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.AdvocateChange{}, parley.Errorf(parley.EINVALID, "confirm advocate: who is acting? (actor is empty)")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.AdvocateChange{}, dbError("confirm advocate", err)
	}
	defer tx.Rollback()
	c := parley.AdvocateChange{PersonID: personID, To: parley.AdvocateActive, Actor: actor, Reason: "confirmed by a manager"}
	err = tx.QueryRowContext(ctx, `SELECT handle, platform, advocate_state, advocate_score FROM people WHERE id = ?`, personID).
		Scan(&c.Handle, &c.Platform, &c.From, &c.Score)
	if err != nil {
		return c, notFound(err, "person %d not found", personID)
	}
	if c.From == parley.AdvocateActive {
		return c, parley.Errorf(parley.ECONFLICT, "@%s is already an advocate", c.Handle)
	}
	now := s.now().UnixMilli()
	c.At = fromMS(now)
	if _, err := tx.ExecContext(ctx, `UPDATE people SET advocate_state = 'advocate', advocate_confirmed_by = ?,
		advocate_confirmed_at = ?, advocate_note = ? WHERE id = ?`, actor, now, "confirmed by "+actor, personID); err != nil {
		return c, dbError("confirm advocate", err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO advocate_changes (person_id, at, from_state, to_state, score, actor, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, personID, now, c.From, c.To, c.Score, actor, c.Reason).Scan(&c.ID); err != nil {
		return c, dbError("confirm advocate", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES (?, ?, 'advocate_confirm', ?, ?)`,
		now, actor, personID, fmt.Sprintf("%s -> advocate", advStateName(c.From))); err != nil {
		return c, dbError("audit", err)
	}
	return c, dbError("confirm advocate", tx.Commit())
}

func advStateName(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// AdvocateChanges implements parley.AdvocateStore.
func (s *Store) AdvocateChanges(ctx context.Context, from, to time.Time) ([]parley.AdvocateChange, error) {
	return s.advocateChanges(ctx, `c.at >= ? AND c.at < ?`, ms(from), ms(to))
}

// PersonAdvocateChanges implements parley.AdvocateStore.
func (s *Store) PersonAdvocateChanges(ctx context.Context, personID int64) ([]parley.AdvocateChange, error) {
	return s.advocateChanges(ctx, `c.person_id = ?`, personID)
}

func (s *Store) advocateChanges(ctx context.Context, where string, args ...any) ([]parley.AdvocateChange, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT c.id, c.person_id, p.handle, p.platform, c.from_state, c.to_state, c.score,
		c.at, c.actor, c.reason FROM advocate_changes c JOIN people p ON p.id = c.person_id
		WHERE `+where+` ORDER BY c.at, c.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("advocate changes: %w", err)
	}
	defer rows.Close()
	var out []parley.AdvocateChange
	for rows.Next() {
		var c parley.AdvocateChange
		var at int64
		if err := rows.Scan(&c.ID, &c.PersonID, &c.Handle, &c.Platform, &c.From, &c.To, &c.Score, &at, &c.Actor, &c.Reason); err != nil {
			return nil, err
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Advocates implements parley.AdvocateStore.
func (s *Store) Advocates(ctx context.Context, states []string, limit int) ([]parley.Person, error) {
	es, err := s.AdvocateEntries(ctx, states, limit)
	if err != nil {
		return nil, err
	}
	out := make([]parley.Person, len(es))
	for i, e := range es {
		out[i] = e.Person
	}
	return out, nil
}

// AdvocateEntries lists people in the given states (every non-empty state
// when none), best score first, at most limit (0 means 100).
func (s *Store) AdvocateEntries(ctx context.Context, states []string, limit int) ([]parley.AdvocateEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + personColumns + `, advocate_note, advocate_confirmed_by, advocate_confirmed_at, advocate_scored_at
		FROM people WHERE advocate_state != ''`
	var args []any
	if len(states) > 0 {
		q += ` AND advocate_state IN (` + placeholders(len(states)) + `)`
		for _, st := range states {
			args = append(args, st)
		}
	}
	q += ` ORDER BY advocate_score DESC, id LIMIT ?`
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list advocates: %w", err)
	}
	defer rows.Close()
	var out []parley.AdvocateEntry
	for rows.Next() {
		var e parley.AdvocateEntry
		var confirmed, scored int64
		p, err := scanPerson(rowsWithExtra2{rows, []any{&e.Note, &e.ConfirmedBy, &confirmed, &scored}})
		if err != nil {
			return nil, err
		}
		e.Person, e.ConfirmedAt, e.ScoredAt = p, fromMS(confirmed), fromMS(scored)
		out = append(out, e)
	}
	return out, rows.Err()
}
