package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

var _ parley.DigestStore = (*Store)(nil)

// maxDigestAdvocates bounds DigestWindow.Advocates.
const maxDigestAdvocates = 20

// ClaimDigest implements parley.DigestStore. The week's row is locked for
// the claim (inserted first when new), so two processes sharing the
// database cannot both take the same week.
func (s *Store) ClaimDigest(ctx context.Context, r parley.DigestRecord, owner string, leaseUntil time.Time, force bool) (parley.DigestRecord, error) {
	if strings.TrimSpace(r.Week) == "" {
		return r, parley.Errorf(parley.EINVALID, "claim digest: the week is empty")
	}
	if strings.TrimSpace(owner) == "" {
		return r, parley.Errorf(parley.EINVALID, "claim digest %s: the owner is empty", r.Week)
	}
	var out parley.DigestRecord
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		tag, err := tx.Exec(ctx, `INSERT INTO digests (week, timezone, start_at, end_at, status, owner, lease_until, claimed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (week) DO NOTHING`, r.Week, r.TimeZone, ms(r.Start), ms(r.End),
			parley.DigestBuilding, owner, ms(leaseUntil), ms(now))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var lease int64
			cur, err := scanDigest(rowWithExtra{tx.QueryRow(ctx, `SELECT `+digestColumns+`, lease_until FROM digests
				WHERE week = $1 FOR UPDATE`, r.Week), &lease}, false)
			if err != nil {
				return err
			}
			held := cur.Status == parley.DigestBuilding && cur.Owner != owner && lease > ms(now)
			if held && !force {
				out = cur
				return parley.Errorf(parley.ECONFLICT, "digest %s is being sent by %s (claimed at %s)",
					r.Week, cur.Owner, cur.ClaimedAt.Format(time.RFC3339))
			}
			if (cur.Status == parley.DigestSent || cur.Status == parley.DigestStored) && !force {
				out = cur
				return parley.Errorf(parley.ECONFLICT, "digest %s was already %s at %s", r.Week, cur.Status,
					cur.BuiltAt.Format(time.RFC3339))
			}
			if _, err := tx.Exec(ctx, `UPDATE digests SET status = $1, owner = $2, lease_until = $3, claimed_at = $4,
				timezone = $5, start_at = $6, end_at = $7 WHERE week = $8`, parley.DigestBuilding, owner, ms(leaseUntil), ms(now),
				r.TimeZone, ms(r.Start), ms(r.End), r.Week); err != nil {
				return err
			}
		}
		out, err = scanDigest(tx.QueryRow(ctx, `SELECT `+digestColumns+`, markdown, html, text FROM digests WHERE week = $1`, r.Week), true)
		return err
	})
	if err != nil {
		if pe := (*parley.Error)(nil); errors.As(err, &pe) {
			return out, err
		}
		return r, dbError("claim digest", err)
	}
	out.Deliveries, err = s.digestDeliveries(ctx, r.Week)
	return out, err
}

// SaveDigest implements parley.DigestStore.
func (s *Store) SaveDigest(ctx context.Context, r parley.DigestRecord, owner string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var cur string
		var lease int64
		err := tx.QueryRow(ctx, `SELECT owner, lease_until FROM digests WHERE week = $1 FOR UPDATE`, r.Week).Scan(&cur, &lease)
		if errors.Is(err, pgx.ErrNoRows) {
			return parley.Errorf(parley.ENOTFOUND, "digest %s was never claimed", r.Week)
		}
		if err != nil {
			return err
		}
		if cur != owner {
			return parley.Errorf(parley.ECONFLICT, "digest %s is claimed by %s, not %s", r.Week, cur, owner)
		}
		status := r.Status
		if status == "" {
			status = parley.DigestBuilding
		}
		if status != parley.DigestBuilding {
			lease = 0
		}
		if _, err := tx.Exec(ctx, `UPDATE digests SET status = $1, lease_until = $2, built_at = $3, summary = $4,
			markdown = $5, html = $6, text = $7 WHERE week = $8`, status, lease, ms(r.BuiltAt), r.Summary,
			r.Markdown, r.HTML, r.Text, r.Week); err != nil {
			return err
		}
		for i, d := range r.Deliveries {
			if _, err := tx.Exec(ctx, `INSERT INTO digest_deliveries (week, target, seq, type, ok, attempts, error, detail, at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (week, target) DO UPDATE SET seq = excluded.seq, type = excluded.type, ok = excluded.ok,
					attempts = excluded.attempts, error = excluded.error, detail = excluded.detail, at = excluded.at`,
				r.Week, d.Target, i, d.Type, d.OK, d.Attempts, d.Error, d.Detail, ms(d.At)); err != nil {
				return err
			}
		}
		return nil
	})
	return dbError("save digest", err)
}

