package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// OptOut implements parley.AdvocateStore.
func (s *Store) OptOut(ctx context.Context, req parley.OptOutRequest) (parley.OptOutResult, error) {
	var res parley.OptOutResult
	if strings.TrimSpace(req.Actor) == "" {
		return res, parley.Errorf(parley.EINVALID, "opt out: who is acting? (actor is empty)")
	}
	at := req.At
	if at.IsZero() {
		at = s.now()
	}
	now := ms(at)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = parley.OptOutResult{}
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		p, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1 FOR UPDATE`, req.PersonID))
		if err != nil {
			return notFound(err, "person %d not found", req.PersonID)
		}
		res.Person = p
		if p.OptedOut {
			return nil
		}
		res.Changed = true
		if _, err := tx.Exec(ctx, `UPDATE people SET opted_out = true, opted_out_at = $1 WHERE id = $2`, now, p.ID); err != nil {
			return err
		}
		detail := req.Reason
		if req.MentionID != 0 {
			detail = strings.TrimSpace(fmt.Sprintf("%s (mention %d)", detail, req.MentionID))
		}
		if err := addAudit(ctx, tx, now, req.Actor, "optout", 0, p.ID, detail); err != nil {
			return err
		}
		if res.Withdrawn, err = withdrawPrompts(ctx, tx, p.ID, now, req.MentionID); err != nil {
			return err
		}
		if strings.TrimSpace(req.Ack) != "" && req.MentionID != 0 && !p.NoBot {
			if res.AckDraftID, err = acknowledge(ctx, tx, req, p.ID, now); err != nil {
				return err
			}
		}
		res.Person.OptedOut = true
		return nil
	})
	return res, dbError("opt out", err)
}

// withdrawPrompts rejects a person's prompts still waiting in the queue
// (as Parley, with audit entries) and takes a watched prompt's answer as
// no (mentionID, when not 0, is the message that said it).
func withdrawPrompts(ctx context.Context, tx pgx.Tx, personID, now, mentionID int64) ([]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id FROM drafts WHERE person_id = $1 AND kind = 'prompt' AND state IN ('pending', 'approved')
		ORDER BY id`, personID)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := rejectAsParley(ctx, tx, id, personID, now, reasonOptedOut); err != nil {
			return nil, err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE prompts SET outcome = 'withdrawn', outcome_at = $1, outcome_detail = $2
		WHERE draft_id = ANY($3) AND outcome = ''`, now, reasonOptedOut, ids); err != nil {
		return nil, err
	}
	_, err = tx.Exec(ctx, `UPDATE prompts SET outcome = 'declined', outcome_at = $1, outcome_mention_id = nullif($2::bigint, 0),
		outcome_detail = $3 WHERE person_id = $4 AND outcome = ''
		AND draft_id IN (SELECT id FROM drafts WHERE person_id = $4 AND state = 'sent')`, now, mentionID, reasonOptedOut, personID)
	return ids, err
}

// acknowledge queues the opt-out's acknowledgement, approved, in reply to
// the message that asked; other pending drafts for that message are
// rejected.
func acknowledge(ctx context.Context, tx pgx.Tx, req parley.OptOutRequest, personID, now int64) (int64, error) {
	var platform string
	var threadID, author int64
	err := tx.QueryRow(ctx, `SELECT platform, thread_id, person_id FROM mentions WHERE id = $1`, req.MentionID).
		Scan(&platform, &threadID, &author)
	if err != nil {
		return 0, notFound(err, "mention %d not found", req.MentionID)
	}
	if author != personID {
		return 0, parley.Errorf(parley.EINVALID, "opt out: mention %d is not by person %d", req.MentionID, personID)
	}
	rows, err := tx.Query(ctx, `SELECT id FROM drafts WHERE mention_id = $1 AND state = 'pending' ORDER BY id`, req.MentionID)
	if err != nil {
		return 0, err
	}
	others, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, err
	}
	for _, id := range others {
		if err := rejectAsParley(ctx, tx, id, personID, now, reasonAcknowledged); err != nil {
			return 0, err
		}
	}
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id, rule, text,
		auto_approve, created_at, updated_at, decided_by, decided_at)
		VALUES ('reply', 'approved', $1, $2, $3, $4, 'opt-out', $5, true, $6, $6, $7, $6) RETURNING id`,
		platform, req.MentionID, personID, threadID, strings.TrimSpace(req.Ack), now, actorParley).Scan(&id); err != nil {
		return 0, err
	}
	return id, addAudit(ctx, tx, now, actorParley, "approve", id, personID, "auto-approved opt-out acknowledgement")
}

