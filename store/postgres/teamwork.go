package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var (
	_ parley.SavedReplyStore       = (*Store)(nil)
	_ parley.ConversationNoteStore = (*Store)(nil)
	_ parley.AdvocateDesk          = (*Store)(nil)
	_ parley.UndoStore             = (*Store)(nil)
)

// savedReplyColumns reads a saved reply with its use count (drafts that
// used it and were approved or sent).
const savedReplyColumns = `r.id, r.title, r.text, r.platform, r.created_by, r.created_at, r.updated_by, r.updated_at,
	(SELECT count(*) FROM saved_reply_uses u JOIN drafts d ON d.id = u.draft_id
		WHERE u.saved_reply_id = r.id AND d.state IN ('approved', 'sending', 'sent'))`

func scanSavedReply(row pgx.Row) (parley.SavedReply, error) {
	var r parley.SavedReply
	var created, updated int64
	err := row.Scan(&r.ID, &r.Title, &r.Text, &r.Platform, &r.CreatedBy, &created, &r.UpdatedBy, &updated, &r.Uses)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, err
}

// SavedReplies implements parley.SavedReplyStore.
func (s *Store) SavedReplies(ctx context.Context, query, platform string) ([]parley.SavedReply, error) {
	q := `SELECT ` + savedReplyColumns + ` FROM saved_replies r WHERE true`
	a := args{}
	if platform != "" {
		q += ` AND r.platform IN ('', ` + a.add(platform) + `)`
	}
	for _, w := range strings.Fields(query) {
		p := a.add(strings.ToLower(w))
		q += ` AND (strpos(lower(r.title), ` + p + `) > 0 OR strpos(lower(r.text), ` + p + `) > 0)`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY lower(r.title), r.id LIMIT 500`, a...)
	if err != nil {
		return nil, dbError("saved replies", err)
	}
	out, err := collect(rows, scanSavedReply)
	return out, dbError("saved replies", err)
}

// SavedReply implements parley.SavedReplyStore.
func (s *Store) SavedReply(ctx context.Context, id int64) (parley.SavedReply, error) {
	r, err := scanSavedReply(s.pool.QueryRow(ctx, `SELECT `+savedReplyColumns+` FROM saved_replies r WHERE r.id = $1`, id))
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now().UnixMilli()
		action := "saved_reply_edit"
		if r.ID == 0 {
			action = "saved_reply_add"
			if err := tx.QueryRow(ctx, `INSERT INTO saved_replies (title, text, platform, created_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5) RETURNING id`, r.Title, r.Text, r.Platform, actor, now).Scan(&r.ID); err != nil {
				return err
			}
		} else {
			tag, err := tx.Exec(ctx, `UPDATE saved_replies SET title = $1, text = $2, platform = $3, updated_by = $4, updated_at = $5
				WHERE id = $6`, r.Title, r.Text, r.Platform, actor, now, r.ID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return parley.Errorf(parley.ENOTFOUND, "saved reply %d not found", r.ID)
			}
		}
		return audit(ctx, tx, now, actor, action, 0, 0, fmt.Sprintf("saved reply %d %q", r.ID, r.Title))
	})
	if err != nil {
		return r, dbError("save reply", err)
	}
	return s.SavedReply(ctx, r.ID)
}

// DeleteSavedReply implements parley.SavedReplyStore.
func (s *Store) DeleteSavedReply(ctx context.Context, actor string, id int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var title string
		err := tx.QueryRow(ctx, `DELETE FROM saved_replies WHERE id = $1 RETURNING title`, id).Scan(&title)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "saved reply %d not found", id)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, s.now().UnixMilli(), actor, "saved_reply_delete", 0, 0, fmt.Sprintf("saved reply %d %q", id, title))
	})
	return dbError("delete saved reply", err)
}

// codeForeignKeyViolation is PostgreSQL's SQLSTATE for a reference to a
// row that is not there.
const codeForeignKeyViolation = "23503"

// UseSavedReply implements parley.SavedReplyStore.
func (s *Store) UseSavedReply(ctx context.Context, id, draftID int64) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO saved_reply_uses (draft_id, saved_reply_id, used_at) VALUES ($1, $2, $3)
		ON CONFLICT (draft_id) DO UPDATE SET saved_reply_id = excluded.saved_reply_id, used_at = excluded.used_at`,
		draftID, id, s.now().UnixMilli())
	if pgCode(err) == codeForeignKeyViolation {
		return parley.Errorf(parley.ENOTFOUND, "saved reply %d or draft %d not found", id, draftID)
	}
	return dbError("use saved reply", err)
}

// audit writes one audit entry in tx; a zero draft or person id is none.
func audit(ctx context.Context, tx pgx.Tx, at int64, actor, action string, draftID, personID int64, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
		VALUES ($1, $2, $3, nullif($4::bigint, 0), nullif($5::bigint, 0), $6)`, at, actor, action, draftID, personID, detail)
	return err
}

// ConversationNotes implements parley.ConversationNoteStore.
func (s *Store) ConversationNotes(ctx context.Context, id int64) ([]parley.ConversationNote, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, conversation_id, author, text, created_at FROM conversation_notes
		WHERE conversation_id = $1 ORDER BY created_at, id`, id)
	if err != nil {
		return nil, dbError("conversation notes", err)
	}
	out, err := collect(rows, func(r pgx.Row) (parley.ConversationNote, error) {
		var n parley.ConversationNote
		var at int64
		err := r.Scan(&n.ID, &n.ConversationID, &n.Author, &n.Text, &at)
		n.CreatedAt = fromMS(at)
		return n, err
	})
	return out, dbError("conversation notes", err)
}

