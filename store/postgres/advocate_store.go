package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.AdvocateStore = (*Store)(nil)

const promptColumns = `pr.draft_id, pr.person_id, d.platform, pr.rule, pr.template, pr.ask, pr.link, pr.hashtag, d.text,
	d.state, pr.created_at, d.sent_at, pr.watch_ms, pr.outcome, pr.outcome_at, coalesce(pr.outcome_mention_id, 0),
	pr.outcome_detail`

func scanPrompt(r pgx.Row) (parley.Prompt, error) {
	var p parley.Prompt
	var state string
	var created, sent, watch, outcomeAt int64
	err := r.Scan(&p.DraftID, &p.PersonID, &p.Platform, &p.Rule, &p.Template, &p.Ask, &p.Link, &p.Hashtag,
		&p.Text, &state, &created, &sent, &watch, &p.Outcome, &outcomeAt, &p.OutcomeMentionID, &p.OutcomeDetail)
	p.State = parley.DraftState(state)
	p.CreatedAt, p.SentAt, p.OutcomeAt = fromMS(created), fromMS(sent), fromMS(outcomeAt)
	p.WatchFor = time.Duration(watch) * time.Millisecond
	return p, err
}

func queryPrompts(ctx context.Context, q rowsQuerier, query string, args ...any) ([]parley.Prompt, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, dbError("read prompts", err)
	}
	return collect(rows, scanPrompt)
}

type rowsQuerier interface {
	Query(ctx context.Context, q string, args ...any) (pgx.Rows, error)
}

// AdvocateHistories implements parley.AdvocateStore, in one snapshot.
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
	var out []parley.AdvocateHistory
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		who := `(id IN (SELECT person_id FROM mentions WHERE created_at >= $1 AND created_at < $2)
			OR advocate_state != '' OR advocate_score != 0)`
		args := []any{ms(since), ms(until)}
		if personID != 0 {
			who = `id = $3 AND $1::bigint IS NOT NULL AND $2::bigint IS NOT NULL`
			args = append(args, personID)
		}
		rows, err := tx.Query(ctx, `SELECT `+personColumns+`, advocate_note, advocate_confirmed_by, advocate_confirmed_at
			FROM people WHERE `+who+` ORDER BY id`, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, func(r pgx.Row) (parley.AdvocateHistory, error) {
			var h parley.AdvocateHistory
			var confirmedAt int64
			p, err := scanPerson(rowWithExtras{r, []any{&h.Note, &h.ConfirmedBy, &confirmedAt}})
			h.Person, h.ConfirmedAt = p, fromMS(confirmedAt)
			return h, err
		})
		if err != nil || len(out) == 0 {
			return err
		}
		return fillHistories(ctx, tx, out, personID, args)
	})
	if err != nil {
		return nil, dbError("advocate histories", err)
	}
	return out, nil
}

