package postgres

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

var _ parley.AlertStore = (*Store)(nil)

const alertColumns = `id, kind, key, at, title, detail, conversation_id, person_id, mention_id, count, threshold`

func scanAlert(row pgx.Row) (parley.Alert, error) {
	var a parley.Alert
	var at int64
	err := row.Scan(&a.ID, &a.Kind, &a.Key, &at, &a.Title, &a.Detail, &a.ConversationID, &a.PersonID, &a.MentionID,
		&a.Count, &a.Threshold)
	a.At = fromMS(at)
	return a, err
}

// RaiseAlert implements parley.AlertStore. A transaction-scoped advisory
// lock on the kind and key serialises two raisers of the same alert (it
// holds behind PgBouncer's transaction pooling, as a session lock would
// not), so the cooldown check and the insert cannot interleave.
func (s *Store) RaiseAlert(ctx context.Context, a parley.Alert, cooldown time.Duration) (parley.Alert, bool, error) {
	if err := a.Check(); err != nil {
		return a, false, err
	}
	raised := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "alert:"+a.Kind+":"+a.Key); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO alerts (kind, key, at, title, detail, conversation_id, person_id,
			mention_id, count, threshold)
			SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
			WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE kind = $1 AND key = $2 AND at > $11 AND at <= $3)
			RETURNING id`, a.Kind, a.Key, ms(a.At), a.Title, a.Detail, a.ConversationID, a.PersonID, a.MentionID, a.Count,
			a.Threshold, ms(a.At.Add(-cooldown))).Scan(&a.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		raised = err == nil
		return err
	})
	if err != nil {
		return a, false, dbError("raise alert", err)
	}
	return a, raised, nil
}

// Alerts implements parley.AlertStore.
func (s *Store) Alerts(ctx context.Context, f parley.AlertFilter) ([]parley.Alert, error) {
	q, args := storelogic.AlertsQuery(f, alertColumns, func(n int) string { return "$" + strconv.Itoa(n) })
	out := []parley.Alert{}
	err := eachRow(ctx, s.pool, scanAlert, appendTo(&out), q, args...)
	return out, err
}

// AlertCounts implements parley.AlertStore.
func (s *Store) AlertCounts(ctx context.Context, from, to time.Time) (map[string]int, error) {
	out := map[string]int{}
	type kc struct {
		kind string
		n    int
	}
	err := eachRow(ctx, s.pool, func(r pgx.Row) (kc, error) {
		var v kc
		return v, r.Scan(&v.kind, &v.n)
	}, func(v kc) error { out[v.kind] = v.n; return nil },
		`SELECT kind, count(*) FROM alerts WHERE at >= $1 AND at < $2 GROUP BY kind`, ms(from), ms(to))
	return out, err
}

// CountMentions implements parley.AlertStore.
func (s *Store) CountMentions(ctx context.Context, from, to time.Time) (parley.MentionCount, error) {
	var c parley.MentionCount
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE sentiment = 'negative') FROM mentions
		WHERE created_at >= $1 AND created_at < $2`, ms(from), ms(to)).Scan(&c.All, &c.Negative)
	return c, dbError("count mentions", err)
}

// NegativeMentionsFrom implements parley.AlertStore.
func (s *Store) NegativeMentionsFrom(ctx context.Context, from, to time.Time, minFollowers int) ([]parley.Mention, error) {
	found, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= $1 AND m.created_at < $2 AND m.sentiment = 'negative' AND p.followers >= $3
		ORDER BY m.created_at, m.id`, ms(from), ms(to), minFollowers)
	return found, err
}

// EarliestMention implements parley.AlertStore.
func (s *Store) EarliestMention(ctx context.Context) (time.Time, error) {
	var v int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce(min(created_at), 0) FROM mentions`).Scan(&v)
	if err != nil || v == 0 {
		return time.Time{}, dbError("earliest mention", err)
	}
	return fromMS(v), nil
}
