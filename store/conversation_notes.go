package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
)

var _ parley.ConversationNoteStore = (*Store)(nil)

// ConversationNotes implements parley.ConversationNoteStore.
func (s *Store) ConversationNotes(ctx context.Context, id int64) ([]parley.ConversationNote, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, conversation_id, author, text, created_at FROM conversation_notes
		WHERE conversation_id = ? ORDER BY created_at, id`, id)
	if err != nil {
		return nil, dbError("conversation notes", err)
	}
	defer rows.Close()
	var out []parley.ConversationNote
	for rows.Next() {
		var n parley.ConversationNote
		var at int64
		if err := rows.Scan(&n.ID, &n.ConversationID, &n.Author, &n.Text, &at); err != nil {
			return nil, dbError("conversation notes", err)
		}
		n.CreatedAt = fromMS(at)
		out = append(out, n)
	}
	return out, dbError("conversation notes", rows.Err())
}

// conversationPerson returns the person a conversation is with, or
// ENOTFOUND.
func conversationPerson(ctx context.Context, tx *sql.Tx, id int64) (int64, error) {
	var person int64
	err := tx.QueryRowContext(ctx, `SELECT person_id FROM conversations WHERE id = ?`, id).Scan(&person)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, parley.Errorf(parley.ENOTFOUND, "conversation %d not found", id)
	}
	return person, dbError("read conversation", err)
}

// AddConversationNote implements parley.ConversationNoteStore.
func (s *Store) AddConversationNote(ctx context.Context, id int64, actor, text string) (parley.ConversationNote, error) {
	n := parley.ConversationNote{ConversationID: id, Author: actor, Text: strings.TrimSpace(text)}
	if n.Text == "" {
		return n, parley.Errorf(parley.EINVALID, "the note is empty: write something first")
	}
	if len(n.Text) > 10000 {
		return n, parley.Errorf(parley.EINVALID, "the note is %d bytes long; keep it under 10,000", len(n.Text))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return n, dbError("add note", err)
	}
	defer tx.Rollback()
	person, err := conversationPerson(ctx, tx, id)
	if err != nil {
		return n, err
	}
	n.CreatedAt = s.now()
	if err := tx.QueryRowContext(ctx, `INSERT INTO conversation_notes (conversation_id, author, text, created_at)
		VALUES (?, ?, ?, ?) RETURNING id`, id, actor, n.Text, ms(n.CreatedAt)).Scan(&n.ID); err != nil {
		return n, dbError("add note", err)
	}
	if err := audit(ctx, tx, n.CreatedAt, actor, "conversation_note", 0, person, fmt.Sprintf("note %d on conversation %d", n.ID, id)); err != nil {
		return n, err
	}
	return n, dbError("add note", tx.Commit())
}

// ConversationTags implements parley.ConversationNoteStore.
func (s *Store) ConversationTags(ctx context.Context, id int64) ([]string, error) {
	return queryTags(ctx, s.rdb, id)
}

func queryTags(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT tag FROM conversation_tags WHERE conversation_id = ? ORDER BY tag`, id)
	if err != nil {
		return nil, dbError("conversation tags", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, dbError("conversation tags", err)
		}
		out = append(out, t)
	}
	return out, dbError("conversation tags", rows.Err())
}

// TagConversation implements parley.ConversationNoteStore.
func (s *Store) TagConversation(ctx context.Context, id int64, actor, tag string, remove bool) ([]string, error) {
	t, err := parley.NormalizeTag(tag)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, dbError("tag conversation", err)
	}
	defer tx.Rollback()
	person, err := conversationPerson(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var res sql.Result
	action := "conversation_tag"
	if remove {
		action = "conversation_untag"
		res, err = tx.ExecContext(ctx, `DELETE FROM conversation_tags WHERE conversation_id = ? AND tag = ?`, id, t)
	} else {
		res, err = tx.ExecContext(ctx, `INSERT INTO conversation_tags (conversation_id, tag, added_by, added_at) VALUES (?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, id, t, actor, ms(now))
	}
	if err != nil {
		return nil, dbError("tag conversation", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := audit(ctx, tx, now, actor, action, 0, person, fmt.Sprintf("#%s on conversation %d", t, id)); err != nil {
			return nil, err
		}
	}
	tags, err := queryTags(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return tags, dbError("tag conversation", tx.Commit())
}
