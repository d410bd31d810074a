package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

var _ parley.Inbox = (*Store)(nil)

// inboxCond is one condition of an inbox query with its positional
// arguments; needsMention says it reads the newest message (alias m).
type inboxCond struct {
	sql          string
	args         []any
	needsMention bool
	needsThread  bool
	// allSQL, when set, is the condition in the count of all
	// conversations, which has no view condition to start its walk from.
	allSQL string
}

// inboxOrder is one order of the inbox: its sort keys, all in one
// direction so one row-value comparison continues after a cursor.
type inboxOrder struct {
	keys, orderBy, after string
	n                    int
}

var (
	urgencyOrder = inboxOrder{keys: `-m.priority, (m.sentiment != 'negative'), c.waiting_since, -p.followers, c.id`,
		orderBy: `-m.priority, (m.sentiment != 'negative'), c.waiting_since, -p.followers, c.id`, after: ">", n: 5}
	// Newest first walks the conversations_recent index backwards.
	recencyOrder = inboxOrder{keys: `c.last_message_at, c.id`, orderBy: `c.last_message_at DESC, c.id DESC`, after: "<", n: 2}
)

// inFlightSQL is true while a reply to the conversation is approved and
// on its way (it leaves the needs-reply views: someone answered).
const inFlightSQL = `EXISTS (SELECT 1 FROM drafts d WHERE d.thread_id = c.id AND d.kind = 'reply' AND d.state IN ('approved', 'sending'))`

// inboxNeedsReply is the needs-reply condition at now (milliseconds).
func inboxNeedsReply(now int64) inboxCond {
	return inboxCond{sql: `(c.state = 'needs_reply' OR (c.state = 'snoozed' AND c.snoozed_until <= ?)) AND NOT ` + inFlightSQL,
		args: []any{now}}
}

// viewCond is the condition selecting view.
func viewCond(view parley.ConversationView, user string, now int64) (inboxCond, error) {
	needs := inboxNeedsReply(now)
	switch view {
	case parley.ViewNeedsReply:
		return needs, nil
	case parley.ViewMine:
		if strings.TrimSpace(user) == "" {
			return needs, parley.Errorf(parley.EINVALID, "the mine view needs a user name")
		}
		return inboxCond{sql: needs.sql + ` AND c.assignee = ? COLLATE NOCASE`, args: append(needs.args, user)}, nil
	case parley.ViewUnassigned:
		return inboxCond{sql: needs.sql + ` AND c.assignee = ''`, args: needs.args}, nil
	case parley.ViewAll:
		return inboxCond{sql: `1`}, nil
	case parley.ViewClosed:
		return inboxCond{sql: `c.state = 'closed'`}, nil
	}
	return needs, parley.Errorf(parley.EINVALID, "inbox view %q: want needs-reply, mine, unassigned, all or closed", view)
}

// filterConds are the conditions of q's filters (not its view, nor its
// words, handles and dates: see inboxMatches).
func filterConds(q parley.InboxQuery, now int64) []inboxCond {
	var out []inboxCond
	if q.Platform != "" {
		// Unary + keeps the planner from walking every thread of the
		// platform (half of them) instead of the view's conversations;
		// the count of all of them starts from the platform's threads.
		out = append(out, inboxCond{sql: `+t.platform = ?`, allSQL: `t.platform = ?`, args: []any{q.Platform}, needsThread: true})
	}
	if q.Sentiment != "" {
		out = append(out, inboxCond{sql: `m.sentiment = ?`, args: []any{string(q.Sentiment)}, needsMention: true})
	}
	if q.Tag != "" {
		out = append(out, inboxCond{sql: `EXISTS (SELECT 1 FROM mentions x WHERE x.thread_id = c.id
			AND instr(',' || x.tags || ',', ',' || ? || ',') > 0)`, args: []any{strings.TrimPrefix(q.Tag, "#")}})
	}
	if q.Rule != "" {
		out = append(out, inboxCond{sql: `EXISTS (SELECT 1 FROM mentions x WHERE x.thread_id = c.id
			AND instr(',' || x.rules || ',', ',' || ? || ',') > 0)`, args: []any{q.Rule}})
	}
	switch q.Assignee {
	case "":
	case "-":
		out = append(out, inboxCond{sql: `c.assignee = ''`})
	default:
		out = append(out, inboxCond{sql: `c.assignee = ? COLLATE NOCASE`, args: []any{q.Assignee}})
	}
	if q.Overdue > 0 {
		needs := inboxNeedsReply(now)
		out = append(out, inboxCond{sql: needs.sql + ` AND c.waiting_since > 0 AND c.waiting_since <= ?`,
			args: append(needs.args, now-q.Overdue.Milliseconds())})
	}
	return out
}

