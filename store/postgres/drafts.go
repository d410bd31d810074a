package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// SendLease is how long a claimed draft stays with the outbox that claimed
// it. A draft still "sending" after that (its sender died) is claimed
// again and retried with the same idempotency key.
const SendLease = 2 * time.Minute

const draftColumns = `id, kind, state, platform, coalesce(mention_id, 0), person_id, coalesce(thread_id, 0), rule, text,
	original_text, priority, auto_approve, created_at, updated_at, decided_by, decided_at, sent_at, posted_id,
	attempts, last_error, new_message_at, written_by, send_after`

func scanDraft(row pgx.Row) (parley.Draft, error) {
	var d parley.Draft
	var state string
	var created, updated, decided, sent, newMsg, sendAfter int64
	err := row.Scan(&d.ID, &d.Kind, &state, &d.Platform, &d.MentionID, &d.PersonID, &d.ThreadID, &d.Rule, &d.Text,
		&d.OriginalText, &d.Priority, &d.AutoApprove, &created, &updated, &d.DecidedBy, &decided, &sent, &d.PostedID,
		&d.Attempts, &d.LastError, &newMsg, &d.WrittenBy, &sendAfter)
	if err != nil {
		return d, err
	}
	d.NewMessageAt, d.SendAfter = fromMS(newMsg), fromMS(sendAfter)
	d.State = parley.DraftState(state)
	d.CreatedAt, d.UpdatedAt, d.DecidedAt, d.SentAt = fromMS(created), fromMS(updated), fromMS(decided), fromMS(sent)
	return d, nil
}

// Draft implements parley.DraftStore.
func (s *Store) Draft(ctx context.Context, id int64) (parley.Draft, error) {
	d, err := scanDraft(s.pool.QueryRow(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = $1`, id))
	if err != nil {
		return d, notFound(err, "draft %d not found", id)
	}
	return d, nil
}

// args builds a query's numbered parameters.
type args []any

// add appends v and returns its placeholder ($n).
func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// Drafts implements parley.DraftStore.
func (s *Store) Drafts(ctx context.Context, f parley.DraftFilter) ([]parley.Draft, error) {
	var where []string
	var a args
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		where = append(where, "state = ANY("+a.add(states)+")")
	}
	if f.Platform != "" {
		where = append(where, "platform = "+a.add(f.Platform))
	}
	if f.PersonID != 0 {
		where = append(where, "person_id = "+a.add(f.PersonID))
	}
	if f.ThreadID != 0 {
		where = append(where, "thread_id = "+a.add(f.ThreadID))
	}
	order := "id DESC"
	switch {
	case !f.UpdatedAfter.IsZero():
		where = append(where, "updated_at > "+a.add(ms(f.UpdatedAfter)))
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
	q += " ORDER BY " + order + " LIMIT " + a.add(limit) + " OFFSET " + a.add(f.Offset)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, dbError("list drafts", err)
	}
	return collect(rows, scanDraft)
}

// decide runs one human decision on a draft in a transaction that locks
// the draft's row: apply only runs while the draft is in one of from;
// otherwise the error says who decided it. Two processes deciding the same
// draft at once are serialized by the lock: the second sees the first's
// decision. The decision is written to the audit log.
func (s *Store) decide(ctx context.Context, id int64, actor, action, detail string, from []parley.DraftState,
	apply func(tx pgx.Tx, now int64) error) (parley.Draft, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "%s draft %d: who is acting? (actor is empty)", action, id)
	}
	var d parley.Draft
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		var err error
		d, err = scanDraft(tx.QueryRow(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "draft %d not found", id)
		}
		if !slices.Contains(from, d.State) {
			return storelogic.Conflict(d)
		}
		now := s.now().UnixMilli()
		if err := apply(tx, now); err != nil {
			return dbError(action+" draft", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
			now, actor, action, id, d.PersonID, detail); err != nil {
			return dbError("audit", err)
		}
		d, err = scanDraft(tx.QueryRow(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = $1`, id))
		return err
	})
	return d, dbError(action+" draft", err)
}

