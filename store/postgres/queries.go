package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const personColumns = `id, platform, external_id, handle, name, followers, nobot, timezone, first_seen, last_seen,
	mentions, positive, negative, neutral, last_sentiment, replies_sent, opted_out, advocate_state, advocate_score`

func scanPerson(row pgx.Row) (parley.Person, error) {
	var p parley.Person
	var first, last int64
	var lastSentiment string
	err := row.Scan(&p.ID, &p.Platform, &p.ExternalID, &p.Handle, &p.Name, &p.Followers, &p.NoBot, &p.TimeZone,
		&first, &last, &p.Mentions, &p.Positive, &p.Negative, &p.Neutral, &lastSentiment, &p.RepliesSent,
		&p.OptedOut, &p.AdvocateState, &p.AdvocateScore)
	if err != nil {
		return p, err
	}
	p.FirstSeen, p.LastSeen = fromMS(first), fromMS(last)
	p.LastSentiment = parley.Label(lastSentiment)
	return p, nil
}

const mentionColumns = `m.id, m.platform, m.account, m.external_id, m.person_id, m.thread_id, m.text, m.created_at, m.received_at,
	m.in_reply_to, m.url, m.channel, m.visibility, m.lang, m.direct, m.sentiment, m.score, m.confidence, m.model,
	m.overrides, m.priority, m.tags, m.rules, m.ignored, p.handle, p.name, p.external_id, p.followers, p.nobot`

func scanMention(row pgx.Row) (parley.Mention, error) {
	var m parley.Mention
	var created, received int64
	var label, overrides, tags, rules string
	err := row.Scan(&m.ID, &m.Platform, &m.Account, &m.ExternalID, &m.PersonID, &m.ThreadID, &m.Text, &created, &received,
		&m.InReplyTo, &m.URL, &m.Channel, &m.Visibility, &m.Lang, &m.Direct, &label, &m.Sentiment.Score,
		&m.Sentiment.Confidence, &m.Sentiment.Model, &overrides, &m.Priority, &tags, &rules, &m.Ignored,
		&m.Author.Handle, &m.Author.Name, &m.Author.ExternalID, &m.Author.Followers, &m.Author.NoBot)
	if err != nil {
		return m, err
	}
	m.CreatedAt, m.ReceivedAt = fromMS(created), fromMS(received)
	m.Sentiment.Label = parley.Label(label)
	m.Sentiment.Overrides = splitList(overrides)
	m.Tags, m.Rules = splitList(tags), splitList(rules)
	m.Author.ID, m.Author.Platform = m.PersonID, m.Platform
	return m, nil
}

// Mention implements parley.MentionStore.
func (s *Store) Mention(ctx context.Context, id int64) (parley.Mention, error) {
	m, err := scanMention(s.pool.QueryRow(ctx, `SELECT `+mentionColumns+`
		FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = $1`, id))
	if err != nil {
		return m, notFound(err, "mention %d not found", id)
	}
	return m, nil
}

// Person implements parley.MentionStore.
func (s *Store) Person(ctx context.Context, id int64) (parley.Person, error) {
	p, err := scanPerson(s.pool.QueryRow(ctx, `SELECT `+personColumns+` FROM people WHERE id = $1`, id))
	if err != nil {
		return p, notFound(err, "person %d not found", id)
	}
	return p, nil
}

// FindPerson implements parley.MentionStore. platform may be empty to search
// every platform; a leading "@" on the handle is ignored. A handle that
// names more than one person is a conflict (storelogic.PickPerson).
func (s *Store) FindPerson(ctx context.Context, platform, handleOrID string) (parley.Person, error) {
	h := strings.TrimPrefix(strings.TrimSpace(handleOrID), "@")
	q := `SELECT ` + personColumns + ` FROM people WHERE (handle = $1 OR external_id = $1 OR lower(handle) = lower($1))`
	args := []any{h}
	if platform != "" {
		q += ` AND platform = $2`
		args = append(args, platform)
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY last_seen DESC LIMIT 20`, args...)
	if err != nil {
		return parley.Person{}, dbError("find person", err)
	}
	found, err := collect(rows, scanPerson)
	if err != nil {
		return parley.Person{}, err
	}
	return storelogic.PickPerson(found, handleOrID)
}

func (s *Store) queryMentions(ctx context.Context, q string, args ...any) ([]parley.Mention, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, dbError("read mentions", err)
	}
	return collect(rows, scanMention)
}

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(pgx.Row) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, dbError("read", rows.Err())
}

// PersonMentions implements parley.MentionStore.
func (s *Store) PersonMentions(ctx context.Context, personID int64, limit int) ([]parley.Mention, error) {
	if limit <= 0 {
		limit = 100
	}
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.person_id = $1 ORDER BY m.created_at DESC, m.id DESC LIMIT $2`, personID, limit)
	if err != nil {
		return nil, fmt.Errorf("person %d mentions: %w", personID, err)
	}
	return ms, nil
}