// inboxSQL builds a query over the conversations conds select: FROM and
// WHERE, with the joins the conditions need (and the newest message with
// its author when withMention: the urgency order reads them).
func inboxSQL(conds []inboxCond, withMention bool) (string, []any) {
	mention, thread := withMention, false
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

// InboxPage implements parley.Inbox. A search (words, @handle, #tag,
// dates) is answered first, once, as a set of conversations (those of the
// newest matching messages, see inboxMatches); the list and the counts
// then read only those.
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
		filters = append(filters, matchCond(ids))
	}
	// The counts walk on another reader while the list is read: the two
	// take about as long, and the pool has a connection per core.
	var counts storelogic.InboxCounts
	var countErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		counts, countErr = s.inboxCounts(ctx, q, filters, ms(now))
	}()
	page.Rows, page.Next, err = s.inboxList(ctx, view, vc, filters, o, after, storelogic.InboxLimit(q.Limit))
	<-counted
	if err != nil {
		return page, err
	}
	if countErr != nil {
		return page, countErr
	}
	counts.Partial = page.Partial
	counts.Page(&page)
	return page, nil
}

// matchCond keeps the conversations ids.
func matchCond(ids []int64) inboxCond {
	in, args := idList(slices.Clone(ids))
	return inboxCond{sql: `c.id IN ` + in, args: args}
}

// inboxMatches returns the conversations of the newest messages matching
// q's words, handles, hashtags and dates (at most InboxSearchCap
// messages), newest first, and whether more messages matched. Words walk
// the full-text index newest first; handles without words start from the
// people_handle_nocase index; dates alone from mentions_created.
func (s *Store) inboxMatches(ctx context.Context, q parley.InboxQuery) ([]int64, bool, error) {
	t := mentionTerms(parley.MentionQuery{Text: q.Text, Since: q.Since, Until: q.Until}, "x", "xp")
	most := storelogic.InboxSearchCap + 1
	var query string
	var args []any
	switch {
	case t.fts != "":
		from := `mentions_fts f JOIN mentions x ON x.id = f.rowid`
		if t.handle {
			from += ` JOIN people xp ON xp.id = x.person_id`
		}
		query = `SELECT x.thread_id FROM ` + from + ` WHERE ` + strings.Join(append([]string{`mentions_fts MATCH ?`}, t.where...), " AND ") +
			` ORDER BY f.rowid DESC LIMIT ?`
		args = append(append([]any{t.fts}, t.args...), most)
	case t.handle:
		// The newest ids from the mentions_person index alone (the dates
		// are in it too), then only those rows for their threads.
		query = `SELECT m.thread_id FROM mentions m WHERE m.id IN (SELECT x.id FROM people xp
			JOIN mentions x ON x.person_id = xp.id WHERE ` + strings.Join(t.where, " AND ") + `
			ORDER BY x.id DESC LIMIT ?) ORDER BY m.id DESC`
		args = append(t.args, most)
	case len(t.where) > 0:
		query = `SELECT x.thread_id FROM mentions x WHERE ` + strings.Join(t.where, " AND ") +
			` ORDER BY x.created_at DESC, x.id DESC LIMIT ?`
		args = append(t.args, most)
	default:
		return nil, false, nil
	}
	rows, err := s.inboxQuery(ctx, query, args...)
	if err != nil {
		return nil, false, fmt.Errorf("inbox search: %w", err)
	}
	defer rows.Close()
	var threads []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, false, fmt.Errorf("inbox search: %w", err)
		}
		threads = append(threads, id)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("inbox search: %w", err)
	}
	ids, partial := storelogic.MatchedConversations(threads)
	return ids, partial, nil
}

// inboxList reads one page of view: its rows, and the cursor of the next
// page ("" for the last).
func (s *Store) inboxList(ctx context.Context, view parley.ConversationView, vc inboxCond, filters []inboxCond,
	o inboxOrder, after []any, limit int) ([]parley.InboxRow, string, error) {
	if view == parley.ViewClosed {
		// Walk the newest-first index and skip the few open ones rather
		// than sort every closed conversation (the + keeps the planner
		// off the state index).
		vc.sql = `+c.state = 'closed'`
	}
	conds := append([]inboxCond{vc}, filters...)
	if after != nil {
		conds = append(conds, inboxCond{sql: `(` + o.keys + `) ` + o.after + ` (` + placeholders(o.n) + `)`, args: after})
	}
	from, args := inboxSQL(conds, o.n == urgencyOrder.n)
	rows, err := s.inboxQuery(ctx, `SELECT c.id, c.last_mention_id, `+o.keys+from+` ORDER BY `+o.orderBy+` LIMIT ?`,
		append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("inbox: %w", err)
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
			return nil, "", fmt.Errorf("inbox: %w", err)
		}
		if len(ids) == limit {
			next = storelogic.FormatCursor(last)
			break
		}
		ids, mids, last = append(ids, id), append(mids, mid), k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("inbox: %w", err)
	}
	out, err := s.inboxRows(ctx, ids, mids)
	return out, next, err
}

