package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// CorrectSentimentAndRedecide corrects a mention's sentiment as
// CorrectSentiment does and, in the same transaction, decides the mention
// again with decide (the rules, as at ingest, over the mention's history
// before it): its tags, priority, rules and ignored flag follow the
// corrected label, and the conversation's pending reply follows too: a
// rule's pending draft for this mention that the rules no longer write is
// superseded (kept, never sent) by the one they write now. Nothing else is
// replaced: a reply a person wrote or edited, one already approved or sent,
// or a pending reply to a later message of the conversation stays, and no
// draft is queued beside it. Every change is in the audit log under actor.
// A nil decide only corrects. Errors as CorrectSentiment.
func (s *Store) CorrectSentimentAndRedecide(ctx context.Context, mentionID int64, label parley.Label, actor string,
	decide parley.DecideFunc) (parley.Redecision, error) {
	var r parley.Redecision
	if err := checkCorrection(mentionID, label, actor); err != nil {
		return r, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, dbError("correct sentiment", err)
	}
	defer tx.Rollback()
	if err := s.correctTx(ctx, tx, mentionID, label, actor); err != nil {
		return r, err
	}
	if decide != nil {
		why := fmt.Sprintf("sentiment of mention %d corrected to %s", mentionID, label)
		if r, err = s.redecideTx(ctx, tx, mentionID, decide, actor, why); err != nil {
			return r, err
		}
	}
	if err := tx.Commit(); err != nil {
		return r, dbError("correct sentiment", err)
	}
	r.Mention, err = s.Mention(ctx, mentionID)
	return r, err
}