// fillHistories adds to the people of out their mentions in the window,
// the replies others made to them and their prompts.
func fillHistories(ctx context.Context, tx pgx.Tx, out []parley.AdvocateHistory, personID int64, args []any) error {
	index := map[int64]int{}
	for i, h := range out {
		index[h.Person.ID] = i
	}
	one := ""
	if personID != 0 {
		one = ` AND m.person_id = $3`
	}
	ms, err := queryMentionsTx(ctx, tx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= $1 AND m.created_at < $2`+one+` ORDER BY m.person_id, m.created_at, m.id`, args...)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if i, ok := index[m.PersonID]; ok {
			out[i].Mentions = append(out[i].Mentions, m)
		}
	}
	one = ""
	if personID != 0 {
		one = ` AND o.person_id = $3`
	}
	rows, err := tx.Query(ctx, `SELECT o.person_id, count(*) FROM mentions r
		JOIN mentions o ON o.platform = r.platform AND o.external_id = r.in_reply_to
		WHERE r.created_at >= $1 AND r.created_at < $2 AND r.in_reply_to != '' AND r.person_id != o.person_id
		AND o.created_at >= $1 AND o.created_at < $2`+one+` GROUP BY o.person_id`, args...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return err
		}
		if i, ok := index[id]; ok {
			out[i].RepliesReceived = n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	pq := `SELECT ` + promptColumns + ` FROM prompts pr JOIN drafts d ON d.id = pr.draft_id`
	var pargs []any
	if personID != 0 {
		pq += ` WHERE pr.person_id = $1`
		pargs = append(pargs, personID)
	}
	prompts, err := queryPrompts(ctx, tx, pq+` ORDER BY pr.created_at DESC, pr.draft_id DESC`, pargs...)
	if err != nil {
		return err
	}
	for _, p := range prompts {
		if i, ok := index[p.PersonID]; ok {
			out[i].Prompts = append(out[i].Prompts, p)
		}
	}
	return nil
}

func queryMentionsTx(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]parley.Mention, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanMention)
}

// rowWithExtras scans a row followed by extra columns.
type rowWithExtras struct {
	row   pgx.Row
	extra []any
}

func (r rowWithExtras) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra...)...) }

// SaveAdvocates implements parley.AdvocateStore.
func (s *Store) SaveAdvocates(ctx context.Context, updates []parley.AdvocateUpdate, at time.Time) ([]parley.AdvocateChange, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	now := ms(at)
	var changes []parley.AdvocateChange
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		changes = nil
		for _, u := range updates {
			if u.To != u.From {
				c := parley.AdvocateChange{PersonID: u.PersonID, From: u.From, To: u.To, Score: u.Score, At: fromMS(now),
					Actor: actorParley, Reason: u.Reason}
				err := tx.QueryRow(ctx, `UPDATE people SET advocate_state = $1, advocate_score = $2, advocate_note = $3,
					advocate_scored_at = $4 WHERE id = $5 AND advocate_state = $6 RETURNING handle, platform`,
					u.To, u.Score, u.Note, now, u.PersonID, u.From).Scan(&c.Handle, &c.Platform)
				switch {
				case err == nil:
					if err := tx.QueryRow(ctx, `INSERT INTO advocate_changes (person_id, at, from_state, to_state, score, actor, reason)
						VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, c.PersonID, now, c.From, c.To, c.Score, c.Actor, c.Reason).Scan(&c.ID); err != nil {
						return err
					}
					changes = append(changes, c)
					continue
				case !errors.Is(err, pgx.ErrNoRows):
					return err
				}
				// The state moved meanwhile (a manager confirmed): keep it,
				// save the score.
			}
			if _, err := tx.Exec(ctx, `UPDATE people SET advocate_score = $1, advocate_note = $2, advocate_scored_at = $3
				WHERE id = $4`, u.Score, u.Note, now, u.PersonID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, dbError("save advocates", err)
	}
	return changes, nil
}

// ConfirmAdvocate implements parley.AdvocateStore.
func (s *Store) ConfirmAdvocate(ctx context.Context, personID int64, actor string) (parley.AdvocateChange, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.AdvocateChange{}, parley.Errorf(parley.EINVALID, "confirm advocate: who is acting? (actor is empty)")
	}
	c := parley.AdvocateChange{PersonID: personID, To: parley.AdvocateActive, Actor: actor, Reason: "confirmed by a manager"}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT handle, platform, advocate_state, advocate_score FROM people WHERE id = $1 FOR UPDATE`, personID).
			Scan(&c.Handle, &c.Platform, &c.From, &c.Score)
		if err != nil {
			return notFound(err, "person %d not found", personID)
		}
		if c.From == parley.AdvocateActive {
			return parley.Errorf(parley.ECONFLICT, "@%s is already an advocate", c.Handle)
		}
		now := s.now().UnixMilli()
		c.At = fromMS(now)
		if _, err := tx.Exec(ctx, `UPDATE people SET advocate_state = 'advocate', advocate_confirmed_by = $1,
			advocate_confirmed_at = $2, advocate_note = $3 WHERE id = $4`, actor, now, "confirmed by "+actor, personID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO advocate_changes (person_id, at, from_state, to_state, score, actor, reason)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, personID, now, c.From, c.To, c.Score, actor, c.Reason).Scan(&c.ID); err != nil {
			return err
		}
		from := c.From
		if from == "" {
			from = "none"
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'advocate_confirm', $3, $4)`,
			now, actor, personID, fmt.Sprintf("%s -> advocate", from))
		return err
	})
	return c, dbError("confirm advocate", err)
}

