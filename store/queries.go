package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const personColumns = `id, platform, external_id, handle, name, followers, nobot, timezone, first_seen, last_seen,
	mentions, positive, negative, neutral, last_sentiment, replies_sent, opted_out, advocate_state, advocate_score`

type scanner interface{ Scan(dest ...any) error }

func scanPerson(row scanner) (parley.Person, error) {
	var p parley.Person
	var nobot, optedOut int
	var first, last int64
	var lastSentiment string
	err := row.Scan(&p.ID, &p.Platform, &p.ExternalID, &p.Handle, &p.Name, &p.Followers, &nobot, &p.TimeZone,
		&first, &last, &p.Mentions, &p.Positive, &p.Negative, &p.Neutral, &lastSentiment, &p.RepliesSent,
		&optedOut, &p.AdvocateState, &p.AdvocateScore)
	if err != nil {
		return p, err
	}
	p.NoBot, p.OptedOut = nobot != 0, optedOut != 0
	p.FirstSeen, p.LastSeen = fromMS(first), fromMS(last)
	p.LastSentiment = parley.Label(lastSentiment)
	return p, nil
}

const mentionColumns = `m.id, m.platform, m.account, m.external_id, m.person_id, m.thread_id, m.text, m.created_at, m.received_at,
	m.in_reply_to, m.url, m.channel, m.visibility, m.lang, m.direct, m.sentiment, m.score, m.confidence, m.model,
	m.overrides, m.priority, m.tags, m.rules, m.ignored, p.handle, p.name, p.external_id, p.followers, p.nobot`

func scanMention(row scanner) (parley.Mention, error) {
	var m parley.Mention
	var created, received int64
	var direct, ignored, nobot int
	var label, overrides, tags, rules string
	err := row.Scan(&m.ID, &m.Platform, &m.Account, &m.ExternalID, &m.PersonID, &m.ThreadID, &m.Text, &created, &received,
		&m.InReplyTo, &m.URL, &m.Channel, &m.Visibility, &m.Lang, &direct, &label, &m.Sentiment.Score,
		&m.Sentiment.Confidence, &m.Sentiment.Model, &overrides, &m.Priority, &tags, &rules, &ignored,
		&m.Author.Handle, &m.Author.Name, &m.Author.ExternalID, &m.Author.Followers, &nobot)
	if err != nil {
		return m, err
	}
	m.CreatedAt, m.ReceivedAt = fromMS(created), fromMS(received)
	m.Direct, m.Ignored = direct != 0, ignored != 0
	m.Sentiment.Label = parley.Label(label)
	m.Sentiment.Overrides = splitList(overrides)
	m.Tags, m.Rules = splitList(tags), splitList(rules)
	m.Author.ID, m.Author.Platform, m.Author.NoBot = m.PersonID, m.Platform, nobot != 0
	return m, nil
}

// notFound turns a missing row into ENOTFOUND with the given message and
// any other failure into dbError's (a transient one stays retryable).
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, format, args...)
	}
	return dbError("read", err)
}

// Mention implements parley.MentionStore.
func (s *Store) Mention(ctx context.Context, id int64) (parley.Mention, error) {
	m, err := scanMention(s.rdb.QueryRowContext(ctx, `SELECT `+mentionColumns+`
		FROM mentions m JOIN people p ON p.id = m.person_id WHERE m.id = ?`, id))
	if err != nil {
		return m, notFound(err, "mention %d not found", id)
	}
	return m, nil
}

