package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

var _ parley.AlertStore = (*Store)(nil)

const alertColumns = `id, kind, key, at, title, detail, conversation_id, person_id, mention_id, count, threshold`

func scanAlert(row scanner) (parley.Alert, error) {
	var a parley.Alert
	var at int64
	err := row.Scan(&a.ID, &a.Kind, &a.Key, &at, &a.Title, &a.Detail, &a.ConversationID, &a.PersonID, &a.MentionID,
		&a.Count, &a.Threshold)
	a.At = fromMS(at)
	return a, err
}

// RaiseAlert implements parley.AlertStore. The cooldown check and the
// insert are one statement, so two callers cannot both raise.
func (s *Store) RaiseAlert(ctx context.Context, a parley.Alert, cooldown time.Duration) (parley.Alert, bool, error) {
	if err := a.Check(); err != nil {
		return a, false, err
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO alerts (kind, key, at, title, detail, conversation_id, person_id,
		mention_id, count, threshold)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE kind = ? AND key = ? AND at > ? AND at <= ?)
		RETURNING id`, a.Kind, a.Key, ms(a.At), a.Title, a.Detail, a.ConversationID, a.PersonID, a.MentionID, a.Count,
		a.Threshold, a.Kind, a.Key, ms(a.At.Add(-cooldown)), ms(a.At)).Scan(&a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	}
	if err != nil {
		return a, false, dbError("raise alert", err)
	}
	return a, true, nil
}

// Alerts implements parley.AlertStore.
func (s *Store) Alerts(ctx context.Context, f parley.AlertFilter) ([]parley.Alert, error) {
	q, args := storelogic.AlertsQuery(f, alertColumns, func(int) string { return "?" })
	out := []parley.Alert{}
	err := eachRow(ctx, s.rdb, scanAlert, appendTo(&out), q, args...)
	return out, err
}

// AlertCounts implements parley.AlertStore.
func (s *Store) AlertCounts(ctx context.Context, from, to time.Time) (map[string]int, error) {
	out := map[string]int{}
	type kc struct {
		kind string
		n    int
	}
	err := eachRow(ctx, s.rdb, func(r scanner) (kc, error) {
		var v kc
		return v, r.Scan(&v.kind, &v.n)
	}, func(v kc) error { out[v.kind] = v.n; return nil },
		`SELECT kind, count(*) FROM alerts WHERE at >= ? AND at < ? GROUP BY kind`, ms(from), ms(to))
	return out, err
}

// CountMentions implements parley.AlertStore.
func (s *Store) CountMentions(ctx context.Context, from, to time.Time) (parley.MentionCount, error) {
	var c parley.MentionCount
	err := s.rdb.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(sentiment = 'negative'), 0) FROM mentions
		WHERE created_at >= ? AND created_at < ?`, ms(from), ms(to)).Scan(&c.All, &c.Negative)
	return c, dbError("count mentions", err)
}

// NegativeMentionsFrom implements parley.AlertStore.
func (s *Store) NegativeMentionsFrom(ctx context.Context, from, to time.Time, minFollowers int) ([]parley.Mention, error) {
	found, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.created_at >= ? AND m.created_at < ? AND m.sentiment = 'negative' AND p.followers >= ?
		ORDER BY m.created_at, m.id`, ms(from), ms(to), minFollowers)
	return found, dbError("negative mentions", err)
}

// EarliestMention implements parley.AlertStore.
func (s *Store) EarliestMention(ctx context.Context) (time.Time, error) {
	var v int64
	err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(min(created_at), 0) FROM mentions`).Scan(&v)
	if err != nil || v == 0 {
		return time.Time{}, dbError("earliest mention", err)
	}
	return fromMS(v), nil
}