// OptIn implements parley.AdvocateStore.
func (s *Store) OptIn(ctx context.Context, personID int64, actor, reason string) (parley.OptOutResult, error) {
	var res parley.OptOutResult
	if strings.TrimSpace(actor) == "" {
		return res, parley.Errorf(parley.EINVALID, "opt in: who is acting? (actor is empty)")
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		p, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1 FOR UPDATE`, personID))
		if err != nil {
			return notFound(err, "person %d not found", personID)
		}
		res = parley.OptOutResult{Person: p}
		if !p.OptedOut {
			return nil
		}
		now := s.now().UnixMilli()
		if _, err := tx.Exec(ctx, `UPDATE people SET opted_out = false, opted_out_at = 0 WHERE id = $1`, personID); err != nil {
			return err
		}
		res.Changed, res.Person.OptedOut = true, false
		return addAudit(ctx, tx, now, actor, "optin", 0, personID, reason)
	})
	return res, dbError("opt in", err)
}

func addAudit(ctx context.Context, tx pgx.Tx, at int64, actor, action string, draftID, personID int64, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
		VALUES ($1, $2, $3, nullif($4::bigint, 0), $5, $6)`, at, actor, action, draftID, personID, detail)
	return err
}

// rejectAsParley rejects a draft as Parley, with an audit entry.
func rejectAsParley(ctx context.Context, tx pgx.Tx, id, personID, now int64, reason string) error {
	if _, err := tx.Exec(ctx, `UPDATE drafts SET state = 'rejected', decided_by = $1, decided_at = $2, updated_at = $2
		WHERE id = $3`, actorParley, now, id); err != nil {
		return err
	}
	return addAudit(ctx, tx, now, actorParley, "reject", id, personID, reason)
}

