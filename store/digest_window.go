package store

import (
	"context"
	"fmt"
	"time"

	"github.com/parleybot/parley"
)

// DigestWindow implements parley.DigestStore: everything a weekly digest
// is computed from, read in a handful of queries on the reader pool.
func (s *Store) DigestWindow(ctx context.Context, from, to, asOf time.Time) (parley.DigestWindow, error) {
	w := parley.DigestWindow{From: from, To: to, AsOf: asOf}
	f, t, now := ms(from), ms(to), ms(asOf)
	var err error
	w.Mentions, err = s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= ? AND m.created_at < ? ORDER BY m.created_at, m.id`, f, t)
	if err != nil {
		return w, fmt.Errorf("digest mentions: %w", err)
	}
	if w.People, err = s.queryPeople(ctx, `SELECT `+personColumns+` FROM people
		WHERE id IN (SELECT person_id FROM mentions WHERE created_at >= ? AND created_at < ?) ORDER BY id`, f, t); err != nil {
		return w, fmt.Errorf("digest people: %w", err)
	}
	if w.Replies, err = s.digestDrafts(ctx, `SELECT `+draftColumns+` FROM drafts
		WHERE kind = 'reply' AND state = 'sent' AND sent_at < ?
		AND thread_id IN (SELECT thread_id FROM mentions WHERE created_at >= ? AND created_at < ?)
		ORDER BY sent_at, id`, now, f, t); err != nil {
		return w, fmt.Errorf("digest replies: %w", err)
	}
	if w.Drafts, err = s.digestDrafts(ctx, digestDraftsQuery, f, t); err != nil {
		return w, fmt.Errorf("digest drafts: %w", err)
	}
	if w.Audit, err = s.digestAudit(ctx, f, t); err != nil {
		return w, fmt.Errorf("digest audit: %w", err)
	}
	var oldest int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(min(created_at), 0) FROM drafts WHERE state = 'pending'`).
		Scan(&w.Pending, &oldest); err != nil {
		return w, fmt.Errorf("digest pending drafts: %w", err)
	}
	w.OldestPending = fromMS(oldest)
	if err := s.digestPeople(ctx, &w); err != nil {
		return w, fmt.Errorf("digest advocates: %w", err)
	}
	if w.SavedReplies, err = s.savedReplyUses(ctx, f, t); err != nil {
		return w, fmt.Errorf("digest saved replies: %w", err)
	}
	return w, nil
}

// savedReplyUses counts the uses of each saved reply by drafts approved
// in [from, to) and not undone or failed since.
func (s *Store) savedReplyUses(ctx context.Context, from, to int64) ([]parley.SavedReplyUse, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT r.id, r.title, count(*) AS n FROM saved_reply_uses u
		JOIN saved_replies r ON r.id = u.saved_reply_id JOIN drafts d ON d.id = u.draft_id
		WHERE d.state IN ('approved', 'sending', 'sent') AND d.decided_at >= ? AND d.decided_at < ?
		GROUP BY r.id ORDER BY n DESC, r.title`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.SavedReplyUse
	for rows.Next() {
		var u parley.SavedReplyUse
		if err := rows.Scan(&u.ID, &u.Title, &u.Uses); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// digestDraftsQuery reads the drafts created or decided in [?1, ?2): two
// index ranges (drafts_created, drafts_decided) rather than one OR, which
// SQLite answers by scanning every draft.
const digestDraftsQuery = `SELECT ` + draftColumns + ` FROM drafts WHERE created_at >= ?1 AND created_at < ?2
	UNION ALL
	SELECT ` + draftColumns + ` FROM drafts WHERE decided_at != 0 AND decided_at >= ?1 AND decided_at < ?2
		AND NOT (created_at >= ?1 AND created_at < ?2)
	ORDER BY created_at, id`

// MentionTimes implements parley.DigestStore.
func (s *Store) MentionTimes(ctx context.Context, from, to time.Time) ([]time.Time, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT created_at FROM mentions WHERE created_at >= ? AND created_at < ?
		ORDER BY created_at`, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("mention times: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, fromMS(v))
	}
	return out, rows.Err()
}

// LatestMention implements parley.DigestStore.
func (s *Store) LatestMention(ctx context.Context) (time.Time, error) {
	var v int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(created_at), 0) FROM mentions`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("latest mention: %w", err)
	}
	return fromMS(v), nil
}

func (s *Store) digestDrafts(ctx context.Context, q string, args ...any) ([]parley.Draft, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return scanDrafts(rows)
}

func (s *Store) digestAudit(ctx context.Context, from, to int64) ([]parley.AuditEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, at, actor, action, coalesce(draft_id, 0), coalesce(person_id, 0), detail
		FROM audit WHERE at >= ? AND at < ? ORDER BY at, id`, from, to)
	if err != nil {
		return nil, err
	}
	return scanAudit(rows)
}
