package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const promptColumns = `pr.draft_id, pr.person_id, d.platform, pr.rule, pr.template, pr.ask, pr.link, pr.hashtag, d.text,
	d.state, pr.created_at, d.sent_at, pr.watch_ms, pr.outcome, pr.outcome_at, coalesce(pr.outcome_mention_id, 0),
	pr.outcome_detail`

type promptQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryPrompts(ctx context.Context, q promptQuerier, query string, args ...any) ([]parley.Prompt, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.Prompt
	for rows.Next() {
		var p parley.Prompt
		var state string
		var created, sent, watch, outcomeAt int64
		if err := rows.Scan(&p.DraftID, &p.PersonID, &p.Platform, &p.Rule, &p.Template, &p.Ask, &p.Link, &p.Hashtag,
			&p.Text, &state, &created, &sent, &watch, &p.Outcome, &outcomeAt, &p.OutcomeMentionID, &p.OutcomeDetail); err != nil {
			return nil, err
		}
		p.State = parley.DraftState(state)
		p.CreatedAt, p.SentAt, p.OutcomeAt = fromMS(created), fromMS(sent), fromMS(outcomeAt)
		p.WatchFor = time.Duration(watch) * time.Millisecond
		out = append(out, p)
	}
	return out, rows.Err()
}

