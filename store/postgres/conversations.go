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

var _ parley.ConversationStore = (*Store)(nil)

// lockWrites takes, for the rest of tx, the lock ingest holds: a change
// to a conversation's pending reply (a decision, a hand-written reply)
// then never interleaves with a batch that read that reply before it
// changed.
func lockWrites(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ingestLock))
	return err
}

const conversationColumns = `c.id, t.platform, t.channel, c.state, c.assignee, c.snoozed_until, c.messages,
	c.last_mention_id, c.person_id, c.last_message_at, c.first_message_at, c.waiting_since, c.first_response_at,
	c.last_response_at,
	coalesce((SELECT d.id FROM drafts d WHERE d.thread_id = c.id AND d.kind = 'reply' AND d.state = 'pending'), 0)`

const conversationFrom = ` FROM conversations c JOIN threads t ON t.id = c.id`

func scanConversation(row pgx.Row) (parley.Conversation, error) {
	var c parley.Conversation
	var state string
	var snoozed, last, first, waiting, firstResp, lastResp int64
	err := row.Scan(&c.ID, &c.Platform, &c.Channel, &state, &c.Assignee, &snoozed, &c.Messages, &c.LastMentionID,
		&c.PersonID, &last, &first, &waiting, &firstResp, &lastResp, &c.PendingDraftID)
	if err != nil {
		return c, err
	}
	c.State = parley.ConversationState(state)
	c.SnoozedUntil, c.LastMessageAt, c.FirstMessageAt = fromMS(snoozed), fromMS(last), fromMS(first)
	c.WaitingSince, c.FirstResponseAt, c.LastResponseAt = fromMS(waiting), fromMS(firstResp), fromMS(lastResp)
	return c, nil
}

type querier interface {
	QueryRow(ctx context.Context, q string, args ...any) pgx.Row
}

// Conversation implements parley.ConversationStore.
func (s *Store) Conversation(ctx context.Context, id int64) (parley.Conversation, error) {
	return conversation(ctx, s.pool, id)
}