// QueuePrompt implements parley.AdvocateStore. Every consent rule is
// checked in the transaction that writes the draft, with the person's row
// locked, so two workers (or a worker and a manager's opt-out) cannot slip
// a prompt past them.
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
	now := ms(at)
	state, decidedBy, decidedAt := parley.DraftPending, "", int64(0)
	if req.AutoApprove {
		state, decidedBy, decidedAt = parley.DraftApproved, "rule:"+req.Rule, now
	}
	var id int64
	var platform string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var handle, tz string
		var optedOut, nobot bool
		err := tx.QueryRow(ctx, `SELECT handle, platform, timezone, opted_out, nobot FROM people WHERE id = $1 FOR UPDATE`,
			req.PersonID).Scan(&handle, &platform, &tz, &optedOut, &nobot)
		if err != nil {
			return notFound(err, "person %d not found", req.PersonID)
		}
		if err := checkConsent(ctx, tx, req, pol, at, handle, tz, optedOut, nobot); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO drafts (kind, state, platform, person_id, rule, text, priority, auto_approve,
			created_at, updated_at, decided_by, decided_at) VALUES ('prompt', $1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10) RETURNING id`,
			string(state), platform, req.PersonID, req.Template, req.Text, req.Priority, req.AutoApprove, now,
			decidedBy, decidedAt).Scan(&id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO prompts (draft_id, person_id, ask, template, rule, link, hashtag, watch_ms, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, req.PersonID, req.Ask, req.Template, req.Rule, req.Link, req.Hashtag,
			pol.WatchFor.Milliseconds(), now); err != nil {
			return err
		}
		detail := fmt.Sprintf("template %s (ask %s) by rule %s", req.Template, req.Ask, req.Rule)
		if err := addAudit(ctx, tx, now, actorParley, "prompt", id, req.PersonID, detail); err != nil {
			return err
		}
		if req.AutoApprove {
			return addAudit(ctx, tx, now, decidedBy, "approve", id, req.PersonID, "auto-approved by prompt rule "+req.Rule)
		}
		return nil
	})
	if err != nil {
		var ce *parley.ConsentError
		if errors.As(err, &ce) {
			return parley.Prompt{}, err
		}
		return parley.Prompt{}, dbError("queue prompt", err)
	}
	return parley.Prompt{DraftID: id, PersonID: req.PersonID, Platform: platform, Rule: req.Rule, Template: req.Template,
		Ask: req.Ask, Link: req.Link, Hashtag: req.Hashtag, Text: req.Text, State: state, CreatedAt: fromMS(now),
		WatchFor: time.Duration(pol.WatchFor.Milliseconds()) * time.Millisecond}, nil
}

// CheckPrompt runs the consent rules of QueuePrompt for req without
// queueing anything: nil when the prompt would be queued now, else the
// *parley.ConsentError (or ENOTFOUND).
func (s *Store) CheckPrompt(ctx context.Context, req parley.PromptRequest, pol parley.ConsentPolicy) error {
	at := req.At
	if at.IsZero() {
		at = s.now()
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var handle, tz string
		var optedOut, nobot bool
		err := tx.QueryRow(ctx, `SELECT handle, timezone, opted_out, nobot FROM people WHERE id = $1`, req.PersonID).
			Scan(&handle, &tz, &optedOut, &nobot)
		if err != nil {
			return notFound(err, "person %d not found", req.PersonID)
		}
		return checkConsent(ctx, tx, req, pol, at.UTC(), handle, tz, optedOut, nobot)
	})
	var ce *parley.ConsentError
	if err == nil || errors.As(err, &ce) {
		return err
	}
	return dbError("check prompt", err)
}

// checkConsent applies the consent rules (storelogic.CheckConsent) with
// what tx reads about the person.
func checkConsent(ctx context.Context, tx pgx.Tx, req parley.PromptRequest, pol parley.ConsentPolicy, at time.Time,
	handle, tz string, optedOut, nobot bool) error {
	p := storelogic.Person{Handle: handle, TimeZone: tz, OptedOut: optedOut, NoBot: nobot}
	return storelogic.CheckConsent(req, pol, at, p, storelogic.ConsentLookups{
		SameAsk: func() (int64, bool, error) {
			var prev int64
			err := tx.QueryRow(ctx, `SELECT draft_id FROM prompts WHERE person_id = $1 AND ask = $2`, req.PersonID, req.Ask).Scan(&prev)
			if errors.Is(err, pgx.ErrNoRows) {
				return 0, false, nil
			}
			return prev, err == nil, err
		},
		Prompts: func(since time.Time) (n, waiting int, oldestSent time.Time, err error) {
			var oldest int64
			err = tx.QueryRow(ctx, `SELECT count(*),
				count(*) FILTER (WHERE d.state IN ('pending', 'approved', 'sending')),
				coalesce(min(d.sent_at) FILTER (WHERE d.state = 'sent'), 0)
				FROM prompts pr JOIN drafts d ON d.id = pr.draft_id
				WHERE pr.person_id = $1 AND (d.state IN ('pending', 'approved', 'sending') OR (d.state = 'sent' AND d.sent_at > $2))`,
				req.PersonID, ms(since)).Scan(&n, &waiting, &oldest)
			return n, waiting, fromMS(oldest), err
		},
		LastNegative: func(since, at time.Time) (time.Time, error) {
			var last int64
			err := tx.QueryRow(ctx, `SELECT coalesce(max(created_at), 0) FROM mentions
				WHERE person_id = $1 AND sentiment = 'negative' AND created_at > $2 AND created_at <= $3`,
				req.PersonID, ms(since), ms(at)).Scan(&last)
			return fromMS(last), err
		},
	})
}