// DigestWindow implements parley.DigestStore: everything a weekly digest
// is computed from.
func (s *Store) DigestWindow(ctx context.Context, from, to, asOf time.Time) (parley.DigestWindow, error) {
	w := parley.DigestWindow{From: from, To: to, AsOf: asOf}
	f, t, now := ms(from), ms(to), ms(asOf)
	var err error
	w.Mentions, err = s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= $1 AND m.created_at < $2 ORDER BY m.created_at, m.id`, f, t)
	if err != nil {
		return w, err
	}
	if w.People, err = s.queryPeople(ctx, `SELECT `+personColumns+` FROM people
		WHERE id IN (SELECT person_id FROM mentions WHERE created_at >= $1 AND created_at < $2) ORDER BY id`, f, t); err != nil {
		return w, err
	}
	if w.Replies, err = s.queryDrafts(ctx, `SELECT `+draftColumns+` FROM drafts
		WHERE kind = 'reply' AND state = 'sent' AND sent_at < $1
		AND thread_id IN (SELECT thread_id FROM mentions WHERE created_at >= $2 AND created_at < $3)
		ORDER BY sent_at, id`, now, f, t); err != nil {
		return w, err
	}
	if w.Drafts, err = s.queryDrafts(ctx, `SELECT `+draftColumns+` FROM drafts
		WHERE (created_at >= $1 AND created_at < $2) OR (decided_at != 0 AND decided_at >= $1 AND decided_at < $2)
		ORDER BY created_at, id`, f, t); err != nil {
		return w, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit WHERE at >= $1 AND at < $2 ORDER BY at, id`, f, t)
	if err != nil {
		return w, dbError("digest audit", err)
	}
	if w.Audit, err = collect(rows, scanAudit); err != nil {
		return w, err
	}
	var oldest int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(created_at), 0) FROM drafts WHERE state = 'pending'`).
		Scan(&w.Pending, &oldest); err != nil {
		return w, dbError("digest pending drafts", err)
	}
	w.OldestPending = fromMS(oldest)
	if err := s.digestPeople(ctx, &w); err != nil {
		return w, err
	}
	w.SavedReplies, err = s.savedReplyUses(ctx, f, t)
	return w, err
}

// digestPeople fills the advocate part of a digest window.
func (s *Store) digestPeople(ctx context.Context, w *parley.DigestWindow) error {
	w.AdvocateStates = map[string]int{}
	rows, err := s.pool.Query(ctx, `SELECT advocate_state, count(*) FROM people WHERE advocate_state != ''
		GROUP BY advocate_state`)
	if err != nil {
		return dbError("digest advocates", err)
	}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return err
		}
		w.AdvocateStates[st] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return dbError("digest advocates", err)
	}
	if w.Advocates, err = s.queryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE advocate_state = 'advocate'
		ORDER BY advocate_score DESC, id LIMIT $1`, maxDigestAdvocates); err != nil {
		return err
	}
	if w.AdvocateChanges, err = s.AdvocateChanges(ctx, w.From, w.To); err != nil {
		return err
	}
	w.Prompts, err = s.PromptConversion(ctx, w.From, w.To)
	return err
}

func (s *Store) queryDrafts(ctx context.Context, q string, args ...any) ([]parley.Draft, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, dbError("read drafts", err)
	}
	return collect(rows, scanDraft)
}

// MentionTimes implements parley.DigestStore.
func (s *Store) MentionTimes(ctx context.Context, from, to time.Time) ([]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT created_at FROM mentions WHERE created_at >= $1 AND created_at < $2
		ORDER BY created_at`, ms(from), ms(to))
	if err != nil {
		return nil, dbError("mention times", err)
	}
	return collect(rows, func(r pgx.Row) (time.Time, error) {
		var v int64
		err := r.Scan(&v)
		return fromMS(v), err
	})
}

// LatestMention implements parley.DigestStore.
func (s *Store) LatestMention(ctx context.Context) (time.Time, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(created_at), 0) FROM mentions`).Scan(&v)
	return fromMS(v), dbError("latest mention", err)
}
