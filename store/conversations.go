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

var _ parley.ConversationStore = (*Store)(nil)

const conversationColumns = `c.id, t.platform, t.channel, c.state, c.assignee, c.snoozed_until, c.messages,
	c.last_mention_id, c.person_id, c.last_message_at, c.first_message_at, c.waiting_since, c.first_response_at,
	c.last_response_at,
	coalesce((SELECT d.id FROM drafts d WHERE d.thread_id = c.id AND d.kind = 'reply' AND d.state = 'pending'), 0)`

const conversationFrom = ` FROM conversations c JOIN threads t ON t.id = c.id`

func scanConversation(row scanner) (parley.Conversation, error) {
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

// Conversation implements parley.ConversationStore.
func (s *Store) Conversation(ctx context.Context, id int64) (parley.Conversation, error) {
	return s.conversation(ctx, s.rdb, id)
}

type queryRower interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *Store) conversation(ctx context.Context, db queryRower, id int64) (parley.Conversation, error) {
	c, err := scanConversation(db.QueryRowContext(ctx, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id = ?`, id))
	if err != nil {
		return c, notFound(err, "conversation %d not found", id)
	}
	return c, nil
}

// needsReplySQL is true for a conversation that needs a reply at ?now (a
// snooze that ran out included).
const needsReplySQL = `(c.state = 'needs_reply' OR (c.state = 'snoozed' AND c.snoozed_until <= @now))`

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
	var where []string
	args := []any{sql.Named("now", ms(now))}
	switch view {
	case parley.ViewNeedsReply:
		where = append(where, needsReplySQL)
	case parley.ViewMine:
		if strings.TrimSpace(f.User) == "" {
			return nil, parley.Errorf(parley.EINVALID, "the mine view needs a user name")
		}
		where = append(where, "c.assignee = @user COLLATE NOCASE")
		args = append(args, sql.Named("user", f.User))
	case parley.ViewUnassigned:
		where = append(where, needsReplySQL, "c.assignee = ''")
	case parley.ViewClosed, parley.ViewWaiting:
		where = append(where, "c.state = @state")
		args = append(args, sql.Named("state", strings.ReplaceAll(string(view), "-", "_")))
	case parley.ViewSnoozed:
		where = append(where, "c.state = 'snoozed' AND c.snoozed_until > @now")
	case parley.ViewAll:
	default:
		return nil, parley.Errorf(parley.EINVALID, "unknown conversation view %q", view)
	}
	if f.Platform != "" {
		where = append(where, "t.platform = @platform")
		args = append(args, sql.Named("platform", f.Platform))
	}
	if f.PersonID != 0 {
		where = append(where, "c.id IN (SELECT thread_id FROM mentions WHERE person_id = @person)")
		args = append(args, sql.Named("person", f.PersonID))
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
	q += ` ORDER BY ` + needsReplySQL + ` DESC, CASE WHEN ` + needsReplySQL + ` THEN c.waiting_since END,
		c.last_message_at DESC, c.id DESC LIMIT @limit OFFSET @offset`
	args = append(args, sql.Named("limit", limit), sql.Named("offset", f.Offset))
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	defer rows.Close()
	var out []parley.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, fmt.Errorf("list conversations: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// changeConversation runs apply on conversation id in a write
// transaction, writes the audit entry and returns the conversation after.
func (s *Store) changeConversation(ctx context.Context, id int64, actor, action, detail string,
	apply func(tx *sql.Tx, c parley.Conversation, now int64) error) (parley.Conversation, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.Conversation{}, parley.Errorf(parley.EINVALID, "%s conversation %d: who is acting? (actor is empty)", action, id)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.Conversation{}, dbError(action+" conversation", err)
	}
	defer tx.Rollback()
	c, err := s.conversation(ctx, tx, id)
	if err != nil {
		return c, err
	}
	now := s.now().UnixMilli()
	if err := apply(tx, c, now); err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
		VALUES (?, ?, ?, NULLIF(?, 0), ?, ?)`, now, actor, action, c.PendingDraftID, c.PersonID,
		strings.TrimSpace(fmt.Sprintf("conversation %d %s", id, detail))); err != nil {
		return c, dbError("audit", err)
	}
	c, err = s.conversation(ctx, tx, id)
	if err != nil {
		return c, err
	}
	return c, dbError(action+" conversation", tx.Commit())
}

// SetConversationState implements parley.ConversationStore.
func (s *Store) SetConversationState(ctx context.Context, id int64, actor string, state parley.ConversationState,
	until time.Time, reason string) (parley.Conversation, error) {
	action, detail, err := storelogic.ConversationChange(id, state, until, s.now(), reason)
	if err != nil {
		return parley.Conversation{}, err
	}
	return s.changeConversation(ctx, id, actor, action, detail, func(tx *sql.Tx, _ parley.Conversation, _ int64) error {
		// Reopening starts the clock again from the customer's last post.
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET state = ?, snoozed_until = ?,
			waiting_since = CASE WHEN ?3 = 'needs_reply' AND waiting_since = 0 THEN last_message_at ELSE waiting_since END
			WHERE id = ?4`, string(state), ms(until), string(state), id)
		return dbError(action+" conversation", err)
	})
}

// AssignConversation implements parley.ConversationStore.
func (s *Store) AssignConversation(ctx context.Context, id int64, actor, user string) (parley.Conversation, error) {
	detail := "released"
	if user != "" {
		detail = "assigned to " + user
	}
	return s.changeConversation(ctx, id, actor, "assign", detail, func(tx *sql.Tx, c parley.Conversation, now int64) error {
		if user != "" {
			// The user's name as stored (names are case-insensitive).
			if err := tx.QueryRowContext(ctx, `SELECT name FROM users WHERE name = ?`, user).Scan(&user); err != nil {
				return notFound(err, "no user named %q", user)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE conversations SET assignee = ? WHERE id = ?`, user, id)
		if err == nil && c.PendingDraftID != 0 {
			_, err = tx.ExecContext(ctx, `UPDATE drafts SET updated_at = ? WHERE id = ?`, now, c.PendingDraftID)
		}
		return dbError("assign conversation", err)
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.Draft{}, dbError("write reply", err)
	}
	defer tx.Rollback()
	c, err := s.conversation(ctx, tx, id)
	if err != nil {
		return parley.Draft{}, err
	}
	if toMentionID == 0 {
		toMentionID = c.LastMentionID
	}
	var platform string
	var personID, threadID int64
	err = tx.QueryRowContext(ctx, `SELECT platform, person_id, thread_id FROM mentions WHERE id = ?`, toMentionID).
		Scan(&platform, &personID, &threadID)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Draft{}, parley.Errorf(parley.ENOTFOUND, "mention %d not found", toMentionID)
	}
	if err != nil {
		return parley.Draft{}, dbError("write reply", err)
	}
	if threadID != id {
		return parley.Draft{}, parley.Errorf(parley.EINVALID, "mention %d is not in conversation %d: a reply answers a message of its own conversation", toMentionID, id)
	}
	now := s.now().UnixMilli()
	if c.PendingDraftID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE drafts SET state = 'superseded', updated_at = ? WHERE id = ?`, now, c.PendingDraftID); err != nil {
			return parley.Draft{}, dbError("write reply", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'supersede', ?, ?, ?)`,
			now, actor, c.PendingDraftID, personID, "replaced by a reply "+actor+" wrote"); err != nil {
			return parley.Draft{}, dbError("audit", err)
		}
	}
	d, err := scanDraft(tx.QueryRowContext(ctx, `INSERT INTO drafts (kind, state, platform, mention_id, person_id, thread_id,
		text, created_at, updated_at, written_by) VALUES ('reply', 'pending', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+draftColumns,
		platform, toMentionID, personID, id, text, now, now, actor))
	if err != nil {
		return parley.Draft{}, dbError("write reply", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'write', ?, ?, ?)`,
		now, actor, d.ID, personID, fmt.Sprintf("reply to mention %d written", toMentionID)); err != nil {
		return parley.Draft{}, dbError("audit", err)
	}
	if err := tx.Commit(); err != nil {
		return parley.Draft{}, dbError("write reply", err)
	}
	return d, nil
}
