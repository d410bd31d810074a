package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

var _ parley.Inbox = (*Store)(nil)

// The inbox's queries are built with ? placeholders (numbered only once
// the conditions are joined: numbered does it).

// inboxCond is one condition of an inbox query with its arguments.
type inboxCond struct {
	sql          string
	args         []any
	needsMention bool
	needsThread  bool
}

// inboxOrder is one order of the inbox: its sort keys, all in one
// direction so one row-value comparison continues after a cursor.
type inboxOrder struct {
	keys, orderBy, after string
	n                    int
}

var (
	urgencyOrder = inboxOrder{keys: `-m.priority, (m.sentiment != 'negative')::int, c.waiting_since, -p.followers, c.id`,
		orderBy: `-m.priority, (m.sentiment != 'negative')::int, c.waiting_since, -p.followers, c.id`, after: ">", n: 5}
	recencyOrder = inboxOrder{keys: `c.last_message_at, c.id`, orderBy: `c.last_message_at DESC, c.id DESC`, after: "<", n: 2}
)

// numbered turns the ? placeholders of q into $1, $2...
func numbered(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

const inFlightSQL = `EXISTS (SELECT 1 FROM drafts d WHERE d.thread_id = c.id AND d.kind = 'reply' AND d.state IN ('approved', 'sending'))`

func inboxNeedsReply(now int64) inboxCond {
	return inboxCond{sql: `(c.state = 'needs_reply' OR (c.state = 'snoozed' AND c.snoozed_until <= ?)) AND NOT ` + inFlightSQL,
		args: []any{now}}
}

func viewCond(view parley.ConversationView, user string, now int64) (inboxCond, error) {
	needs := inboxNeedsReply(now)
	switch view {
	case parley.ViewNeedsReply:
		return needs, nil
	case parley.ViewMine:
		if strings.TrimSpace(user) == "" {
			return needs, parley.Errorf(parley.EINVALID, "the mine view needs a user name")
		}
		return inboxCond{sql: needs.sql + ` AND lower(c.assignee) = lower(?)`, args: append(needs.args, user)}, nil
	case parley.ViewUnassigned:
		return inboxCond{sql: needs.sql + ` AND c.assignee = ''`, args: needs.args}, nil
	case parley.ViewAll:
		return inboxCond{sql: `true`}, nil
	case parley.ViewClosed:
		return inboxCond{sql: `c.state = 'closed'`}, nil
	}
	return needs, parley.Errorf(parley.EINVALID, "inbox view %q: want needs-reply, mine, unassigned, all or closed", view)
}

func filterConds(q parley.InboxQuery, now int64) []inboxCond {
	var out []inboxCond
	if q.Platform != "" {
		out = append(out, inboxCond{sql: `t.platform = ?`, args: []any{q.Platform}, needsThread: true})
	}
	if q.Sentiment != "" {
		out = append(out, inboxCond{sql: `m.sentiment = ?`, args: []any{string(q.Sentiment)}, needsMention: true})
	}
	if q.Tag != "" {
		out = append(out, inboxCond{sql: `EXISTS (SELECT 1 FROM mentions x WHERE x.thread_id = c.id
			AND ?::text = ANY(string_to_array(x.tags, ',')))`, args: []any{strings.TrimPrefix(q.Tag, "#")}})
	}
	if q.Rule != "" {
		out = append(out, inboxCond{sql: `EXISTS (SELECT 1 FROM mentions x WHERE x.thread_id = c.id
			AND ?::text = ANY(string_to_array(x.rules, ',')))`, args: []any{q.Rule}})
	}
	switch q.Assignee {
	case "":
	case "-":
		out = append(out, inboxCond{sql: `c.assignee = ''`})
	default:
		out = append(out, inboxCond{sql: `lower(c.assignee) = lower(?)`, args: []any{q.Assignee}})
	}
	if q.Overdue > 0 {
		needs := inboxNeedsReply(now)
		out = append(out, inboxCond{sql: needs.sql + ` AND c.waiting_since > 0 AND c.waiting_since <= ?`,
			args: append(needs.args, now-q.Overdue.Milliseconds())})
	}
	return out
}

// mentionMatch is SearchMentions' conditions on mentions m by people p,
// with ? placeholders.
func mentionMatch(q parley.MentionQuery, m, p string) ([]string, []any) {
	var words, where []string
	var args []any
	for _, term := range strings.Fields(q.Text) {
		switch {
		case strings.HasPrefix(term, "@") && len(term) > 1:
			where = append(where, p+`.handle ILIKE ? ESCAPE '\'`)
			args = append(args, likePrefix(strings.TrimPrefix(term, "@")))
		case strings.HasPrefix(term, "#") && len(term) > 1:
			words = append(words, term[1:])
			where = append(where, "strpos(lower("+m+".text), lower(?)) > 0")
			args = append(args, term)
		default:
			words = append(words, term)
		}
	}
	if len(words) > 0 {
		where = append(where, m+".search @@ plainto_tsquery('simple', ?)")
		args = append(args, strings.Join(words, " "))
	}
	if !q.Since.IsZero() {
		where = append(where, m+".created_at >= ?")
		args = append(args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, m+".created_at < ?")
		args = append(args, ms(q.Until))
	}
	return where, args
}

func inboxSQL(conds []inboxCond, full bool) (string, []any) {
	mention, thread := full, full
	var where []string
	var args []any
	for _, c := range conds {
		mention, thread = mention || c.needsMention, thread || c.needsThread
		where = append(where, "("+c.sql+")")
		args = append(args, c.args...)
	}
	from := ` FROM conversations c`
	if thread {
		from += ` JOIN threads t ON t.id = c.id`
	}
	if mention {
		from += ` JOIN mentions m ON m.id = c.last_mention_id JOIN people p ON p.id = m.person_id`
	}
	return from + ` WHERE ` + strings.Join(where, " AND "), args
}

// InboxPage implements parley.Inbox as the SQLite store does: a search is
// answered first, once, as a set of conversations (those of the newest
// matching messages); the list and the counts then read only those.
func (s *Store) InboxPage(ctx context.Context, q parley.InboxQuery) (parley.InboxPage, error) {
	var page parley.InboxPage
	now := q.Now
	if now.IsZero() {
		now = s.now()
	}
	view := storelogic.InboxView(q)
	vc, err := viewCond(view, q.User, ms(now))
	if err != nil {
		return page, err
	}
	o := recencyOrder
	if storelogic.Urgent(view) {
		o = urgencyOrder
	}
	var after []any
	if q.After != "" {
		if after, err = storelogic.ParseCursor(q.After, o.n); err != nil {
			return page, err
		}
	}
	filters := filterConds(q, ms(now))
	if storelogic.Searches(q) {
		var ids []int64
		if ids, page.Partial, err = s.inboxMatches(ctx, q); err != nil {
			return page, err
		}
		if len(ids) == 0 {
			storelogic.InboxCounts{AskedMine: strings.TrimSpace(q.User) != ""}.Page(&page)
			return page, nil
		}
		filters = append(filters, inboxCond{sql: `c.id = ANY(?::bigint[])`, args: []any{ids}})
	}
	if page.Rows, page.Next, err = s.inboxList(ctx, vc, filters, o, after, storelogic.InboxLimit(q.Limit)); err != nil {
		return page, err
	}
	counts, err := s.inboxCounts(ctx, q, filters, ms(now))
	if err != nil {
		return page, err
	}
	counts.Partial = page.Partial
	counts.Page(&page)
	return page, nil
}

// inboxMatches returns the conversations of the newest messages matching
// q's words, handles, hashtags and dates (at most InboxSearchCap
// messages), newest first, and whether more messages matched.
func (s *Store) inboxMatches(ctx context.Context, q parley.InboxQuery) ([]int64, bool, error) {
	where, args := mentionMatch(parley.MentionQuery{Text: q.Text, Since: q.Since, Until: q.Until}, "x", "xp")
	if len(where) == 0 {
		return nil, false, nil
	}
	rows, err := s.pool.Query(ctx, numbered(`SELECT x.thread_id FROM mentions x JOIN people xp ON xp.id = x.person_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY x.id DESC LIMIT ?`), append(args, storelogic.InboxSearchCap+1)...)
	if err != nil {
		return nil, false, dbError("inbox search", err)
	}
	threads, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, false, dbError("inbox search", err)
	}
	ids, partial := storelogic.MatchedConversations(threads)
	return ids, partial, nil
}

