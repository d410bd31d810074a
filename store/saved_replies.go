package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleybot/parley"
)

var _ parley.SavedReplyStore = (*Store)(nil)

// savedReplyColumns reads a saved reply with its use count (drafts that
// used it and were approved or sent).
const savedReplyColumns = `r.id, r.title, r.text, r.platform, r.created_by, r.created_at, r.updated_by, r.updated_at,
	(SELECT count(*) FROM saved_reply_uses u JOIN drafts d ON d.id = u.draft_id
		WHERE u.saved_reply_id = r.id AND d.state IN ('approved', 'sending', 'sent'))`

func scanSavedReply(row scanner) (parley.SavedReply, error) {
	var r parley.SavedReply
	var created, updated int64
	err := row.Scan(&r.ID, &r.Title, &r.Text, &r.Platform, &r.CreatedBy, &created, &r.UpdatedBy, &updated, &r.Uses)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// SavedReplies implements parley.SavedReplyStore.
func (s *Store) SavedReplies(ctx context.Context, query, platform string) ([]parley.SavedReply, error) {
	q := `SELECT ` + savedReplyColumns + ` FROM saved_replies r WHERE 1`
	var args []any
	if platform != "" {
		q += ` AND r.platform IN ('', ?)`
		args = append(args, platform)
	}
	for _, w := range strings.Fields(query) {
		q += ` AND (instr(lower(r.title), ?) > 0 OR instr(lower(r.text), ?) > 0)`
		args = append(args, strings.ToLower(w), strings.ToLower(w))
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY r.title COLLATE NOCASE, r.id LIMIT 500`, args...)
	if err != nil {
		return nil, dbError("saved replies", err)
	}
	defer rows.Close()
	var out []parley.SavedReply
	for rows.Next() {
		r, err := scanSavedReply(rows)
		if err != nil {
			return nil, dbError("saved replies", err)
		}
		out = append(out, r)
	}
	return out, dbError("saved replies", rows.Err())
}

// SavedReply implements parley.SavedReplyStore.
func (s *Store) SavedReply(ctx context.Context, id int64) (parley.SavedReply, error) {
	r, err := scanSavedReply(s.rdb.QueryRowContext(ctx, `SELECT `+savedReplyColumns+` FROM saved_replies r WHERE r.id = ?`, id))
	if err != nil {
		return r, notFound(err, "saved reply %d not found", id)
	}
	return r, nil
}

// SaveReply implements parley.SavedReplyStore.
func (s *Store) SaveReply(ctx context.Context, actor string, r parley.SavedReply) (parley.SavedReply, error) {
	r.Title, r.Text, r.Platform = strings.TrimSpace(r.Title), strings.TrimSpace(r.Text), strings.TrimSpace(r.Platform)
	switch {
	case r.Title == "":
		return r, parley.Errorf(parley.EINVALID, "a saved reply needs a title (what agents search for)")
	case r.Text == "":
		return r, parley.Errorf(parley.EINVALID, "saved reply %q: the text is empty", r.Title)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, dbError("save reply", err)
	}
	defer tx.Rollback()
	now := s.now().UnixMilli()
	action := "saved_reply_edit"
	if r.ID == 0 {
		action = "saved_reply_add"
		err = tx.QueryRowContext(ctx, `INSERT INTO saved_replies (title, text, platform, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, r.Title, r.Text, r.Platform, actor, now, now).Scan(&r.ID)
	} else {
		var res sql.Result
		res, err = tx.ExecContext(ctx, `UPDATE saved_replies SET title = ?, text = ?, platform = ?, updated_by = ?, updated_at = ?
			WHERE id = ?`, r.Title, r.Text, r.Platform, actor, now, r.ID)
		if err == nil {
			if n, _ := res.RowsAffected(); n == 0 {
				return r, parley.Errorf(parley.ENOTFOUND, "saved reply %d not found", r.ID)
			}
		}
	}
	if err != nil {
		return r, dbError("save reply", err)
	}
	if err := audit(ctx, tx, fromMS(now), actor, action, 0, 0, fmt.Sprintf("saved reply %d %q", r.ID, r.Title)); err != nil {
		return r, err
	}
	if err := tx.Commit(); err != nil {
		return r, dbError("save reply", err)
	}
	return s.SavedReply(ctx, r.ID)
}

// DeleteSavedReply implements parley.SavedReplyStore.
func (s *Store) DeleteSavedReply(ctx context.Context, actor string, id int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return dbError("delete saved reply", err)
	}
	defer tx.Rollback()
	var title string
	err = tx.QueryRowContext(ctx, `DELETE FROM saved_replies WHERE id = ? RETURNING title`, id).Scan(&title)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "saved reply %d not found", id)
	}
	if err != nil {
		return dbError("delete saved reply", err)
	}
	if err := audit(ctx, tx, s.now(), actor, "saved_reply_delete", 0, 0, fmt.Sprintf("saved reply %d %q", id, title)); err != nil {
		return err
	}
	return dbError("delete saved reply", tx.Commit())
}

// UseSavedReply implements parley.SavedReplyStore.
func (s *Store) UseSavedReply(ctx context.Context, id, draftID int64) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO saved_reply_uses (draft_id, saved_reply_id, used_at) VALUES (?, ?, ?)
		ON CONFLICT (draft_id) DO UPDATE SET saved_reply_id = excluded.saved_reply_id, used_at = excluded.used_at`,
		draftID, id, s.now().UnixMilli())
	if code, ok := sqliteCode(err); ok && primary(code) == sqlite3.SQLITE_CONSTRAINT {
		return parley.Errorf(parley.ENOTFOUND, "saved reply %d or draft %d not found", id, draftID)
	}
	return dbError("use saved reply", err)
}