// QueuePrompt implements parley.AdvocateStore. Every consent rule is
// checked in the transaction that writes the draft, so two workers (or a
// worker and a manager's opt-out) cannot slip a prompt past them.
func (s *Store) QueuePrompt(ctx context.Context, req parley.PromptRequest, pol parley.ConsentPolicy) (parley.Prompt, error) {
	switch {
	case strings.TrimSpace(req.Text) == "":
		return parley.Prompt{}, parley.Errorf(parley.EINVALID, "prompt for person %d: the text is empty", req.PersonID)
	case strings.TrimSpace(req.Ask) == "":
		return parley.Prompt{}, parley.Errorf(parley.EINVALID, "prompt for person %d: what is asked? (ask is empty)", req.PersonID)
	case strings.TrimSpace(req.Template) == "":
		return parley.Prompt{}, parley.Errorf(parley.EINVALID, "prompt for person %d: the template name is empty", req.PersonID)
	}
	at := req.At
	if at.IsZero() {
		at = s.now()
	}
	at = at.UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.Prompt{}, dbError("queue prompt", err)
	}
	defer tx.Rollback()

	var handle, platform, tz string
	var optedOut, nobot bool
	err = tx.QueryRowContext(ctx, `SELECT handle, platform, timezone, opted_out, nobot FROM people WHERE id = ?`, req.PersonID).
		Scan(&handle, &platform, &tz, &optedOut, &nobot)
	if err != nil {
		return parley.Prompt{}, notFound(err, "person %d not found", req.PersonID)
	}
	if err := checkConsent(ctx, tx, req, pol, at, handle, tz, optedOut, nobot); err != nil {
		return parley.Prompt{}, err
	}

	now := ms(at)
	state, decidedBy, decidedAt := parley.DraftPending, "", int64(0)
	if req.AutoApprove {
		state, decidedBy, decidedAt = parley.DraftApproved, "rule:"+req.Rule, now
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO drafts (kind, state, platform, person_id, rule, text, priority, auto_approve,
		created_at, updated_at, decided_by, decided_at) VALUES ('prompt', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		string(state), platform, req.PersonID, req.Template, req.Text, req.Priority, b2i(req.AutoApprove), now, now,
		decidedBy, decidedAt).Scan(&id); err != nil {
		return parley.Prompt{}, dbError("queue prompt", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO prompts (draft_id, person_id, ask, template, rule, link, hashtag, watch_ms, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, req.PersonID, req.Ask, req.Template, req.Rule, req.Link, req.Hashtag,
		pol.WatchFor.Milliseconds(), now); err != nil {
		return parley.Prompt{}, dbError("queue prompt", err)
	}
	detail := fmt.Sprintf("template %s (ask %s) by rule %s", req.Template, req.Ask, req.Rule)
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'prompt', ?, ?, ?)`,
		now, ActorParley, id, req.PersonID, detail); err != nil {
		return parley.Prompt{}, dbError("audit", err)
	}
	if req.AutoApprove {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'approve', ?, ?, ?)`,
			now, decidedBy, id, req.PersonID, "auto-approved by prompt rule "+req.Rule); err != nil {
			return parley.Prompt{}, dbError("audit", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return parley.Prompt{}, dbError("queue prompt", err)
	}
	return parley.Prompt{DraftID: id, PersonID: req.PersonID, Platform: platform, Rule: req.Rule, Template: req.Template,
		Ask: req.Ask, Link: req.Link, Hashtag: req.Hashtag, Text: req.Text, State: state, CreatedAt: fromMS(now),
		WatchFor: time.Duration(pol.WatchFor.Milliseconds()) * time.Millisecond}, nil
}

// CheckPrompt runs the consent rules of QueuePrompt for req without
// queueing anything: nil when the prompt would be queued now, else the
// *parley.ConsentError (or ENOTFOUND). For explanations ("held back by the
// cooldown until ...").
func (s *Store) CheckPrompt(ctx context.Context, req parley.PromptRequest, pol parley.ConsentPolicy) error {
	at := req.At
	if at.IsZero() {
		at = s.now()
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("check prompt: %w", err)
	}
	defer tx.Rollback()
	var handle, tz string
	var optedOut, nobot bool
	err = tx.QueryRowContext(ctx, `SELECT handle, timezone, opted_out, nobot FROM people WHERE id = ?`, req.PersonID).
		Scan(&handle, &tz, &optedOut, &nobot)
	if err != nil {
		return notFound(err, "person %d not found", req.PersonID)
	}
	return checkConsent(ctx, tx, req, pol, at.UTC(), handle, tz, optedOut, nobot)
}

// checkConsent applies the consent rules (storelogic.CheckConsent) with
// what tx reads about the person.
func checkConsent(ctx context.Context, tx *sql.Tx, req parley.PromptRequest, pol parley.ConsentPolicy, at time.Time,
	handle, tz string, optedOut, nobot bool) error {
	p := storelogic.Person{Handle: handle, TimeZone: tz, OptedOut: optedOut, NoBot: nobot}
	return storelogic.CheckConsent(req, pol, at, p, storelogic.ConsentLookups{
		SameAsk: func() (int64, bool, error) {
			var prev int64
			err := tx.QueryRowContext(ctx, `SELECT draft_id FROM prompts WHERE person_id = ? AND ask = ?`, req.PersonID, req.Ask).Scan(&prev)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, false, nil
			}
			return prev, err == nil, err
		},
		Prompts: func(since time.Time) (n, waiting int, oldestSent time.Time, err error) {
			var oldest int64
			err = tx.QueryRowContext(ctx, `SELECT count(*),
				coalesce(sum(d.state IN ('pending', 'approved', 'sending')), 0),
				coalesce(min(CASE WHEN d.state = 'sent' THEN d.sent_at END), 0)
				FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
				WHERE pr.person_id = ? AND (d.state IN ('pending', 'approved', 'sending') OR (d.state = 'sent' AND d.sent_at > ?))`,
				req.PersonID, ms(since)).Scan(&n, &waiting, &oldest)
			return n, waiting, fromMS(oldest), err
		},
		LastNegative: func(since, at time.Time) (time.Time, error) {
			var last int64
			err := tx.QueryRowContext(ctx, `SELECT coalesce(max(created_at), 0) FROM mentions
				WHERE person_id = ? AND sentiment = 'negative' AND created_at > ? AND created_at <= ?`,
				req.PersonID, ms(since), ms(at)).Scan(&last)
			return fromMS(last), err
		},
	})
}