// redecideTx decides a stored mention again inside tx; why opens the audit
// entries' detail. r.Mention is the mention as decided again.
func (s *Store) redecideTx(ctx context.Context, tx *sql.Tx, id int64, decide parley.DecideFunc, actor, why string) (parley.Redecision, error) {
	var r parley.Redecision
	m, err := scanMention(tx.QueryRowContext(ctx, `SELECT `+mentionColumns+`
		FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = ?`, id))
	if err != nil {
		return r, notFound(err, "mention %d not found", id)
	}
	h, err := s.historyBefore(ctx, tx, &m)
	if err != nil {
		return r, dbError("decide again", err)
	}
	old, err := queryDraftsTx(ctx, tx, `SELECT `+draftColumns+` FROM drafts WHERE mention_id = ? AND kind = ? ORDER BY id`, id, parley.KindReply)
	if err != nil {
		return r, dbError("decide again", err)
	}
	var pending []parley.Draft
	for _, d := range old {
		switch {
		case d.State == parley.DraftPending && d.WrittenBy == "":
			pending = append(pending, d)
		case d.State == parley.DraftPending, d.State == parley.DraftApproved, d.State == parley.DraftSending, d.State == parley.DraftSent:
			r.Kept = append(r.Kept, d) // a person's words, or a reply on its way
		}
	}
	h.PendingDrafts -= len(pending)
	m.Tags, m.Priority, m.Rules, m.Ignored = nil, 0, nil, false
	drafts := decide(&m, h)
	other, found, err := otherPendingReply(ctx, tx, &m)
	if err != nil {
		return r, dbError("decide again", err)
	}
	switch {
	case len(r.Kept) > 0 || found && !other.replaceable:
		drafts = nil // the conversation's one pending reply stays
	case found && len(drafts) > 0:
		// As at ingest: a newer message's reply supersedes the rule's
		// draft for an earlier one.
		pending = append(pending, other.d)
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE mentions SET priority = ?, tags = ?, rules = ?, ignored = ? WHERE id = ?`,
		m.Priority, joinList(m.Tags), joinList(m.Rules), b2i(m.Ignored), id); err != nil {
		return r, dbError("decide again", err)
	}
	for _, d := range pending {
		if i := storelogic.SameDraft(drafts, d); i >= 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE drafts SET priority = ?, updated_at = ? WHERE id = ?`,
				drafts[i].Priority, now.UnixMilli(), d.ID); err != nil {
				return r, dbError("decide again", err)
			}
			d.Priority = drafts[i].Priority
			r.Kept = append(r.Kept, d)
			drafts = append(drafts[:i], drafts[i+1:]...)
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'superseded', updated_at = ?
			WHERE id = ? AND state = 'pending'`, now.UnixMilli(), d.ID); err != nil {
			return r, dbError("decide again", err)
		}
		if err := audit(ctx, tx, now, actor, "supersede", d.ID, d.PersonID,
			fmt.Sprintf("%s: rule %s's draft no longer fits", why, d.Rule)); err != nil {
			return r, err
		}
		d.State = parley.DraftSuperseded
		r.Replaced = append(r.Replaced, d)
	}
	for _, d := range drafts {
		d.MentionID, d.PersonID, d.ThreadID, d.Platform = m.ID, m.PersonID, m.ThreadID, m.Platform
		d.CreatedAt, d.UpdatedAt = now, now
		if d.State != parley.DraftApproved {
			d.State = parley.DraftPending
		}
		q, err := scanDraft(tx.QueryRowContext(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id,
			rule, text, priority, auto_approve, created_at, updated_at, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+draftColumns,
			d.Kind, string(d.State), d.Platform, d.MentionID, d.PersonID, d.ThreadID, d.Rule, d.Text, d.Priority,
			b2i(d.AutoApprove), now.UnixMilli(), now.UnixMilli(), d.DecidedBy, ms(d.DecidedAt)))
		if err != nil {
			return r, dbError("decide again", err)
		}
		detail := fmt.Sprintf("%s: rule %s drafted", why, q.Rule)
		if err := audit(ctx, tx, now, actor, "redecide", q.ID, q.PersonID, detail); err != nil {
			return r, err
		}
		r.Queued = append(r.Queued, q)
	}
	r.Mention = m
	return r, nil
}

// historyBefore is the history the rules saw when m arrived: the person's
// and thread's counts of earlier mentions (with their labels as they are
// now) and the replies and pending drafts as they are now.
func (s *Store) historyBefore(ctx context.Context, tx *sql.Tx, m *parley.Mention) (parley.History, error) {
	var h parley.History
	var pending int
	p, err := scanPerson(tx.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, m.PersonID))
	if err != nil {
		return h, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT pending_drafts FROM people WHERE id = ?`, m.PersonID).Scan(&pending); err != nil {
		return h, err
	}
	created := ms(m.CreatedAt)
	const earlier = `(created_at < ?2 OR (created_at = ?2 AND id < ?3))`
	var last sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(sentiment = 'positive'), 0),
		coalesce(sum(sentiment = 'negative'), 0), coalesce(sum(sentiment = 'neutral'), 0),
		(SELECT sentiment FROM mentions WHERE person_id = ?1 AND `+earlier+` ORDER BY created_at DESC, id DESC LIMIT 1)
		FROM mentions WHERE person_id = ?1 AND `+earlier, m.PersonID, created, m.ID).
		Scan(&p.Mentions, &p.Positive, &p.Negative, &p.Neutral, &last)
	if err != nil {
		return h, err
	}
	p.LastSentiment = parley.Label(last.String)
	h.Person, h.PendingDrafts = p, pending
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM mentions WHERE thread_id = ?1 AND `+earlier,
		m.ThreadID, created, m.ID).Scan(&h.ThreadMentions); err != nil {
		return h, err
	}
	// As ingest counts them: replies sent or on their way, and a person's
	// pending edit; this mention's own drafts are being decided again.
	err = tx.QueryRowContext(ctx, `SELECT count(*) FROM drafts WHERE kind = 'reply' AND thread_id = ?
		AND coalesce(mention_id, 0) != ? AND (state IN ('approved', 'sending', 'sent') OR (state = 'pending' AND written_by != ''))`,
		m.ThreadID, m.ID).Scan(&h.RepliesInThread)
	if err != nil {
		return h, err
	}
	var reply sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT text FROM drafts WHERE kind = 'reply' AND state = 'sent' AND thread_id = ?
		ORDER BY sent_at DESC, id DESC LIMIT 1`, m.ThreadID).Scan(&reply)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, err
	}
	h.LastReply = reply.String
	// The conversation as it stands (the rules see it as at ingest, but
	// what it was before this mention is not kept).
	if c, err := s.conversation(ctx, tx, m.ThreadID); err == nil {
		c.PendingDraftID = 0
		h.Conversation = c
	} else if parley.ErrorCode(err) != parley.ENOTFOUND {
		return h, err
	}
	return h, nil
}

// pendingOther is the conversation's pending reply to another message.
type pendingOther struct {
	d parley.Draft
	// replaceable: a rule's draft answering an earlier message.
	replaceable bool
}

// otherPendingReply finds the pending reply of m's thread that answers
// another mention (the conversation holds at most one).
func otherPendingReply(ctx context.Context, tx *sql.Tx, m *parley.Mention) (pendingOther, bool, error) {
	var o pendingOther
	var created int64
	d, err := scanDraft(rowWithExtra{tx.QueryRowContext(ctx, `SELECT `+draftColumns+`,
		coalesce((SELECT created_at FROM mentions x WHERE x.id = drafts.mention_id), 0)
		FROM drafts WHERE kind = 'reply' AND state = 'pending' AND thread_id = ? AND coalesce(mention_id, 0) != ?
		LIMIT 1`, m.ThreadID, m.ID), &created})
	if errors.Is(err, sql.ErrNoRows) {
		return o, false, nil
	}
	if err != nil {
		return o, false, err
	}
	o.d = d
	at := fromMS(created)
	o.replaceable = d.WrittenBy == "" && d.MentionID != 0 && (at.Before(m.CreatedAt) || at.Equal(m.CreatedAt) && d.MentionID < m.ID)
	return o, true, nil
}

func queryDraftsTx(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]parley.Draft, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanDrafts(rows)
}

func audit(ctx context.Context, tx *sql.Tx, at time.Time, actor, action string, draftID, personID int64, detail string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		at.UnixMilli(), actor, action, draftID, personID, detail); err != nil {
		return dbError("audit", err)
	}
	return nil
}