// conversationPerson returns the person a conversation is with, or
// ENOTFOUND.
func conversationPerson(ctx context.Context, tx pgx.Tx, id int64) (int64, error) {
	var person int64
	err := tx.QueryRow(ctx, `SELECT person_id FROM conversations WHERE id = $1`, id).Scan(&person)
	if err != nil {
		return 0, notFound(err, "conversation %d not found", id)
	}
	return person, nil
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		person, err := conversationPerson(ctx, tx, id)
		if err != nil {
			return err
		}
		n.CreatedAt = fromMS(s.now().UnixMilli())
		if err := tx.QueryRow(ctx, `INSERT INTO conversation_notes (conversation_id, author, text, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, id, actor, n.Text, ms(n.CreatedAt)).Scan(&n.ID); err != nil {
			return err
		}
		return audit(ctx, tx, ms(n.CreatedAt), actor, "conversation_note", 0, person, fmt.Sprintf("note %d on conversation %d", n.ID, id))
	})
	return n, dbError("add note", err)
}

// ConversationTags implements parley.ConversationNoteStore.
func (s *Store) ConversationTags(ctx context.Context, id int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT tag FROM conversation_tags WHERE conversation_id = $1 ORDER BY tag`, id)
	if err != nil {
		return nil, dbError("conversation tags", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return out, dbError("conversation tags", err)
}

// TagConversation implements parley.ConversationNoteStore.
func (s *Store) TagConversation(ctx context.Context, id int64, actor, tag string, remove bool) ([]string, error) {
	t, err := parley.NormalizeTag(tag)
	if err != nil {
		return nil, err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		person, err := conversationPerson(ctx, tx, id)
		if err != nil {
			return err
		}
		now := s.now().UnixMilli()
		action := "conversation_tag"
		var res interface{ RowsAffected() int64 }
		if remove {
			action = "conversation_untag"
			res, err = tx.Exec(ctx, `DELETE FROM conversation_tags WHERE conversation_id = $1 AND tag = $2`, id, t)
		} else {
			res, err = tx.Exec(ctx, `INSERT INTO conversation_tags (conversation_id, tag, added_by, added_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, id, t, actor, now)
		}
		if err != nil {
			return err
		}
		if res.RowsAffected() == 0 {
			return nil
		}
		return audit(ctx, tx, now, actor, action, 0, person, fmt.Sprintf("#%s on conversation %d", t, id))
	})
	if err != nil {
		return nil, dbError("tag conversation", err)
	}
	return s.ConversationTags(ctx, id)
}

// AdvocateEntries implements parley.AdvocateDesk.
func (s *Store) AdvocateEntries(ctx context.Context, states []string, limit int) ([]parley.AdvocateEntry, error) {
	if limit <= 0 {
		limit = 100
	}
	q := `SELECT ` + personColumns + `, advocate_note, advocate_confirmed_by, advocate_confirmed_at, advocate_scored_at
		FROM people WHERE advocate_state != ''`
	a := args{}
	if len(states) > 0 {
		q += ` AND advocate_state = ANY(` + a.add(states) + `)`
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY advocate_score DESC, id LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, dbError("list advocates", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.AdvocateEntry, error) {
		var e parley.AdvocateEntry
		var first, last, confirmed, scored int64
		var lastSentiment string
		p := &e.Person
		err := r.Scan(&p.ID, &p.Platform, &p.ExternalID, &p.Handle, &p.Name, &p.Followers, &p.NoBot, &p.TimeZone,
			&first, &last, &p.Mentions, &p.Positive, &p.Negative, &p.Neutral, &lastSentiment, &p.RepliesSent,
			&p.OptedOut, &p.AdvocateState, &p.AdvocateScore, &e.Note, &e.ConfirmedBy, &confirmed, &scored)
		p.FirstSeen, p.LastSeen, p.LastSentiment = fromMS(first), fromMS(last), parley.Label(lastSentiment)
		e.ConfirmedAt, e.ScoredAt = fromMS(confirmed), fromMS(scored)
		return e, err
	})
	return out, dbError("list advocates", err)
}

// savedReplyUses counts the uses of each saved reply by drafts approved
// in [from, to) and not undone or failed since.
func (s *Store) savedReplyUses(ctx context.Context, from, to int64) ([]parley.SavedReplyUse, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.title, count(*) AS n FROM saved_reply_uses u
		JOIN saved_replies r ON r.id = u.saved_reply_id JOIN drafts d ON d.id = u.draft_id
		WHERE d.state IN ('approved', 'sending', 'sent') AND d.decided_at >= $1 AND d.decided_at < $2
		GROUP BY r.id ORDER BY n DESC, r.title`, from, to)
	if err != nil {
		return nil, dbError("digest saved replies", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.SavedReplyUse, error) {
		var u parley.SavedReplyUse
		return u, r.Scan(&u.ID, &u.Title, &u.Uses)
	})
	return out, dbError("digest saved replies", err)
}