// ThreadMentions implements parley.MentionStore.
func (s *Store) ThreadMentions(ctx context.Context, threadID int64) ([]parley.Mention, error) {
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.thread_id = $1 ORDER BY m.created_at, m.id`, threadID)
	if err != nil {
		return nil, fmt.Errorf("thread %d mentions: %w", threadID, err)
	}
	return ms, nil
}

// Thread returns one thread; ENOTFOUND if there is none.
func (s *Store) Thread(ctx context.Context, id int64) (parley.Thread, error) {
	var t parley.Thread
	var started, last int64
	err := s.pool.QueryRow(ctx, `SELECT id, platform, root_key, channel, started_at, last_at, mentions
		FROM threads WHERE id = $1`, id).Scan(&t.ID, &t.Platform, &t.RootKey, &t.Channel, &started, &last, &t.Mentions)
	if err != nil {
		return t, notFound(err, "thread %d not found", id)
	}
	t.StartedAt, t.LastAt = fromMS(started), fromMS(last)
	return t, nil
}

// Stats implements parley.MentionStore.
func (s *Store) Stats(ctx context.Context) (parley.Stats, error) {
	st := parley.Stats{Drafts: map[parley.DraftState]int{}, Sentiment: map[parley.Label]int{}}
	for _, state := range parley.DraftStates {
		st.Drafts[state] = 0
	}
	for _, l := range parley.Labels {
		st.Sentiment[l] = 0
	}
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM people),
		(SELECT count(*) FROM threads)`).Scan(&st.Mentions, &st.People, &st.Threads)
	if err != nil {
		return st, dbError("stats", err)
	}
	if err := s.countInto(ctx, `SELECT state, count(*) FROM drafts GROUP BY state`, func(k string, n int) {
		st.Drafts[parley.DraftState(k)] = n
	}); err != nil {
		return st, err
	}
	err = s.countInto(ctx, `SELECT sentiment, count(*) FROM mentions GROUP BY sentiment`, func(k string, n int) {
		st.Sentiment[parley.Label(k)] = n
	})
	return st, err
}

// QueueStats is Stats with only Mentions and Drafts filled.
func (s *Store) QueueStats(ctx context.Context) (parley.Stats, error) {
	st := parley.Stats{Drafts: map[parley.DraftState]int{}}
	for _, state := range parley.DraftStates {
		st.Drafts[state] = 0
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM mentions`).Scan(&st.Mentions); err != nil {
		return st, dbError("stats", err)
	}
	err := s.countInto(ctx, `SELECT state, count(*) FROM drafts GROUP BY state`, func(k string, n int) {
		st.Drafts[parley.DraftState(k)] = n
	})
	return st, err
}

// PendingDrafts counts the drafts waiting for approval, up to most.
func (s *Store) PendingDrafts(ctx context.Context, most int) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM drafts WHERE state = 'pending' LIMIT $1) d`,
		most).Scan(&n)
	return n, dbError("count pending drafts", err)
}

func (s *Store) countInto(ctx context.Context, q string, set func(string, int)) error {
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return dbError("stats", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		set(k, n)
	}
	return dbError("stats", rows.Err())
}

// Cursor implements parley.CursorStore.
func (s *Store) Cursor(ctx context.Context, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM cursors WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return v, dbError("read cursor "+key, err)
}

// SetCursor implements parley.CursorStore.
func (s *Store) SetCursor(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO cursors (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, s.now().UnixMilli())
	return dbError("save cursor "+key, err)
}