// setText replaces a draft's text, keeping the rule's first wording; the
// draft is then a person's (actor's), never replaced by a rule's.
func setText(ctx context.Context, tx pgx.Tx, id int64, actor, text string, now int64) error {
	_, err := tx.Exec(ctx, `UPDATE drafts SET updated_at = $1,
		original_text = CASE WHEN original_text = '' AND text != $2 THEN text ELSE original_text END,
		written_by = CASE WHEN text != $2 THEN $3 ELSE written_by END,
		text = $2 WHERE id = $4`, now, text, actor, id)
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
	grace = max(grace, 0)
	return s.decide(ctx, id, actor, "approve", detail, []parley.DraftState{parley.DraftPending},
		func(tx pgx.Tx, now int64) error {
			if text != "" {
				if err := setText(ctx, tx, id, actor, text, now); err != nil {
					return err
				}
			}
			after := int64(0)
			if grace > 0 {
				after = now + grace.Milliseconds()
			}
			_, err := tx.Exec(ctx, `UPDATE drafts SET state = 'approved', decided_by = $1, decided_at = $2,
				updated_at = $2, next_attempt_at = $3, send_after = $3 WHERE id = $4`, actor, now, after, id)
			return err
		})
}

// UndoApproval implements parley.UndoStore. A rule's draft that became
// the conversation's pending reply meanwhile is superseded by the one
// undone (a person's decision wins over a rule's).
func (s *Store) UndoApproval(ctx context.Context, id int64, actor string) (parley.Draft, error) {
	var late error
	d, err := s.decide(ctx, id, actor, "undo", "approval undone within the grace period", []parley.DraftState{parley.DraftApproved},
		func(tx pgx.Tx, now int64) error {
			var after int64
			var attempts int
			if err := tx.QueryRow(ctx, `SELECT send_after, attempts FROM drafts WHERE id = $1`, id).Scan(&after, &attempts); err != nil {
				return err
			}
			if after <= now || attempts > 0 {
				late = parley.Errorf(parley.ECONFLICT, "draft %d can no longer be undone: its grace period ended and it is being posted", id)
				return late
			}
			if err := supersedePending(ctx, tx, id, actor, now); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE drafts SET state = 'pending', decided_by = '', decided_at = 0,
				updated_at = $1, next_attempt_at = 0, send_after = 0 WHERE id = $2`, now, id)
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
// of the reply draft id, if any, before id becomes pending again (the
// database allows one pending reply per conversation).
func supersedePending(ctx context.Context, tx pgx.Tx, id int64, actor string, now int64) error {
	rows, err := tx.Query(ctx, `SELECT o.id, o.person_id FROM drafts d JOIN drafts o ON o.thread_id = d.thread_id
		AND o.kind = 'reply' AND o.state = 'pending' AND o.id != d.id WHERE d.id = $1 AND d.kind = 'reply'`, id)
	if err != nil {
		return err
	}
	others, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]int64, error) {
		var o [2]int64
		return o, r.Scan(&o[0], &o[1])
	})
	if err != nil {
		return err
	}
	for _, o := range others {
		if _, err := tx.Exec(ctx, `UPDATE drafts SET state = 'superseded', updated_at = $1 WHERE id = $2`, now, o[0]); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, 'supersede', $3, $4, $5)`,
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
		func(tx pgx.Tx, now int64) error { return setText(ctx, tx, id, actor, text, now) })
}

// RejectDraft implements parley.DraftStore.
func (s *Store) RejectDraft(ctx context.Context, id int64, actor, reason string) (parley.Draft, error) {
	return s.decide(ctx, id, actor, "reject", reason, []parley.DraftState{parley.DraftPending, parley.DraftFailed},
		func(tx pgx.Tx, now int64) error {
			_, err := tx.Exec(ctx, `UPDATE drafts SET state = 'rejected', decided_by = $1, decided_at = $2,
				updated_at = $2 WHERE id = $3`, actor, now, id)
			return err
		})
}

// claimerAlive holds for a draft (d) claimed by a node whose liveness
// lease is still running.
const claimerAlive = `EXISTS (SELECT 1 FROM leases l WHERE l.name = 'node:' || d.claimed_by AND l.until_at > ` + nowMS + `)`

// ClaimDrafts implements parley.DraftStore. Outboxes on several processes
// claim at once without waiting on each other: each skips the rows another
// has locked (FOR UPDATE SKIP LOCKED), so a draft goes to one of them. A
// claim holds the draft for SendLease; a draft still sending after that is
// claimed again. With several nodes (Options.Node) a draft another node
// claimed stays with it while that node lives, whatever now says, and is
// claimed at once when it is gone (its liveness lease ran out): it died
// between posting and recording. An approved draft in its undo
// grace period (send_after, judged by the store's clock whatever now says)
// is never claimed.
func (s *Store) ClaimDrafts(ctx context.Context, limit int, now time.Time) ([]parley.Draft, error) {
	if limit <= 0 {
		limit = 10
	}
	rows, err := s.pool.Query(ctx, `UPDATE drafts SET state = 'sending', attempts = attempts + 1,
		updated_at = $1, next_attempt_at = $2, claimed_by = $5
		WHERE id IN (SELECT id FROM drafts d WHERE (state = 'approved' AND next_attempt_at <= $3 AND send_after <= $1
			OR state = 'sending' AND (d.claimed_by IN ('', $5) AND next_attempt_at <= $3
				OR d.claimed_by NOT IN ('', $5) AND NOT `+claimerAlive+`))
			ORDER BY priority DESC, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+draftColumns, s.now().UnixMilli(), ms(now.Add(SendLease)), ms(now), limit, s.node)
	if err != nil {
		return nil, dbError("claim drafts", err)
	}
	out, err := collect(rows, scanDraft)
	if err != nil {
		return nil, dbError("claim drafts", err)
	}
	slices.SortFunc(out, func(a, b parley.Draft) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// MarkSent implements parley.DraftStore.
func (s *Store) MarkSent(ctx context.Context, id int64, postedID string, at time.Time) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var personID, threadID, mentionID int64
		var kind string
		err := tx.QueryRow(ctx, `UPDATE drafts SET state = 'sent', posted_id = $1, sent_at = $2, updated_at = $3, last_error = ''
			WHERE id = $4 AND state = 'sending' RETURNING person_id, kind, coalesce(thread_id, 0), coalesce(mention_id, 0)`,
			postedID, ms(at), s.now().UnixMilli(), id).Scan(&personID, &kind, &threadID, &mentionID)
		if errors.Is(err, pgx.ErrNoRows) {
			return s.notSending(ctx, id)
		}
		if err != nil {
			return err
		}
		if kind != parley.KindReply {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE people SET replies_sent = replies_sent + 1 WHERE id = $1`, personID); err != nil {
			return err
		}
		return answered(ctx, tx, threadID, mentionID, ms(at))
	})
	return dbError("mark sent", err)
}

