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

// CorrectSentimentAndRedecide implements parley.PeopleStore.
func (s *Store) CorrectSentimentAndRedecide(ctx context.Context, mentionID int64, label parley.Label, actor string,
	decide parley.DecideFunc) (parley.Redecision, error) {
	var r parley.Redecision
	if !label.Valid() {
		return r, parley.Errorf(parley.EINVALID, "sentiment %q: want negative, neutral or positive", label)
	}
	if strings.TrimSpace(actor) == "" {
		return r, parley.Errorf(parley.EINVALID, "correct mention %d: who is correcting? (actor is empty)", mentionID)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		if err := s.correctTx(ctx, tx, mentionID, label, actor); err != nil {
			return err
		}
		if decide == nil {
			return nil
		}
		var err error
		why := fmt.Sprintf("sentiment of mention %d corrected to %s", mentionID, label)
		r, err = s.redecideTx(ctx, tx, mentionID, decide, actor, why)
		return err
	})
	if err != nil {
		return r, dbError("correct sentiment", err)
	}
	r.Mention, err = s.Mention(ctx, mentionID)
	return r, err
}

// correctTx writes a correction inside tx: the correction row, the
// mention's label, the author's counts and the audit entry.
func (s *Store) correctTx(ctx context.Context, tx pgx.Tx, mentionID int64, label parley.Label, actor string) error {
	var current string
	var personID, created int64
	err := tx.QueryRow(ctx, `SELECT sentiment, person_id, created_at FROM mentions WHERE id = $1 FOR UPDATE`, mentionID).
		Scan(&current, &personID, &created)
	if err != nil {
		return notFound(err, "mention %d not found", mentionID)
	}
	// The model's label is the one before the first correction.
	model := current
	err = tx.QueryRow(ctx, `SELECT model_label FROM sentiment_corrections WHERE mention_id = $1 ORDER BY at, id LIMIT 1`,
		mentionID).Scan(&model)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	now := s.now().UnixMilli()
	score := map[parley.Label]float64{parley.Negative: -1, parley.Neutral: 0, parley.Positive: 1}[label]
	if _, err := tx.Exec(ctx, `INSERT INTO sentiment_corrections (mention_id, model_label, label, actor, at)
		VALUES ($1, $2, $3, $4, $5)`, mentionID, model, string(label), actor, now); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE mentions SET sentiment = $1, score = $2, confidence = 1, model = 'corrected'
		WHERE id = $3`, string(label), score, mentionID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE people SET
		positive = positive - ($1 = 'positive')::int + ($2 = 'positive')::int,
		negative = negative - ($1 = 'negative')::int + ($2 = 'negative')::int,
		neutral = neutral - ($1 = 'neutral')::int + ($2 = 'neutral')::int,
		last_sentiment = CASE WHEN last_seen <= $3 THEN $2 ELSE last_sentiment END
		WHERE id = $4`, current, string(label), created, personID); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, person_id, detail) VALUES ($1, $2, 'correct-sentiment', $3, $4)`,
		now, actor, personID, fmt.Sprintf("mention %d: %s -> %s", mentionID, current, label))
	return err
}

// redecideTx decides a stored mention again inside tx: the rule's pending
// drafts the new decision does not write again are superseded; a person's
// reply, or one on its way, stays and nothing is queued beside it. why
// opens the audit entries' detail; r.Mention is the mention as decided
// again.
func (s *Store) redecideTx(ctx context.Context, tx pgx.Tx, id int64, decide parley.DecideFunc, actor, why string) (parley.Redecision, error) {
	var r parley.Redecision
	m, err := scanMention(tx.QueryRow(ctx, `SELECT `+mentionColumns+`
		FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = $1`, id))
	if err != nil {
		return r, notFound(err, "mention %d not found", id)
	}
	h, err := historyBefore(ctx, tx, &m)
	if err != nil {
		return r, err
	}
	rows, err := tx.Query(ctx, `SELECT `+draftColumns+` FROM drafts WHERE mention_id = $1 AND kind = $2 ORDER BY id`, id, parley.KindReply)
	if err != nil {
		return r, err
	}
	old, err := collect(rows, scanDraft)
	if err != nil {
		return r, err
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
		return r, err
	}
	switch {
	case len(r.Kept) > 0 || found && !other.replaceable:
		drafts = nil // the conversation's one pending reply stays
	case found && len(drafts) > 0:
		pending = append(pending, other.d)
	}
	if _, err := tx.Exec(ctx, `UPDATE mentions SET priority = $1, tags = $2, rules = $3, ignored = $4 WHERE id = $5`,
		m.Priority, joinList(m.Tags), joinList(m.Rules), m.Ignored, id); err != nil {
		return r, err
	}
	return s.replaceDrafts(ctx, tx, r, &m, pending, drafts, actor, why)
}

// replaceDrafts keeps the pending drafts the new decision writes again
// (same rule and text), supersedes the others and queues the new ones.
func (s *Store) replaceDrafts(ctx context.Context, tx pgx.Tx, r parley.Redecision, m *parley.Mention,
	pending, drafts []parley.Draft, actor, why string) (parley.Redecision, error) {
	now := s.now().UnixMilli()
	audit := func(action string, draftID, personID int64, detail string) error {
		_, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
			now, actor, action, draftID, personID, detail)
		return err
	}
	for _, d := range pending {
		if i := storelogic.SameDraft(drafts, d); i >= 0 {
			if _, err := tx.Exec(ctx, `UPDATE drafts SET priority = $1, updated_at = $2 WHERE id = $3`,
				drafts[i].Priority, now, d.ID); err != nil {
				return r, err
			}
			d.Priority = drafts[i].Priority
			r.Kept = append(r.Kept, d)
			drafts = append(drafts[:i], drafts[i+1:]...)
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE drafts SET state = 'superseded', updated_at = $1 WHERE id = $2 AND state = 'pending'`,
			now, d.ID); err != nil {
			return r, err
		}
		if err := audit("supersede", d.ID, d.PersonID, fmt.Sprintf("%s: rule %s's draft no longer fits", why, d.Rule)); err != nil {
			return r, err
		}
		d.State = parley.DraftSuperseded
		r.Replaced = append(r.Replaced, d)
	}
	for _, d := range drafts {
		if d.Kind == "" {
			d.Kind = parley.KindReply
		}
		if d.State != parley.DraftApproved {
			d.State = parley.DraftPending
		}
		q, err := scanDraft(tx.QueryRow(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id,
			rule, text, priority, auto_approve, created_at, updated_at, decided_by, decided_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13) RETURNING `+draftColumns,
			d.Kind, string(d.State), m.Platform, m.ID, m.PersonID, m.ThreadID, d.Rule, d.Text, d.Priority,
			d.AutoApprove, now, d.DecidedBy, ms(d.DecidedAt)))
		if err != nil {
			return r, err
		}
		if err := audit("redecide", q.ID, q.PersonID, fmt.Sprintf("%s: rule %s drafted", why, q.Rule)); err != nil {
			return r, err
		}
		r.Queued = append(r.Queued, q)
	}
	r.Mention = *m
	return r, nil
}

// historyBefore is the history the rules saw when m arrived: the person's
// and thread's counts of earlier mentions (with their labels as they are
// now) and the replies and pending drafts as they are now.
func historyBefore(ctx context.Context, tx pgx.Tx, m *parley.Mention) (parley.History, error) {
	var h parley.History
	p, err := scanPerson(tx.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1`, m.PersonID))
	if err != nil {
		return h, err
	}
	const earlier = `(created_at < $2 OR (created_at = $2 AND id < $3))`
	var last *string
	err = tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE sentiment = 'positive'),
		count(*) FILTER (WHERE sentiment = 'negative'), count(*) FILTER (WHERE sentiment = 'neutral'),
		(SELECT sentiment FROM mentions WHERE person_id = $1 AND `+earlier+` ORDER BY created_at DESC, id DESC LIMIT 1),
		(SELECT count(*) FROM drafts WHERE person_id = $1 AND state = 'pending')
		FROM mentions WHERE person_id = $1 AND `+earlier, m.PersonID, ms(m.CreatedAt), m.ID).
		Scan(&p.Mentions, &p.Positive, &p.Negative, &p.Neutral, &last, &h.PendingDrafts)
	if err != nil {
		return h, err
	}
	if last != nil {
		p.LastSentiment = parley.Label(*last)
	} else {
		p.LastSentiment = ""
	}
	h.Person = p
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM mentions WHERE thread_id = $1 AND `+earlier,
		m.ThreadID, ms(m.CreatedAt), m.ID).Scan(&h.ThreadMentions); err != nil {
		return h, err
	}
	err = tx.QueryRow(ctx, `SELECT count(*) FROM drafts WHERE kind = 'reply' AND thread_id = $1
		AND coalesce(mention_id, 0) != $2 AND (state IN ('approved', 'sending', 'sent') OR (state = 'pending' AND written_by != ''))`,
		m.ThreadID, m.ID).Scan(&h.RepliesInThread)
	if err != nil {
		return h, err
	}
	err = tx.QueryRow(ctx, `SELECT text FROM drafts WHERE kind = 'reply' AND state = 'sent' AND thread_id = $1
		ORDER BY sent_at DESC, id DESC LIMIT 1`, m.ThreadID).Scan(&h.LastReply)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return h, err
	}
	c, err := conversation(ctx, tx, m.ThreadID)
	switch {
	case err == nil:
		c.PendingDraftID = 0
		h.Conversation = c
	case parley.ErrorCode(err) != parley.ENOTFOUND:
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
func otherPendingReply(ctx context.Context, tx pgx.Tx, m *parley.Mention) (pendingOther, bool, error) {
	var o pendingOther
	var created int64
	d, err := scanDraft(rowWithExtra{tx.QueryRow(ctx, `SELECT `+draftColumns+`,
		coalesce((SELECT created_at FROM mentions x WHERE x.id = drafts.mention_id), 0)
		FROM drafts WHERE kind = 'reply' AND state = 'pending' AND thread_id = $1 AND coalesce(mention_id, 0) != $2
		LIMIT 1`, m.ThreadID, m.ID), &created})
	if errors.Is(err, pgx.ErrNoRows) {
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

// CorrectSentiment sets a mention's sentiment to label on a person's word,
// keeping what the model said and who corrected it. Errors: ENOTFOUND,
// EINVALID for an empty actor or a bad label.
func (s *Store) CorrectSentiment(ctx context.Context, mentionID int64, label parley.Label, actor string) (parley.Mention, error) {
	r, err := s.CorrectSentimentAndRedecide(ctx, mentionID, label, actor, nil)
	return r.Mention, err
}

// Corrections returns every sentiment correction, the latest per mention,
// oldest first: the material to retrain the classifier on a brand's voice.
func (s *Store) Corrections(ctx context.Context) ([]parley.Correction, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id, c.mention_id, m.text,
		(SELECT f.model_label FROM sentiment_corrections f WHERE f.mention_id = c.mention_id ORDER BY f.at, f.id LIMIT 1),
		c.label, c.actor, c.at
		FROM sentiment_corrections c JOIN mentions m ON m.id = c.mention_id
		WHERE c.id = (SELECT l.id FROM sentiment_corrections l WHERE l.mention_id = c.mention_id ORDER BY l.at DESC, l.id DESC LIMIT 1)
		ORDER BY c.at, c.id`)
	if err != nil {
		return nil, dbError("corrections", err)
	}
	return collect(rows, func(r pgx.Row) (parley.Correction, error) {
		var c parley.Correction
		var model, label string
		var at int64
		err := r.Scan(&c.ID, &c.MentionID, &c.Text, &model, &label, &c.Actor, &at)
		c.ModelLabel, c.Label, c.At = parley.Label(model), parley.Label(label), fromMS(at)
		return c, err
	})
}

// CorrectionStats counts the corrections made in [from, to) and how many
// disagreed with the model.
func (s *Store) CorrectionStats(ctx context.Context, from, to time.Time) (total, disagreed int, err error) {
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE label <> model_label)
		FROM sentiment_corrections WHERE at >= $1 AND at < $2`, ms(from), ms(to)).Scan(&total, &disagreed)
	if err != nil {
		return 0, 0, dbError("correction stats", err)
	}
	return total, disagreed, nil
}