// Person implements parley.MentionStore.
func (s *Store) Person(ctx context.Context, id int64) (parley.Person, error) {
	p, err := scanPerson(s.rdb.QueryRowContext(ctx, `SELECT `+personColumns+` FROM people WHERE id = ?`, id))
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
	q := `SELECT ` + personColumns + ` FROM people WHERE (handle = ?1 OR external_id = ?1 OR lower(handle) = lower(?1))`
	args := []any{h}
	if platform != "" {
		q += ` AND platform = ?2`
		args = append(args, platform)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY last_seen DESC LIMIT 20`, args...)
	if err != nil {
		return parley.Person{}, fmt.Errorf("find person %q: %w", handleOrID, err)
	}
	defer rows.Close()
	var found []parley.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return parley.Person{}, fmt.Errorf("find person %q: %w", handleOrID, err)
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return parley.Person{}, fmt.Errorf("find person %q: %w", handleOrID, err)
	}
	return storelogic.PickPerson(found, handleOrID)
}

func (s *Store) queryMentions(ctx context.Context, q string, args ...any) ([]parley.Mention, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.Mention
	for rows.Next() {
		m, err := scanMention(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// PersonMentions implements parley.MentionStore.
func (s *Store) PersonMentions(ctx context.Context, personID int64, limit int) ([]parley.Mention, error) {
	if limit <= 0 {
		limit = 100
	}
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.person_id = ? ORDER BY m.created_at DESC, m.id DESC LIMIT ?`, personID, limit)
	if err != nil {
		return nil, fmt.Errorf("person %d mentions: %w", personID, err)
	}
	return ms, nil
}

// ThreadMentions implements parley.MentionStore.
func (s *Store) ThreadMentions(ctx context.Context, threadID int64) ([]parley.Mention, error) {
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.thread_id = ? ORDER BY m.created_at, m.id`, threadID)
	if err != nil {
		return nil, fmt.Errorf("thread %d mentions: %w", threadID, err)
	}
	return ms, nil
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
	err := s.rdb.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM people),
		(SELECT count(*) FROM threads)`).Scan(&st.Mentions, &st.People, &st.Threads)
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if err := s.countInto(ctx, `SELECT state, count(*) FROM drafts GROUP BY state`, func(k string, n int) {
		st.Drafts[parley.DraftState(k)] = n
	}); err != nil {
		return st, err
	}
	if err := s.countInto(ctx, `SELECT sentiment, count(*) FROM mentions GROUP BY sentiment`, func(k string, n int) {
		st.Sentiment[parley.Label(k)] = n
	}); err != nil {
		return st, err
	}
	return st, nil
}

// QueueStats is Stats with only Mentions and Drafts filled: what the
// metrics scrape and the queue need, without Stats' count of mentions by
// sentiment, which reads every mention row (over a second at a million
// mentions). The counts come from indexes.
func (s *Store) QueueStats(ctx context.Context) (parley.Stats, error) {
	st := parley.Stats{Drafts: map[parley.DraftState]int{}}
	for _, state := range parley.DraftStates {
		st.Drafts[state] = 0
	}
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM mentions`).Scan(&st.Mentions); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	err := s.countInto(ctx, `SELECT state, count(*) FROM drafts GROUP BY state`, func(k string, n int) {
		st.Drafts[parley.DraftState(k)] = n
	})
	return st, err
}

// PendingDrafts counts the drafts waiting for approval, up to most (the
// web's badge shows "1000+"), from the drafts_queue index: counting them
// all takes 50 ms at 750,000 waiting.
func (s *Store) PendingDrafts(ctx context.Context, most int) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM drafts WHERE state = 'pending' LIMIT ?)`,
		most).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending drafts: %w", err)
	}
	return n, nil
}

func (s *Store) countInto(ctx context.Context, q string, set func(string, int)) error {
	rows, err := s.rdb.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
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
	return rows.Err()
}

// Cursor implements parley.CursorStore.
func (s *Store) Cursor(ctx context.Context, key string) (string, error) {
	var v string
	err := s.rdb.QueryRowContext(ctx, `SELECT value FROM cursors WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cursor %s: %w", key, err)
	}
	return v, nil
}

// SetCursor implements parley.CursorStore.
func (s *Store) SetCursor(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
		key, value, s.now().UnixMilli())
	return dbError("save cursor "+key, err)
}