// PersonPrompts implements parley.AdvocateStore.
func (s *Store) PersonPrompts(ctx context.Context, personID int64) ([]parley.Prompt, error) {
	ps, err := queryPrompts(ctx, s.rdb, `SELECT `+promptColumns+` FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
		WHERE pr.person_id = ? ORDER BY pr.created_at DESC, pr.draft_id DESC`, personID)
	if err != nil {
		return nil, fmt.Errorf("prompts of person %d: %w", personID, err)
	}
	return ps, nil
}

// WatchedPrompts implements parley.AdvocateStore.
func (s *Store) WatchedPrompts(ctx context.Context, personIDs []int64) ([]parley.Prompt, error) {
	if len(personIDs) == 0 {
		return nil, nil
	}
	var out []parley.Prompt
	const chunk = 500
	for start := 0; start < len(personIDs); start += chunk {
		ids := personIDs[start:min(start+chunk, len(personIDs))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		ps, err := queryPrompts(ctx, s.rdb, `SELECT `+promptColumns+` FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
			WHERE pr.outcome = '' AND d.state = 'sent' AND pr.person_id IN (`+placeholders(len(ids))+`)
			ORDER BY d.sent_at, pr.draft_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("watched prompts: %w", err)
		}
		out = append(out, ps...)
	}
	return out, nil
}

// SetPromptOutcome implements parley.AdvocateStore.
func (s *Store) SetPromptOutcome(ctx context.Context, draftID int64, outcome string, mentionID int64, detail string, at time.Time) error {
	switch outcome {
	case parley.OutcomeConverted, parley.OutcomeDeclined, parley.OutcomeExpired, parley.OutcomeWithdrawn:
	default:
		return parley.Errorf(parley.EINVALID, "prompt outcome %q: want converted, declined, expired or withdrawn", outcome)
	}
	var mention any
	if mentionID != 0 {
		mention = mentionID
	}
	res, err := s.db.ExecContext(ctx, `UPDATE prompts SET outcome = ?, outcome_at = ?, outcome_mention_id = ?, outcome_detail = ?
		WHERE draft_id = ? AND outcome = ''`, outcome, ms(at), mention, detail, draftID)
	if err != nil {
		return dbError("prompt outcome", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var cur string
	err = s.rdb.QueryRowContext(ctx, `SELECT outcome FROM prompts WHERE draft_id = ?`, draftID).Scan(&cur)
	if err != nil {
		return notFound(err, "prompt %d not found", draftID)
	}
	return parley.Errorf(parley.ECONFLICT, "prompt %d is already %s", draftID, cur)
}

// ExpirePrompts implements parley.AdvocateStore.
func (s *Store) ExpirePrompts(ctx context.Context, now time.Time) (int, error) {
	t := ms(now)
	res, err := s.db.ExecContext(ctx, `UPDATE prompts SET outcome = 'expired', outcome_at = ?1,
		outcome_detail = 'no answer in the watch window'
		WHERE outcome = '' AND draft_id IN (SELECT d.id FROM drafts d WHERE d.id = prompts.draft_id AND d.state = 'sent'
			AND d.sent_at + prompts.watch_ms <= ?1)`, t)
	if err != nil {
		return 0, dbError("expire prompts", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PromptConversion implements parley.AdvocateStore.
func (s *Store) PromptConversion(ctx context.Context, from, to time.Time) ([]parley.PromptStats, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT pr.template, count(*),
		coalesce(sum(pr.outcome = 'converted'), 0), coalesce(sum(pr.outcome = 'declined'), 0),
		coalesce(sum(pr.outcome = 'expired'), 0), coalesce(sum(pr.outcome = ''), 0)
		FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
		WHERE d.state = 'sent' AND d.sent_at >= ? AND d.sent_at < ?
		GROUP BY pr.template ORDER BY count(*) DESC, pr.template`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("prompt conversion: %w", err)
	}
	defer rows.Close()
	var out []parley.PromptStats
	for rows.Next() {
		var st parley.PromptStats
		if err := rows.Scan(&st.Template, &st.Sent, &st.Converted, &st.Declined, &st.Expired, &st.Watching); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
