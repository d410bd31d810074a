package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// SendLease is how long a claimed draft stays with the outbox that claimed
// it. A draft still "sending" after that (its sender crashed) is claimed
// again and retried with the same idempotency key.
const SendLease = 2 * time.Minute

const draftColumns = `id, kind, state, platform, coalesce(mention_id, 0), person_id, coalesce(thread_id, 0), rule, text,
	original_text, priority, auto_approve, created_at, updated_at, decided_by, decided_at, sent_at, posted_id,
	attempts, last_error, new_message_at, written_by, send_after`

func scanDraft(row scanner) (parley.Draft, error) {
	var d parley.Draft
	var state string
	var auto int
	var created, updated, decided, sent, newMsg, sendAfter int64
	err := row.Scan(&d.ID, &d.Kind, &state, &d.Platform, &d.MentionID, &d.PersonID, &d.ThreadID, &d.Rule, &d.Text,
		&d.OriginalText, &d.Priority, &auto, &created, &updated, &d.DecidedBy, &decided, &sent, &d.PostedID,
		&d.Attempts, &d.LastError, &newMsg, &d.WrittenBy, &sendAfter)
	if err != nil {
		return d, err
	}
	d.NewMessageAt, d.SendAfter = fromMS(newMsg), fromMS(sendAfter)
	d.State = parley.DraftState(state)
	d.AutoApprove = auto != 0
	d.CreatedAt, d.UpdatedAt, d.DecidedAt, d.SentAt = fromMS(created), fromMS(updated), fromMS(decided), fromMS(sent)
	return d, nil
}

// Draft implements parley.DraftStore.
func (s *Store) Draft(ctx context.Context, id int64) (parley.Draft, error) {
	d, err := scanDraft(s.rdb.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, id))
	if err != nil {
		return d, notFound(err, "draft %d not found", id)
	}
	return d, nil
}

// Drafts implements parley.DraftStore.
func (s *Store) Drafts(ctx context.Context, f parley.DraftFilter) ([]parley.Draft, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		ph := make([]string, len(f.States))
		for i, st := range f.States {
			ph[i] = "?"
			args = append(args, string(st))
		}
		where = append(where, "state IN ("+strings.Join(ph, ",")+")")
	}
	if f.Platform != "" {
		where = append(where, "platform = ?")
		args = append(args, f.Platform)
	}
	if f.PersonID != 0 {
		where = append(where, "person_id = ?")
		args = append(args, f.PersonID)
	}
	if f.ThreadID != 0 {
		where = append(where, "thread_id = ?")
		args = append(args, f.ThreadID)
	}
	order := "id DESC"
	switch {
	case !f.UpdatedAfter.IsZero():
		where = append(where, "updated_at > ?")
		args = append(args, ms(f.UpdatedAfter))
		order = "updated_at, id"
	case len(f.States) == 1 && f.States[0] == parley.DraftPending:
		order = "priority DESC, created_at, id"
	}
	q := `SELECT ` + draftColumns + ` FROM drafts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY " + order + " LIMIT ? OFFSET ?"
	args = append(args, limit, f.Offset)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list drafts: %w", err)
	}
	return scanDrafts(rows)
}

// decide runs one human decision on a draft in a transaction: apply only
// runs while the draft is in one of from; otherwise the error says who
// decided it. The decision is written to the audit log.
func (s *Store) decide(ctx context.Context, id int64, actor, action, detail string, from []parley.DraftState,
	apply func(tx *sql.Tx, now int64) error) (parley.Draft, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "%s draft %d: who is acting? (actor is empty)", action, id)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.Draft{}, dbError(action+" draft", err)
	}
	defer tx.Rollback()
	d, err := scanDraft(tx.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, id))
	if err != nil {
		return d, notFound(err, "draft %d not found", id)
	}
	if !slices.Contains(from, d.State) {
		return d, storelogic.Conflict(d)
	}
	now := s.now().UnixMilli()
	if err := apply(tx, now); err != nil {
		return d, dbError(action+" draft", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		now, actor, action, id, d.PersonID, detail); err != nil {
		return d, dbError("audit", err)
	}
	d, err = scanDraft(tx.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, id))
	if err != nil {
		return d, err
	}
	if err := tx.Commit(); err != nil {
		return d, dbError(action+" draft", err)
	}
	return d, nil
}

// setText replaces a draft's text, keeping the rule's first wording; the
// draft is then a person's (actor's), never replaced by a rule's.
func setText(ctx context.Context, tx *sql.Tx, id int64, actor, text string, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE drafts SET updated_at = ?,
		original_text = CASE WHEN original_text = '' AND text != ? THEN text ELSE original_text END,
		written_by = CASE WHEN text != ? THEN ? ELSE written_by END,
		text = ? WHERE id = ?`, now, text, text, actor, text, id)
	return err
}

// ApproveDraft implements parley.DraftStore.
func (s *Store) ApproveDraft(ctx context.Context, id int64, actor, text string) (parley.Draft, error) {
	return s.ApproveDraftHeld(ctx, id, actor, text, 0)
}

