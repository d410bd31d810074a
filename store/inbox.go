package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/parleybot/parley"
)

var _ parley.Inbox = (*Store)(nil)

// inboxCond is one condition of an inbox query with its positional
// arguments; needsMention says it reads the newest message (alias m).
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

// filterConds are the conditions of q's filters (not its view).
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
	// Words, handles and dates: the conversations with a matching message.
	where, args := mentionMatch(parley.MentionQuery{Text: q.Text, Since: q.Since, Until: q.Until}, "x", "xp")
	if len(where) > 0 {
		out = append(out, inboxCond{sql: `c.id IN (SELECT x.thread_id FROM mentions x JOIN people xp ON xp.id = x.person_id
			WHERE ` + strings.Join(where, " AND ") + `)`, args: args})
	}
	return out
}

// inboxSQL builds a query over the conversations conds select: FROM and
// WHERE, with the joins the conditions need (all when full).
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

// urgent reports whether view lists most urgent first (else newest).
func urgent(view parley.ConversationView) bool {
	return view == parley.ViewNeedsReply || view == parley.ViewMine || view == parley.ViewUnassigned
}

// InboxPage implements parley.Inbox.
func (s *Store) InboxPage(ctx context.Context, q parley.InboxQuery) (parley.InboxPage, error) {
	var page parley.InboxPage
	now := q.Now
	if now.IsZero() {
		now = s.now()
	}
	view := q.View
	if view == "" {
		view = parley.ViewNeedsReply
	}
	vc, err := viewCond(view, q.User, ms(now))
	if err != nil {
		return page, err
	}
	filters := filterConds(q, ms(now))
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	o := recencyOrder
	if urgent(view) {
		o = urgencyOrder
	}
	nkeys := o.n
	if view == parley.ViewClosed {
		// Walk the newest-first index and skip the few open ones rather
		// than sort every closed conversation (the + keeps the planner
		// off the state index).
		vc.sql = `+c.state = 'closed'`
	}
	conds := append([]inboxCond{vc}, filters...)
	if q.After != "" {
		after, err := parseCursor(q.After, nkeys)
		if err != nil {
			return page, err
		}
		conds = append(conds, inboxCond{sql: `(` + o.keys + `) ` + o.after + ` (` + placeholders(nkeys) + `)`, args: after})
	}
	from, args := inboxSQL(conds, true)
	rows, err := s.rdb.QueryContext(ctx, `SELECT c.id, c.last_mention_id, `+o.keys+from+` ORDER BY `+o.orderBy+` LIMIT ?`,
		append(args, limit+1)...)
	if err != nil {
		return page, fmt.Errorf("inbox: %w", err)
	}
	var ids, mids []int64
	var last []int64
	for rows.Next() {
		var id, mid int64
		k := make([]int64, nkeys)
		dest := []any{&id, &mid}
		for i := range k {
			dest = append(dest, &k[i])
		}
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return page, fmt.Errorf("inbox: %w", err)
		}
		if len(ids) == limit {
			page.Next = formatCursor(last)
			break
		}
		ids, mids, last = append(ids, id), append(mids, mid), k
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("inbox: %w", err)
	}
	if page.Rows, err = s.inboxRows(ctx, ids, mids); err != nil {
		return page, err
	}
	page.Counts, err = s.inboxCounts(ctx, q, filters, ms(now))
	return page, err
}

// inboxRows loads the conversations ids with their newest messages mids,
// in the order given.
func (s *Store) inboxRows(ctx context.Context, ids, mids []int64) ([]parley.InboxRow, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	in, args := idList(append([]int64(nil), ids...))
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+conversationColumns+conversationFrom+` WHERE c.id IN `+in, args...)
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

// inboxCounts counts each inbox view with the query's filters.
func (s *Store) inboxCounts(ctx context.Context, q parley.InboxQuery, filters []inboxCond, now int64) (map[parley.ConversationView]int, error) {
	counts := map[parley.ConversationView]int{}
	for _, v := range parley.InboxViews {
		if v == parley.ViewMine && strings.TrimSpace(q.User) == "" {
			continue
		}
		vc, err := viewCond(v, q.User, now)
		if err != nil {
			return nil, err
		}
		from, args := inboxSQL(append([]inboxCond{vc}, filters...), false)
		var n int
		if err := s.rdb.QueryRowContext(ctx, `SELECT count(*)`+from, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("inbox count %s: %w", v, err)
		}
		counts[v] = n
	}
	return counts, nil
}

// formatCursor writes a page's last sort keys as a cursor.
func formatCursor(keys []int64) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.FormatInt(k, 10)
	}
	return strings.Join(parts, ".")
}

// parseCursor reads a cursor of n keys.
func parseCursor(s string, n int) ([]any, error) {
	parts := strings.Split(s, ".")
	if len(parts) != n {
		return nil, parley.Errorf(parley.EINVALID, "page cursor %q is not one of this view's (follow the Next link again from the first page)", s)
	}
	out := make([]any, n)
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return nil, parley.Errorf(parley.EINVALID, "page cursor %q: %q is not a number", s, p)
		}
		out[i] = v
	}
	return out, nil
}

// InboxVersion implements parley.Inbox: the newest mention, audit entry
// (every change to a conversation writes one) and draft change.
func (s *Store) InboxVersion(ctx context.Context) (string, error) {
	var m, a, d int64
	err := s.rdb.QueryRowContext(ctx, `SELECT coalesce((SELECT max(id) FROM mentions), 0),
		coalesce((SELECT max(id) FROM audit), 0), coalesce((SELECT max(updated_at) FROM drafts), 0)`).Scan(&m, &a, &d)
	if err != nil {
		return "", fmt.Errorf("inbox version: %w", err)
	}
	return formatCursor([]int64{m, a, d}), nil
}