func conversation(ctx context.Context, db querier, id int64) (parley.Conversation, error) {
	c, err := scanConversation(db.QueryRow(ctx, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id = $1`, id))
	if err != nil {
		return c, notFound(err, "conversation %d not found", id)
	}
	return c, nil
}

// Conversations implements parley.ConversationStore.
func (s *Store) Conversations(ctx context.Context, f parley.ConversationFilter) ([]parley.Conversation, error) {
	now := f.Now
	if now.IsZero() {
		now = s.now()
	}
	view := f.View
	if view == "" {
		view = parley.ViewNeedsReply
	}
	a := args{ms(now)}
	needsReply := `(c.state = 'needs_reply' OR (c.state = 'snoozed' AND c.snoozed_until <= $1))`
	var where []string
	switch view {
	case parley.ViewNeedsReply:
		where = append(where, needsReply)
	case parley.ViewMine:
		if strings.TrimSpace(f.User) == "" {
			return nil, parley.Errorf(parley.EINVALID, "the mine view needs a user name")
		}
		where = append(where, "lower(c.assignee) = lower("+a.add(f.User)+")")
	case parley.ViewClosed, parley.ViewWaiting:
		where = append(where, "c.state = "+a.add(strings.ReplaceAll(string(view), "-", "_")))
	case parley.ViewSnoozed:
		where = append(where, "c.state = 'snoozed' AND c.snoozed_until > $1")
	case parley.ViewAll:
	default:
		return nil, parley.Errorf(parley.EINVALID, "unknown conversation view %q", view)
	}
	if f.Platform != "" {
		where = append(where, "t.platform = "+a.add(f.Platform))
	}
	if f.PersonID != 0 {
		where = append(where, "c.id IN (SELECT thread_id FROM mentions WHERE person_id = "+a.add(f.PersonID)+")")
	}
	if f.WithoutDraft {
		where = append(where, "NOT EXISTS (SELECT 1 FROM drafts d WHERE d.thread_id = c.id AND d.kind = 'reply' AND d.state = 'pending')")
	}
	q := `SELECT ` + conversationColumns + conversationFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += ` ORDER BY ` + needsReply + ` DESC, CASE WHEN ` + needsReply + ` THEN c.waiting_since END,
		c.last_message_at DESC, c.id DESC LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(f.Offset)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, dbError("list conversations", err)
	}
	return collect(rows, scanConversation)
}

// changeConversation runs apply on conversation id in a transaction that
// locks it, writes the audit entry and returns the conversation after.
func (s *Store) changeConversation(ctx context.Context, id int64, actor, action, detail string,
	apply func(tx pgx.Tx, c parley.Conversation, now int64) error) (parley.Conversation, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.Conversation{}, parley.Errorf(parley.EINVALID, "%s conversation %d: who is acting? (actor is empty)", action, id)
	}
	var c parley.Conversation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		var err error
		if c, err = conversation(ctx, tx, id); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		if err := apply(tx, c, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
			VALUES ($1, $2, $3, nullif($4::bigint, 0), $5, $6)`, now, actor, action, c.PendingDraftID, c.PersonID,
			strings.TrimSpace(fmt.Sprintf("conversation %d %s", id, detail))); err != nil {
			return err
		}
		c, err = conversation(ctx, tx, id)
		return err
	})
	return c, dbError(action+" conversation", err)
}

// SetConversationState implements parley.ConversationStore.
func (s *Store) SetConversationState(ctx context.Context, id int64, actor string, state parley.ConversationState,
	until time.Time, reason string) (parley.Conversation, error) {
	action, detail, err := storelogic.ConversationChange(id, state, until, s.now(), reason)
	if err != nil {
		return parley.Conversation{}, err
	}
	return s.changeConversation(ctx, id, actor, action, detail, func(tx pgx.Tx, _ parley.Conversation, _ int64) error {
		// Reopening starts the clock again from the customer's last post.
		_, err := tx.Exec(ctx, `UPDATE conversations SET state = $1, snoozed_until = $2,
			waiting_since = CASE WHEN $1 = 'needs_reply' AND waiting_since = 0 THEN last_message_at ELSE waiting_since END
			WHERE id = $3`, string(state), ms(until), id)
		return err
	})
}

// AssignConversation implements parley.ConversationStore.
func (s *Store) AssignConversation(ctx context.Context, id int64, actor, user string) (parley.Conversation, error) {
	detail := "released"
	if user != "" {
		detail = "assigned to " + user
	}
	return s.changeConversation(ctx, id, actor, "assign", detail, func(tx pgx.Tx, c parley.Conversation, now int64) error {
		if user != "" {
			// The user's name as stored (names are case-insensitive).
			if err := tx.QueryRow(ctx, `SELECT name FROM users WHERE lower(name) = lower($1)`, user).Scan(&user); err != nil {
				return notFound(err, "no user named %q", user)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE conversations SET assignee = $1 WHERE id = $2`, user, id)
		if err == nil && c.PendingDraftID != 0 {
			_, err = tx.Exec(ctx, `UPDATE drafts SET updated_at = $1 WHERE id = $2`, now, c.PendingDraftID)
		}
		return err
	})
}

// WriteReply implements parley.ConversationStore.
func (s *Store) WriteReply(ctx context.Context, id, toMentionID int64, actor, text string) (parley.Draft, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "write reply: who is writing? (actor is empty)")
	}
	if strings.TrimSpace(text) == "" {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "the reply is empty: write something first")
	}
	var d parley.Draft
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockWrites(ctx, tx); err != nil {
			return err
		}
		c, err := conversation(ctx, tx, id)
		if err != nil {
			return err
		}
		if toMentionID == 0 {
			toMentionID = c.LastMentionID
		}
		var platform string
		var personID, threadID int64
		err = tx.QueryRow(ctx, `SELECT platform, person_id, thread_id FROM mentions WHERE id = $1`, toMentionID).
			Scan(&platform, &personID, &threadID)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "mention %d not found", toMentionID)
		}
		if err != nil {
			return err
		}
		if threadID != id {
			return parley.Errorf(parley.EINVALID, "mention %d is not in conversation %d: a reply answers a message of its own conversation", toMentionID, id)
		}
		now := s.now().UnixMilli()
		if c.PendingDraftID != 0 {
			if _, err := tx.Exec(ctx, `UPDATE drafts SET state = 'superseded', updated_at = $1 WHERE id = $2`, now, c.PendingDraftID); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, 'supersede', $3, $4, $5)`,
				now, actor, c.PendingDraftID, personID, "replaced by a reply "+actor+" wrote"); err != nil {
				return err
			}
		}
		d, err = scanDraft(tx.QueryRow(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id,
			text, created_at, updated_at, written_by) VALUES ('reply', 'pending', $1, $2, $3, $4, $5, $6, $6, $7) RETURNING `+draftColumns,
			platform, toMentionID, personID, id, text, now, actor))
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, 'write', $3, $4, $5)`,
			now, actor, d.ID, personID, fmt.Sprintf("reply to mention %d written", toMentionID))
		return err
	})
	return d, dbError("write reply", err)
}