// notSending is the error for a draft that is not sending (or not there).
func (s *Store) notSending(ctx context.Context, id int64) error {
	d, err := s.Draft(ctx, id)
	if err != nil {
		return err
	}
	return parley.Errorf(parley.ECONFLICT, "draft %d is %s, not sending", id, d.State)
}

// answered stops a conversation's clocks at a reply sent at `at` to the
// mention mentionID: it then waits on the customer, unless they wrote
// again after that mention (a newer message still needs a reply).
func answered(ctx context.Context, tx pgx.Tx, threadID, mentionID, at int64) error {
	if threadID == 0 {
		return nil
	}
	var answeredAt int64
	if mentionID != 0 {
		if err := tx.QueryRow(ctx, `SELECT created_at FROM mentions WHERE id = $1`, mentionID).Scan(&answeredAt); err != nil &&
			!errors.Is(err, pgx.ErrNoRows) {
			return err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE conversations SET
		first_response_at = CASE WHEN first_response_at = 0 THEN $1 ELSE first_response_at END,
		last_response_at = greatest(last_response_at, $1),
		state = CASE WHEN state = 'needs_reply' AND last_message_at <= $3 THEN 'waiting' ELSE state END,
		waiting_since = CASE WHEN last_message_at <= $3 THEN 0
			ELSE coalesce((SELECT min(created_at) FROM mentions WHERE thread_id = $2 AND created_at > $3), waiting_since) END
		WHERE id = $2`, at, threadID, answeredAt)
	return err
}

// MarkFailed implements parley.DraftStore.
func (s *Store) MarkFailed(ctx context.Context, id int64, reason string, retryAt time.Time) error {
	state := parley.DraftFailed
	if !retryAt.IsZero() {
		state = parley.DraftApproved
	}
	tag, err := s.pool.Exec(ctx, `UPDATE drafts SET state = $1, last_error = $2, next_attempt_at = $3, updated_at = $4
		WHERE id = $5 AND state = 'sending'`, string(state), reason, ms(retryAt), s.now().UnixMilli(), id)
	if err != nil {
		return dbError("mark failed", err)
	}
	if tag.RowsAffected() == 0 {
		return s.notSending(ctx, id)
	}
	return nil
}

// Audit implements parley.DraftStore.
func (s *Store) Audit(ctx context.Context, limit int) ([]parley.AuditEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit ORDER BY at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, dbError("audit", err)
	}
	return collect(rows, scanAudit)
}

const auditColumns = `id, at, actor, action, coalesce(draft_id, 0), coalesce(person_id, 0), detail`

func scanAudit(row pgx.Row) (parley.AuditEntry, error) {
	var e parley.AuditEntry
	var at int64
	err := row.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.DraftID, &e.PersonID, &e.Detail)
	e.At = fromMS(at)
	return e, err
}