// inboxRows loads the conversations ids with their newest messages mids,
// in the order given.
func (s *Store) inboxRows(ctx context.Context, ids, mids []int64) ([]parley.InboxRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := idList(append([]int64(nil), ids...))
	rows, err := s.inboxQuery(ctx, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id IN `+in, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox conversations: %w", err)
	}
	convs := map[int64]parley.Conversation{}
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox conversations: %w", err)
		}
		convs[c.ID] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox conversations: %w", err)
	}
	mentions, err := s.mentionsByID(ctx, mids)
	if err != nil {
		return nil, err
	}
	out := make([]parley.InboxRow, 0, len(ids))
	for i, id := range ids {
		out = append(out, parley.InboxRow{Conversation: convs[id], Last: mentions[mids[i]]})
	}
	return out, nil
}

// inboxCounts counts the views with the query's filters in two walks:
// the open conversations (needs-reply, mine and unassigned at once), and
// all of them with the closed ones. Unfiltered, all and closed come from
// conversation_counts (kept by triggers) and the open ones are counted
// exactly; filtered, each walk stops at InboxCountCap.
func (s *Store) inboxCounts(ctx context.Context, q parley.InboxQuery, filters []inboxCond, now int64) (storelogic.InboxCounts, error) {
	c := storelogic.InboxCounts{AskedMine: strings.TrimSpace(q.User) != ""}
	capped := len(filters) > 0
	limit := ``
	if capped {
		limit = ` LIMIT ` + strconv.Itoa(storelogic.InboxCountCap+1)
	}
	from, args := inboxSQL(append([]inboxCond{inboxNeedsReply(now)}, filters...), false)
	var mine, unassigned sql.NullInt64
	err := s.inboxQueryRow(ctx, `SELECT count(*), sum(assignee = ''), sum(assignee = ? COLLATE NOCASE)
		FROM (SELECT c.assignee`+from+limit+`)`, append([]any{q.User}, args...)...).Scan(&c.Needs, &unassigned, &mine)
	if err != nil {
		return c, fmt.Errorf("inbox counts: %w", err)
	}
	c.Unassigned, c.Mine = int(unassigned.Int64), int(mine.Int64)
	if capped {
		c.Needs, c.NeedsMore = storelogic.CappedCount(c.Needs)
		all := []inboxCond{{sql: `1`}}
		for _, f := range filters {
			if f.allSQL != "" {
				f.sql = f.allSQL
			}
			all = append(all, f)
		}
		from, args := inboxSQL(all, false)
		err = s.inboxQueryRow(ctx, `SELECT count(*), coalesce(sum(state = 'closed'), 0)
			FROM (SELECT c.state`+from+limit+`)`, args...).Scan(&c.All, &c.Closed)
		c.All, c.AllMore = storelogic.CappedCount(c.All)
	} else {
		err = s.inboxQueryRow(ctx, `SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE state = 'closed'), 0)
			FROM conversation_counts`).Scan(&c.All, &c.Closed)
	}
	if err != nil {
		return c, fmt.Errorf("inbox counts: %w", err)
	}
	return c, nil
}

// InboxVersion implements parley.Inbox: the newest mention, audit entry
// (every change to a conversation writes one) and draft change.
func (s *Store) InboxVersion(ctx context.Context) (string, error) {
	var m, a, d int64
	err := s.inboxQueryRow(ctx, `SELECT coalesce((SELECT max(id) FROM mentions), 0),
		coalesce((SELECT max(id) FROM audit), 0), coalesce((SELECT max(updated_at) FROM drafts), 0)`).Scan(&m, &a, &d)
	if err != nil {
		return "", fmt.Errorf("inbox version: %w", err)
	}
	return storelogic.FormatCursor([]int64{m, a, d}), nil
}

// NeedsReplyCount implements parley.Inbox.
func (s *Store) NeedsReplyCount(ctx context.Context, most int) (int, error) {
	c := inboxNeedsReply(ms(s.now()))
	var n int
	err := s.inboxQueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM conversations c WHERE `+c.sql+` LIMIT ?)`,
		append(c.args, most)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count conversations needing a reply: %w", err)
	}
	return n, nil
}

// inboxQuery runs one of the inbox's queries on a reader.
func (s *Store) inboxQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s.inboxTrace != nil {
		s.inboxTrace(query, args)
	}
	return s.rdb.QueryContext(ctx, query, args...)
}

// inboxQueryRow is inboxQuery for one row.
func (s *Store) inboxQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if s.inboxTrace != nil {
		s.inboxTrace(query, args)
	}
	return s.rdb.QueryRowContext(ctx, query, args...)
}