// Advocates implements parley.AdvocateStore.
func (s *Store) Advocates(ctx context.Context, states []string, limit int) ([]parley.Person, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + personColumns + ` FROM people WHERE advocate_state != ''`
	a := args{}
	if len(states) > 0 {
		q += ` AND advocate_state = ANY(` + a.add(states) + `)`
	}
	return s.queryPeople(ctx, q+` ORDER BY advocate_score DESC, id LIMIT `+a.add(limit), a...)
}

// WatchedPrompts implements parley.AdvocateStore.
func (s *Store) WatchedPrompts(ctx context.Context, personIDs []int64) ([]parley.Prompt, error) {
	if len(personIDs) == 0 {
		return nil, nil
	}
	return queryPrompts(ctx, s.pool, `SELECT `+promptColumns+` FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
		WHERE pr.outcome = '' AND d.state = 'sent' AND pr.person_id = ANY($1) ORDER BY d.sent_at, pr.draft_id`, personIDs)
}

// SetPromptOutcome implements parley.AdvocateStore.
func (s *Store) SetPromptOutcome(ctx context.Context, draftID int64, outcome string, mentionID int64, detail string, at time.Time) error {
	switch outcome {
	case parley.OutcomeConverted, parley.OutcomeDeclined, parley.OutcomeExpired, parley.OutcomeWithdrawn:
	default:
		return parley.Errorf(parley.EINVALID, "prompt outcome %q: want converted, declined, expired or withdrawn", outcome)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE prompts SET outcome = $1, outcome_at = $2, outcome_mention_id = nullif($3::bigint, 0),
		outcome_detail = $4 WHERE draft_id = $5 AND outcome = ''`, outcome, ms(at), mentionID, detail, draftID)
	if err != nil {
		return dbError("prompt outcome", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var cur string
	if err := s.pool.QueryRow(ctx, `SELECT outcome FROM prompts WHERE draft_id = $1`, draftID).Scan(&cur); err != nil {
		return notFound(err, "prompt %d not found", draftID)
	}
	return parley.Errorf(parley.ECONFLICT, "prompt %d is already %s", draftID, cur)
}

// ExpirePrompts implements parley.AdvocateStore.
func (s *Store) ExpirePrompts(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE prompts SET outcome = 'expired', outcome_at = $1,
		outcome_detail = 'no answer in the watch window'
		WHERE outcome = '' AND draft_id IN (SELECT d.id FROM drafts d WHERE d.id = prompts.draft_id AND d.state = 'sent'
			AND d.sent_at + prompts.watch_ms <= $1)`, ms(now))
	if err != nil {
		return 0, dbError("expire prompts", err)
	}
	return int(tag.RowsAffected()), nil
}

// RepliesToUs implements parley.AdvocateStore.
func (s *Store) RepliesToUs(ctx context.Context, m parley.Mention) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT
		($1 != '' AND EXISTS (SELECT 1 FROM drafts WHERE platform = $2 AND posted_id = $1 AND posted_id != ''))
		OR ($3::bigint != 0 AND EXISTS (SELECT 1 FROM drafts WHERE thread_id = $3 AND state = 'sent'))`,
		m.InReplyTo, m.Platform, m.ThreadID).Scan(&ok)
	return ok, dbError("replies to us", err)
}