// inboxList reads one page: its rows, and the cursor of the next page
// ("" for the last).
func (s *Store) inboxList(ctx context.Context, vc inboxCond, filters []inboxCond, o inboxOrder, after []any,
	limit int) ([]parley.InboxRow, string, error) {
	conds := append([]inboxCond{vc}, filters...)
	if after != nil {
		conds = append(conds, inboxCond{sql: `(` + o.keys + `) ` + o.after + ` (` + strings.TrimSuffix(strings.Repeat("?::bigint, ", o.n), ", ") + `)`, args: after})
	}
	from, args := inboxSQL(conds, true)
	rows, err := s.pool.Query(ctx, numbered(`SELECT c.id, c.last_mention_id, `+o.keys+from+` ORDER BY `+o.orderBy+` LIMIT ?`),
		append(args, limit+1)...)
	if err != nil {
		return nil, "", dbError("inbox", err)
	}
	var ids, mids, last []int64
	next := ""
	for rows.Next() {
		var id, mid int64
		k := make([]int64, o.n)
		dest := []any{&id, &mid}
		for i := range k {
			dest = append(dest, &k[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return nil, "", dbError("inbox", err)
		}
		if len(ids) == limit {
			next = storelogic.FormatCursor(last)
			break
		}
		ids, mids, last = append(ids, id), append(mids, mid), k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", dbError("inbox", err)
	}
	out, err := s.inboxRows(ctx, ids, mids)
	return out, next, err
}

func (s *Store) inboxRows(ctx context.Context, ids, mids []int64) ([]parley.InboxRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id = ANY($1)`, ids)
	if err != nil {
		return nil, dbError("inbox conversations", err)
	}
	cs, err := collect(rows, scanConversation)
	if err != nil {
		return nil, err
	}
	convs := map[int64]parley.Conversation{}
	for _, c := range cs {
		convs[c.ID] = c
	}
	ms, err := s.queryMentions(ctx, `SELECT `+mentionColumns+` FROM mentions m JOIN people p ON p.id = m.person_id
		WHERE m.id = ANY($1)`, mids)
	if err != nil {
		return nil, err
	}
	mentions := map[int64]parley.Mention{}
	for _, m := range ms {
		mentions[m.ID] = m
	}
	out := make([]parley.InboxRow, 0, len(ids))
	for i, id := range ids {
		out = append(out, parley.InboxRow{Conversation: convs[id], Last: mentions[mids[i]]})
	}
	return out, nil
}

// inboxCounts counts the views with the query's filters in two walks, as
// the SQLite store does: the open conversations (needs-reply, mine and
// unassigned at once), and all of them with the closed ones; filtered,
// each walk stops at InboxCountCap.
func (s *Store) inboxCounts(ctx context.Context, q parley.InboxQuery, filters []inboxCond, now int64) (storelogic.InboxCounts, error) {
	c := storelogic.InboxCounts{AskedMine: strings.TrimSpace(q.User) != ""}
	capped := len(filters) > 0
	limit := ``
	if capped {
		limit = ` LIMIT ` + strconv.Itoa(storelogic.InboxCountCap+1)
	}
	from, args := inboxSQL(append([]inboxCond{inboxNeedsReply(now)}, filters...), false)
	err := s.pool.QueryRow(ctx, numbered(`SELECT count(*), count(*) FILTER (WHERE n.assignee = ''),
		count(*) FILTER (WHERE lower(n.assignee) = lower(?::text))
		FROM (SELECT c.assignee`+from+limit+`) n`), append([]any{q.User}, args...)...).Scan(&c.Needs, &c.Unassigned, &c.Mine)
	if err != nil {
		return c, dbError("inbox counts", err)
	}
	from, args = inboxSQL(append([]inboxCond{{sql: `true`}}, filters...), false)
	err = s.pool.QueryRow(ctx, numbered(`SELECT count(*), count(*) FILTER (WHERE n.state = 'closed')
		FROM (SELECT c.state`+from+limit+`) n`), args...).Scan(&c.All, &c.Closed)
	if err != nil {
		return c, dbError("inbox counts", err)
	}
	if capped {
		c.Needs, c.NeedsMore = storelogic.CappedCount(c.Needs)
		c.All, c.AllMore = storelogic.CappedCount(c.All)
	}
	return c, nil
}

// InboxVersion implements parley.Inbox: the newest mention, audit entry
// and draft change.
func (s *Store) InboxVersion(ctx context.Context) (string, error) {
	var m, a, d int64
	err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT max(id) FROM mentions), 0),
		coalesce((SELECT max(id) FROM audit), 0), coalesce((SELECT max(updated_at) FROM drafts), 0)`).Scan(&m, &a, &d)
	if err != nil {
		return "", dbError("inbox version", err)
	}
	return storelogic.FormatCursor([]int64{m, a, d}), nil
}

// NeedsReplyCount implements parley.Inbox.
func (s *Store) NeedsReplyCount(ctx context.Context, most int) (int, error) {
	c := inboxNeedsReply(ms(s.now()))
	var n int
	err := s.pool.QueryRow(ctx, numbered(`SELECT count(*) FROM (SELECT 1 FROM conversations c WHERE `+c.sql+` LIMIT ?) n`),
		append(c.args, most)...).Scan(&n)
	return n, dbError("count conversations needing a reply", err)
}
