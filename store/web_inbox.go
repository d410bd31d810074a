package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// InboxItems returns the pending drafts matching f, highest priority then
// oldest first, with their mentions, people and assignees. Ranking them for
// people is the caller's business.
func (s *Store) InboxItems(ctx context.Context, f parley.InboxFilter) ([]parley.InboxItem, error) {
	where := []string{"state = 'pending'"}
	var args []any
	add := func(cond string, vs ...any) {
		where = append(where, cond)
		args = append(args, vs...)
	}
	if f.Platform != "" {
		add("platform = ?", f.Platform)
	}
	if f.Sentiment != "" {
		add("mention_id IN (SELECT id FROM mentions WHERE sentiment = ?)", string(f.Sentiment))
	}
	if f.Tag != "" {
		add("mention_id IN (SELECT id FROM mentions WHERE instr(',' || tags || ',', ',' || ? || ',') > 0)", f.Tag)
	}
	if f.Rule != "" {
		add("(rule = ? OR mention_id IN (SELECT id FROM mentions WHERE instr(',' || rules || ',', ',' || ? || ',') > 0))",
			f.Rule, f.Rule)
	}
	if f.AssignedTo != "" {
		add("assigned_to = ? COLLATE NOCASE", f.AssignedTo)
	}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = "?"
			args = append(args, id)
		}
		where = append(where, "id IN ("+strings.Join(ph, ",")+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args = append(args, limit)
	q := `WITH d AS (SELECT drafts.*, coalesce(a.user_name, '') AS assigned_to FROM drafts
			LEFT JOIN draft_assignments a ON a.draft_id = drafts.id)
		SELECT ` + draftColumns + `, assigned_to FROM d WHERE ` + strings.Join(where, " AND ") + `
		ORDER BY priority DESC, created_at, id LIMIT ?`
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	var items []parley.InboxItem
	for rows.Next() {
		var it parley.InboxItem
		d, err := scanDraft(rowsWithExtra{rows, &it.AssignedTo})
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox: %w", err)
		}
		it.Draft = d
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	if err := s.fillItems(ctx, items); err != nil {
		return nil, err
	}
	return items, nil
}

// fillItems loads the mentions and people of items.
func (s *Store) fillItems(ctx context.Context, items []parley.InboxItem) error {
	if len(items) == 0 {
		return nil
	}
	var mids, pids []int64
	for _, it := range items {
		if it.Draft.MentionID != 0 {
			mids = append(mids, it.Draft.MentionID)
		}
		pids = append(pids, it.Draft.PersonID)
	}
	mentions, err := s.mentionsByID(ctx, mids)
	if err != nil {
		return err
	}
	people, err := s.peopleByID(ctx, pids)
	if err != nil {
		return err
	}
	for i := range items {
		items[i].Mention = mentions[items[i].Draft.MentionID]
		items[i].Person = people[items[i].Draft.PersonID]
	}
	return nil
}

func idList(ids []int64) (string, []any) {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + placeholders(len(ids)) + ")", args
}

func (s *Store) mentionsByID(ctx context.Context, ids []int64) (map[int64]parley.Mention, error) {
	out := map[int64]parley.Mention{}
	for chunk := range slices.Chunk(ids, 500) {
		in, args := idList(slices.Clone(chunk))
		ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
			WHERE m.id IN `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("load mentions: %w", err)
		}
		for _, m := range ms {
			out[m.ID] = m
		}
	}
	return out, nil
}

func (s *Store) peopleByID(ctx context.Context, ids []int64) (map[int64]parley.Person, error) {
	out := map[int64]parley.Person{}
	for chunk := range slices.Chunk(ids, 500) {
		in, args := idList(slices.Clone(chunk))
		ps, err := s.queryPeople(ctx, `SELECT `+personColumns+` FROM people WHERE id IN `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("load people: %w", err)
		}
		for _, p := range ps {
			out[p.ID] = p
		}
	}
	return out, nil
}

func (s *Store) queryPeople(ctx context.Context, q string, args ...any) ([]parley.Person, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// InboxItem returns one draft, in any state, with its mention, person and
// assignee. ENOTFOUND if there is no such draft.
func (s *Store) InboxItem(ctx context.Context, draftID int64) (parley.InboxItem, error) {
	var it parley.InboxItem
	row := s.rdb.QueryRowContext(ctx, `WITH d AS (SELECT drafts.*, coalesce(a.user_name, '') AS assigned_to FROM drafts
			LEFT JOIN draft_assignments a ON a.draft_id = drafts.id WHERE drafts.id = ?)
		SELECT `+draftColumns+`, assigned_to FROM d`, draftID)
	var assigned string
	d, err := scanDraft(rowWithExtra{row, &assigned})
	if err != nil {
		return it, notFound(err, "draft %d not found", draftID)
	}
	items := []parley.InboxItem{{Draft: d, AssignedTo: assigned}}
	if err := s.fillItems(ctx, items); err != nil {
		return it, err
	}
	return items[0], nil
}

type rowWithExtra struct {
	row   *sql.Row
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra)...) }

// InboxFacets returns the platforms, tags and rules of pending drafts.
func (s *Store) InboxFacets(ctx context.Context) (parley.InboxFacets, error) {
	var f parley.InboxFacets
	rows, err := s.rdb.QueryContext(ctx, `SELECT DISTINCT d.platform, d.rule, coalesce(m.tags, ''), coalesce(m.rules, '')
		FROM drafts d LEFT JOIN mentions m ON m.id = d.mention_id WHERE d.state = 'pending'`)
	if err != nil {
		return f, fmt.Errorf("inbox facets: %w", err)
	}
	defer rows.Close()
	platforms, tags, rules := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for rows.Next() {
		var platform, rule, mtags, mrules string
		if err := rows.Scan(&platform, &rule, &mtags, &mrules); err != nil {
			return f, err
		}
		platforms[platform] = true
		if rule != "" {
			rules[rule] = true
		}
		for _, t := range splitList(mtags) {
			tags[t] = true
		}
		for _, r := range splitList(mrules) {
			rules[r] = true
		}
	}
	if err := rows.Err(); err != nil {
		return f, err
	}
	keys := func(m map[string]bool) []string {
		out := make([]string, 0, len(m))
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	f.Platforms, f.Tags, f.Rules = keys(platforms), keys(tags), keys(rules)
	return f, nil
}

// DraftsVersion returns the latest change time of any draft (the zero time
// for none): a watcher starts from it and asks Drafts for UpdatedAfter.
func (s *Store) DraftsVersion(ctx context.Context) (time.Time, error) {
	var v int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(updated_at), 0) FROM drafts`).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("drafts version: %w", err)
	}
	return fromMS(v), nil
}

