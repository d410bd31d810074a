package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

// Opt-out reasons written to drafts the opt-out withdraws.
const (
	reasonOptedOut     = "opted out"
	reasonAcknowledged = "opted out: the acknowledgement answers this message"
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, dbError("opt out", err)
	}
	defer tx.Rollback()
	p, err := scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, req.PersonID))
	if err != nil {
		return res, notFound(err, "person %d not found", req.PersonID)
	}
	if p.OptedOut {
		res.Person = p
		return res, nil
	}
	res.Changed = true
	if _, err := tx.ExecContext(ctx, `UPDATE people SET opted_out = 1, opted_out_at = ? WHERE id = ?`, now, p.ID); err != nil {
		return res, dbError("opt out", err)
	}
	detail := req.Reason
	if req.MentionID != 0 {
		detail = strings.TrimSpace(fmt.Sprintf("%s (mention %d)", detail, req.MentionID))
	}
	if err := advAudit(ctx, tx, now, req.Actor, "optout", 0, p.ID, detail); err != nil {
		return res, err
	}

	// Withdraw the prompts still waiting in the queue.
	ids, err := advInt64s(ctx, tx, `SELECT id FROM drafts WHERE person_id = ? AND kind = 'prompt' AND state IN ('pending', 'approved')
		ORDER BY id`, p.ID)
	if err != nil {
		return res, dbError("opt out", err)
	}
	for _, id := range ids {
		if err := advReject(ctx, tx, id, p.ID, now, reasonOptedOut); err != nil {
			return res, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE prompts SET outcome = 'withdrawn', outcome_at = ?, outcome_detail = ?
			WHERE draft_id = ? AND outcome = ''`, now, reasonOptedOut, id); err != nil {
			return res, dbError("opt out", err)
		}
	}
	res.Withdrawn = ids
	// A prompt sent and still watched has its answer: no.
	var mention any
	if req.MentionID != 0 {
		mention = req.MentionID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE prompts SET outcome = 'declined', outcome_at = ?, outcome_mention_id = ?,
		outcome_detail = ? WHERE person_id = ? AND outcome = ''
		AND draft_id IN (SELECT id FROM drafts WHERE person_id = ? AND state = 'sent')`,
		now, mention, reasonOptedOut, p.ID, p.ID); err != nil {
		return res, dbError("opt out", err)
	}

	// Acknowledge once, in reply to the message that asked.
	if strings.TrimSpace(req.Ack) != "" && req.MentionID != 0 && !p.NoBot {
		var platform string
		var threadID, author int64
		err := tx.QueryRowContext(ctx, `SELECT platform, thread_id, person_id FROM mentions WHERE id = ?`, req.MentionID).
			Scan(&platform, &threadID, &author)
		if err != nil {
			return res, notFound(err, "mention %d not found", req.MentionID)
		}
		if author != p.ID {
			return res, parley.Errorf(parley.EINVALID, "opt out: mention %d is not by person %d", req.MentionID, p.ID)
		}
		others, err := advInt64s(ctx, tx, `SELECT id FROM drafts WHERE mention_id = ? AND state = 'pending' ORDER BY id`, req.MentionID)
		if err != nil {
			return res, dbError("opt out", err)
		}
		for _, id := range others {
			if err := advReject(ctx, tx, id, p.ID, now, reasonAcknowledged); err != nil {
				return res, err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id, rule, text,
			auto_approve, created_at, updated_at, decided_by, decided_at)
			VALUES ('reply', 'approved', ?, ?, ?, ?, 'opt-out', ?, 1, ?, ?, ?, ?) RETURNING id`,
			platform, req.MentionID, p.ID, threadID, strings.TrimSpace(req.Ack), now, now, ActorParley, now).Scan(&res.AckDraftID); err != nil {
			return res, dbError("opt out", err)
		}
		if err := advAudit(ctx, tx, now, ActorParley, "approve", res.AckDraftID, p.ID, "auto-approved opt-out acknowledgement"); err != nil {
			return res, err
		}
	}
	p.OptedOut = true
	res.Person = p
	return res, dbError("opt out", tx.Commit())
}

// OptIn implements parley.AdvocateStore.
func (s *Store) OptIn(ctx context.Context, personID int64, actor, reason string) (parley.OptOutResult, error) {
	var res parley.OptOutResult
	if strings.TrimSpace(actor) == "" {
		return res, parley.Errorf(parley.EINVALID, "opt in: who is acting? (actor is empty)")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, dbError("opt in", err)
	}
	defer tx.Rollback()
	p, err := scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, personID))
	if err != nil {
		return res, notFound(err, "person %d not found", personID)
	}
	res.Person = p
	if !p.OptedOut {
		return res, nil
	}
	now := s.now().UnixMilli()
	if _, err := tx.ExecContext(ctx, `UPDATE people SET opted_out = 0, opted_out_at = 0 WHERE id = ?`, personID); err != nil {
		return res, dbError("opt in", err)
	}
	if err := advAudit(ctx, tx, now, actor, "optin", 0, personID, reason); err != nil {
		return res, err
	}
	res.Changed = true
	res.Person.OptedOut = false
	return res, dbError("opt in", tx.Commit())
}

// ConsentLog implements parley.AdvocateStore.
func (s *Store) ConsentLog(ctx context.Context, personID int64) ([]parley.AuditEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at, actor, action, coalesce(draft_id, 0), coalesce(person_id, 0), detail
		FROM audit WHERE person_id = ? AND action IN ('optout', 'optin') ORDER BY at, id`, personID)
	if err != nil {
		return nil, fmt.Errorf("consent log: %w", err)
	}
	return scanAudit(rows)
}

// RepliesToUs implements parley.AdvocateStore.
func (s *Store) RepliesToUs(ctx context.Context, m parley.Mention) (bool, error) {
	var ok bool
	err := s.rdb.QueryRowContext(ctx, `SELECT
		(?1 != '' AND EXISTS (SELECT 1 FROM drafts WHERE platform = ?2 AND posted_id = ?1 AND posted_id != ''))
		OR (?3 != 0 AND EXISTS (SELECT 1 FROM drafts WHERE thread_id = ?3 AND state = 'sent'))`,
		m.InReplyTo, m.Platform, m.ThreadID).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("replies to us: %w", err)
	}
	return ok, nil
}

func advAudit(ctx context.Context, tx *sql.Tx, at int64, actor, action string, draftID, personID int64, detail string) error {
	var d any
	if draftID != 0 {
		d = draftID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		at, actor, action, d, personID, detail)
	return dbError("audit", err)
}

// advReject rejects a draft as Parley, with an audit entry.
func advReject(ctx context.Context, tx *sql.Tx, id, personID, now int64, reason string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'rejected', decided_by = ?, decided_at = ?, updated_at = ?
		WHERE id = ?`, ActorParley, now, now, id); err != nil {
		return dbError("reject draft", err)
	}
	return advAudit(ctx, tx, now, ActorParley, "reject", id, personID, reason)
}

func advInt64s(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