// ApproveDraftHeld implements parley.UndoStore: the grace deadline is the
// store's clock plus grace, and ClaimDrafts and UndoApproval judge it by
// the same clock.
func (s *Store) ApproveDraftHeld(ctx context.Context, id int64, actor, text string, grace time.Duration) (parley.Draft, error) {
	detail := ""
	if text != "" {
		if err := storelogic.CheckText(id, text); err != nil {
			return parley.Draft{}, err
		}
		detail = "edited before approval"
	}
	if grace < 0 {
		grace = 0
	}
	return s.decide(ctx, id, actor, "approve", detail, []parley.DraftState{parley.DraftPending},
		func(tx *sql.Tx, now int64) error {
			if text != "" {
				if err := setText(ctx, tx, id, actor, text, now); err != nil {
					return err
				}
			}
			after := int64(0)
			if grace > 0 {
				after = now + grace.Milliseconds()
			}
			_, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'approved', decided_by = ?, decided_at = ?,
				updated_at = ?, next_attempt_at = ?, send_after = ? WHERE id = ?`, actor, now, now, after, after, id)
			return err
		})
}

// UndoApproval implements parley.UndoStore. A rule's draft that became
// the conversation's pending reply meanwhile is superseded by the one
// undone (a person's decision wins over a rule's).
func (s *Store) UndoApproval(ctx context.Context, id int64, actor string) (parley.Draft, error) {
	var late error
	d, err := s.decide(ctx, id, actor, "undo", "approval undone within the grace period", []parley.DraftState{parley.DraftApproved},
		func(tx *sql.Tx, now int64) error {
			var after int64
			var attempts int
			if err := tx.QueryRowContext(ctx, `SELECT send_after, attempts FROM drafts WHERE id = ?`, id).Scan(&after, &attempts); err != nil {
				return err
			}
			if after <= now || attempts > 0 {
				late = parley.Errorf(parley.ECONFLICT, "draft %d can no longer be undone: its grace period ended and it is being posted", id)
				return late
			}
			if err := supersedePending(ctx, tx, id, actor, now); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'pending', decided_by = '', decided_at = 0,
				updated_at = ?, next_attempt_at = 0, send_after = 0 WHERE id = ?`, now, id)
			return err
		})
	switch {
	case late != nil:
		return d, late
	case parley.ErrorCode(err) == parley.ECONFLICT && d.State == parley.DraftPending:
		return d, parley.Errorf(parley.ECONFLICT, "draft %d is pending: there is no approval to undo", id)
	case parley.ErrorCode(err) == parley.ECONFLICT && d.ID != 0:
		return d, parley.Errorf(parley.ECONFLICT, "draft %d can no longer be undone: it is %s", id, d.State)
	}
	return d, err
}

// supersedePending supersedes the other pending reply of the conversation
// of the reply draft id, if any, before id becomes pending again.
func supersedePending(ctx context.Context, tx *sql.Tx, id int64, actor string, now int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT o.id, o.person_id FROM drafts d JOIN drafts o ON o.thread_id = d.thread_id
		AND o.kind = 'reply' AND o.state = 'pending' AND o.id != d.id WHERE d.id = ? AND d.kind = 'reply'`, id)
	if err != nil {
		return err
	}
	var others [][2]int64
	for rows.Next() {
		var o [2]int64
		if err := rows.Scan(&o[0], &o[1]); err != nil {
			rows.Close()
			return err
		}
		others = append(others, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, o := range others {
		if _, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'superseded', updated_at = ? WHERE id = ?`, now, o[0]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'supersede', ?, ?, ?)`,
			now, actor, o[0], o[1], fmt.Sprintf("replaced by draft %d, whose approval %s undid", id, actor)); err != nil {
			return err
		}
	}
	return nil
}

// EditDraft implements parley.DraftStore.
func (s *Store) EditDraft(ctx context.Context, id int64, actor, text string) (parley.Draft, error) {
	if err := storelogic.CheckText(id, text); err != nil {
		return parley.Draft{}, err
	}
	return s.decide(ctx, id, actor, "edit", "", []parley.DraftState{parley.DraftPending},
		func(tx *sql.Tx, now int64) error { return setText(ctx, tx, id, actor, text, now) })
}

// RejectDraft implements parley.DraftStore.
func (s *Store) RejectDraft(ctx context.Context, id int64, actor, reason string) (parley.Draft, error) {
	return s.decide(ctx, id, actor, "reject", reason, []parley.DraftState{parley.DraftPending, parley.DraftFailed},
		func(tx *sql.Tx, now int64) error {
			_, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'rejected', decided_by = ?, decided_at = ?,
				updated_at = ? WHERE id = ?`, actor, now, now, id)
			return err
		})
}