// AssignDraft gives a pending draft to user ("" to release it), recording
// actor in the audit log; the draft counts as changed for watchers.
// Errors: ENOTFOUND for no such draft or user; ECONFLICT when the draft is
// no longer pending.
func (s *Store) AssignDraft(ctx context.Context, draftID int64, user, actor string) (parley.InboxItem, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.InboxItem{}, parley.Errorf(parley.EINVALID, "assign draft %d: who is acting? (actor is empty)", draftID)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return parley.InboxItem{}, dbError("assign draft", err)
	}
	defer tx.Rollback()
	d, err := scanDraft(tx.QueryRowContext(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = ?`, draftID))
	if err != nil {
		return parley.InboxItem{}, notFound(err, "draft %d not found", draftID)
	}
	if d.State != parley.DraftPending {
		return parley.InboxItem{}, storelogic.Conflict(d)
	}
	now := s.now().UnixMilli()
	detail := "released"
	if user == "" {
		_, err = tx.ExecContext(ctx, `DELETE FROM draft_assignments WHERE draft_id = ?`, draftID)
	} else {
		// The user's name as stored (names are case-insensitive).
		if err = tx.QueryRowContext(ctx, `SELECT name FROM users WHERE name = ?`, user).Scan(&user); err != nil {
			return parley.InboxItem{}, notFound(err, "no user named %q", user)
		}
		detail = "assigned to " + user
		_, err = tx.ExecContext(ctx, `INSERT INTO draft_assignments (draft_id, user_name, assigned_by, assigned_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (draft_id) DO UPDATE SET user_name = excluded.user_name,
			assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`, draftID, user, actor, now)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `UPDATE drafts SET updated_at = ? WHERE id = ?`, now, draftID)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES (?, ?, 'assign', ?, ?, ?)`,
			now, actor, draftID, d.PersonID, detail)
	}
	if err != nil {
		return parley.InboxItem{}, dbError("assign draft", err)
	}
	if err := tx.Commit(); err != nil {
		return parley.InboxItem{}, dbError("assign draft", err)
	}
	return s.InboxItem(ctx, draftID)
}

// Thread returns one thread; ENOTFOUND if there is none.
func (s *Store) Thread(ctx context.Context, id int64) (parley.Thread, error) {
	var t parley.Thread
	var started, last int64
	err := s.rdb.QueryRowContext(ctx, `SELECT id, platform, root_key, channel, started_at, last_at, mentions
		FROM threads WHERE id = ?`, id).Scan(&t.ID, &t.Platform, &t.RootKey, &t.Channel, &started, &last, &t.Mentions)
	if err != nil {
		return t, notFound(err, "thread %d not found", id)
	}
	t.StartedAt, t.LastAt = fromMS(started), fromMS(last)
	return t, nil
}

// QueueReply queues a reply written by a person (actor) to a stored
// mention: the pending draft of the mention's conversation (WriteReply).
// Errors: ENOTFOUND for no such mention; EINVALID for an empty text or actor.
func (s *Store) QueueReply(ctx context.Context, mentionID int64, actor, text string) (parley.Draft, error) {
	var threadID int64
	err := s.rdb.QueryRowContext(ctx, `SELECT thread_id FROM mentions WHERE id = ?`, mentionID).Scan(&threadID)
	if errors.Is(err, sql.ErrNoRows) {
		return parley.Draft{}, parley.Errorf(parley.ENOTFOUND, "mention %d not found", mentionID)
	}
	if err != nil {
		return parley.Draft{}, dbError("queue reply", err)
	}
	return s.WriteReply(ctx, threadID, mentionID, actor, text)
}
