package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const inboxFrom = `SELECT ` + draftColumns + `, assigned_to FROM (SELECT drafts.*, coalesce(a.user_name, '') AS assigned_to
	FROM drafts LEFT JOIN draft_assignments a ON a.draft_id = drafts.id) d`

// InboxItems implements parley.InboxStore.
func (s *Store) InboxItems(ctx context.Context, f parley.InboxFilter) ([]parley.InboxItem, error) {
	where := []string{"state = 'pending'"}
	var a args
	if f.Platform != "" {
		where = append(where, "platform = "+a.add(f.Platform))
	}
	if f.Sentiment != "" {
		where = append(where, "mention_id IN (SELECT id FROM mentions WHERE sentiment = "+a.add(string(f.Sentiment))+")")
	}
	if f.Tag != "" {
		where = append(where, "mention_id IN (SELECT id FROM mentions WHERE "+a.add(f.Tag)+" = ANY(string_to_array(tags, ',')))")
	}
	if f.Rule != "" {
		p := a.add(f.Rule)
		where = append(where, "(rule = "+p+" OR mention_id IN (SELECT id FROM mentions WHERE "+p+" = ANY(string_to_array(rules, ','))))")
	}
	if f.AssignedTo != "" {
		where = append(where, "lower(assigned_to) = lower("+a.add(f.AssignedTo)+")")
	}
	if len(f.IDs) > 0 {
		where = append(where, "id = ANY("+a.add(f.IDs)+")")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, inboxFrom+` WHERE `+strings.Join(where, " AND ")+`
		ORDER BY priority DESC, created_at, id LIMIT `+a.add(limit), a...)
	if err != nil {
		return nil, dbError("inbox", err)
	}
	items, err := collect(rows, scanItem)
	if err != nil {
		return nil, err
	}
	return items, s.fillItems(ctx, items)
}

func scanItem(row pgx.Row) (parley.InboxItem, error) {
	var it parley.InboxItem
	d, err := scanDraft(rowWithExtra{row, &it.AssignedTo})
	it.Draft = d
	return it, err
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
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.id = ANY($1)`, mids)
	if err != nil {
		return err
	}
	mentions := map[int64]parley.Mention{}
	for _, m := range ms {
		mentions[m.ID] = m
	}
	rows, err := s.pool.Query(ctx, `SELECT `+personColumns+` FROM people WHERE id = ANY($1)`, pids)
	if err != nil {
		return dbError("load people", err)
	}
	ps, err := collect(rows, scanPerson)
	if err != nil {
		return err
	}
	people := map[int64]parley.Person{}
	for _, p := range ps {
		people[p.ID] = p
	}
	for i := range items {
		items[i].Mention = mentions[items[i].Draft.MentionID]
		items[i].Person = people[items[i].Draft.PersonID]
	}
	return nil
}

// InboxItem implements parley.InboxStore.
func (s *Store) InboxItem(ctx context.Context, draftID int64) (parley.InboxItem, error) {
	it, err := scanItem(s.pool.QueryRow(ctx, inboxFrom+` WHERE id = $1`, draftID))
	if err != nil {
		return it, notFound(err, "draft %d not found", draftID)
	}
	items := []parley.InboxItem{it}
	if err := s.fillItems(ctx, items); err != nil {
		return it, err
	}
	return items[0], nil
}

// InboxFacets implements parley.InboxStore.
func (s *Store) InboxFacets(ctx context.Context) (parley.InboxFacets, error) {
	var f parley.InboxFacets
	err := s.pool.QueryRow(ctx, `SELECT
		coalesce(array_agg(DISTINCT d.platform), '{}'),
		coalesce(array_agg(DISTINCT t) FILTER (WHERE t IS NOT NULL AND t != ''), '{}'),
		coalesce(array_agg(DISTINCT r) FILTER (WHERE r IS NOT NULL AND r != ''), '{}')
		FROM drafts d LEFT JOIN mentions m ON m.id = d.mention_id
		LEFT JOIN LATERAL unnest(string_to_array(m.tags, ',')) t ON true
		LEFT JOIN LATERAL unnest(array_append(string_to_array(m.rules, ','), d.rule)) r ON true
		WHERE d.state = 'pending'`).Scan(&f.Platforms, &f.Tags, &f.Rules)
	if err != nil {
		return f, dbError("inbox facets", err)
	}
	for _, l := range [][]string{f.Platforms, f.Tags, f.Rules} {
		slices.Sort(l)
	}
	return f, nil
}

// DraftsVersion implements parley.InboxStore.
func (s *Store) DraftsVersion(ctx context.Context) (time.Time, error) {
	var v int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(max(updated_at), 0) FROM drafts`).Scan(&v); err != nil {
		return time.Time{}, dbError("drafts version", err)
	}
	return fromMS(v), nil
}

// AssignDraft implements parley.InboxStore.
func (s *Store) AssignDraft(ctx context.Context, draftID int64, user, actor string) (parley.InboxItem, error) {
	if strings.TrimSpace(actor) == "" {
		return parley.InboxItem{}, parley.Errorf(parley.EINVALID, "assign draft %d: who is acting? (actor is empty)", draftID)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := scanDraft(tx.QueryRow(ctx, `SELECT `+draftColumns+` FROM drafts WHERE id = $1 FOR UPDATE`, draftID))
		if err != nil {
			return notFound(err, "draft %d not found", draftID)
		}
		if d.State != parley.DraftPending {
			return storelogic.Conflict(d)
		}
		now := s.now().UnixMilli()
		detail := "released"
		if user == "" {
			_, err = tx.Exec(ctx, `DELETE FROM draft_assignments WHERE draft_id = $1`, draftID)
		} else {
			// The user's name as stored (names are case-insensitive).
			if err = tx.QueryRow(ctx, `SELECT name FROM users WHERE lower(name) = lower($1)`, user).Scan(&user); err != nil {
				return notFound(err, "no user named %q", user)
			}
			detail = "assigned to " + user
			_, err = tx.Exec(ctx, `INSERT INTO draft_assignments (draft_id, user_name, assigned_by, assigned_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (draft_id) DO UPDATE SET user_name = excluded.user_name,
				assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`, draftID, user, actor, now)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE drafts SET updated_at = $1 WHERE id = $2`, now, draftID)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail) VALUES ($1, $2, 'assign', $3, $4, $5)`,
				now, actor, draftID, d.PersonID, detail)
		}
		return err
	})
	if err != nil {
		return parley.InboxItem{}, dbError("assign draft", err)
	}
	return s.InboxItem(ctx, draftID)
}