// ClaimDrafts implements parley.DraftStore. A claim holds the draft for
// SendLease; a draft still sending after that is claimed again. An
// approved draft in its undo grace period (send_after, judged by the
// store's clock whatever now says) is never claimed.
func (s *Store) ClaimDrafts(ctx context.Context, limit int, now time.Time) ([]parley.Draft, error) {
	if limit <= 0 {
		limit = 10
	}
	rows, err := s.db.QueryContext(ctx, `UPDATE drafts SET state = 'sending', attempts = attempts + 1,
		updated_at = ?1, next_attempt_at = ?2
		WHERE id IN (SELECT id FROM drafts WHERE state IN ('approved', 'sending') AND next_attempt_at <= ?3
			AND (state = 'sending' OR send_after <= ?1)
			ORDER BY priority DESC, id LIMIT ?4)
		RETURNING `+draftColumns, s.now().UnixMilli(), ms(now.Add(SendLease)), ms(now), limit)
	if err != nil {
		return nil, dbError("claim drafts", err)
	}
	defer rows.Close()
	var out []parley.Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("claim drafts", err)
	}
	return out, nil
}

// MarkSent implements parley.DraftStore.
func (s *Store) MarkSent(ctx context.Context, id int64, postedID string, at time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("mark sent", err)
	}
	defer tx.Rollback()
	var personID, threadID, mentionID int64
	var kind string
	err = tx.QueryRowContext(ctx, `UPDATE drafts SET state = 'sent', posted_id = ?, sent_at = ?, updated_at = ?, last_error = ''
		WHERE id = ? AND state = 'sending' RETURNING person_id, kind, coalesce(thread_id, 0), coalesce(mention_id, 0)`,
		postedID, ms(at), s.now().UnixMilli(), id).Scan(&personID, &kind, &threadID, &mentionID)
	if errors.Is(err, sql.ErrNoRows) {
		d, err := s.Draft(ctx, id)
		if err != nil {
			return err
		}
		return parley.Errorf(parley.ECONFLICT, "draft %d is %s, not sending", id, d.State)
	}
	if err != nil {
		return dbError("mark sent", err)
	}
	if kind == parley.KindReply {
		if _, err := tx.ExecContext(ctx, `UPDATE people SET replies_sent = replies_sent + 1 WHERE id = ?`, personID); err != nil {
			return dbError("mark sent", err)
		}
		if err := answered(ctx, tx, threadID, mentionID, ms(at)); err != nil {
			return dbError("mark sent", err)
		}
	}
	return dbError("mark sent", tx.Commit())
}

// answered stops a conversation's clocks at a reply sent at `at` to the
// mention mentionID: it then waits on the customer, unless they wrote
// again after that mention (a newer message still needs a reply).
func answered(ctx context.Context, tx *sql.Tx, threadID, mentionID, at int64) error {
	if threadID == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE conversations SET
		first_response_at = CASE WHEN first_response_at = 0 THEN ?1 ELSE first_response_at END,
		last_response_at = max(last_response_at, ?1),
		state = CASE WHEN state = 'needs_reply' AND last_message_at <= ?3 THEN 'waiting' ELSE state END,
		waiting_since = CASE WHEN last_message_at <= ?3 THEN 0
			ELSE coalesce((SELECT min(created_at) FROM mentions WHERE thread_id = ?2 AND created_at > ?3), waiting_since) END
		WHERE id = ?2`, at, threadID, answeredAt(ctx, tx, mentionID))
	return err
}

// answeredAt is when the mention a reply answers was posted (0 for none).
func answeredAt(ctx context.Context, tx *sql.Tx, mentionID int64) int64 {
	var at int64
	if mentionID != 0 {
		_ = tx.QueryRowContext(ctx, `SELECT created_at FROM mentions WHERE id = ?`, mentionID).Scan(&at)
	}
	return at
}

// MarkFailed implements parley.DraftStore.
func (s *Store) MarkFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	state := parley.DraftFailed
	if !retryAt.IsZero() {
		state = parley.DraftApproved
	}
	res, err := s.db.ExecContext(ctx, `UPDATE drafts SET state = ?, last_error = ?, next_attempt_at = ?, updated_at = ?
		WHERE id = ? AND state = 'sending'`, string(state), reason, ms(retryAt), s.now().UnixMilli(), id)
	if err != nil {
		return dbError("mark failed", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		d, err := s.Draft(ctx, id)
		if err != nil {
			return err
		}
		return parley.Errorf(parley.ECONFLICT, "draft %d is %s, not sending", id, d.State)
	}
	return nil
}

// Audit implements parley.DraftStore.
func (s *Store) Audit(ctx context.Context, limit int) ([]parley.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at, actor, action, coalesce(draft_id, 0), coalesce(person_id, 0), detail
		FROM audit ORDER BY at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return scanAudit(rows)
}

// scanAudit reads audit rows (id, at, actor, action, draft_id, person_id,
// detail) and closes them.
func scanAudit(rows *sql.Rows) ([]parley.AuditEntry, error) {
	defer rows.Close()
	var out []parley.AuditEntry
	for rows.Next() {
		var e parley.AuditEntry
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.DraftID, &e.PersonID, &e.Detail); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// scanDrafts reads draft rows (draftColumns) and closes them.
func scanDrafts(rows *sql.Rows) ([]parley.Draft, error) {
	defer rows.Close()
	var out []parley.Draft
	for rows.Next() {
		d, err := scanDraft(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
