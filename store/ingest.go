package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// IngestBatch implements parley.MentionStore.
//
// It is built for throughput: the transaction takes the write lock at once
// (BEGIN IMMEDIATE), reads what it needs for the whole batch in a few
// queries (known mentions, people, parent posts, threads), works out people,
// threads, history and drafts in memory, then writes each table with
// multi-row statements. Holding the write lock makes the ids it hands out
// (max(id)+1...) safe. A statement per mention would be several times slower.
func (s *Store) IngestBatch(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc) (parley.IngestResult, error) {
	var res parley.IngestResult
	if len(batch) == 0 {
		return res, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, dbError("begin ingest", err)
	}
	defer tx.Rollback()
	in := &ingest{ctx: ctx, tx: tx, now: s.now().UTC(), s: s}
	res, err = in.run(batch, decide)
	if err != nil {
		return parley.IngestResult{}, dbError("ingest", err)
	}
	if err := tx.Commit(); err != nil {
		return parley.IngestResult{}, dbError("commit ingest", err)
	}
	s.cacheStmts(ctx, in.uncached)
	return res, nil
}

type pkey struct{ platform, id string }

type personState struct {
	p       parley.Person
	pending int  // drafts waiting for approval
	queued  bool // in ingest.order, to be written
}

type threadState struct {
	t       parley.Thread
	replies int  // our replies, sent or on their way
	queued  bool // in ingest.torder, to be written
}

type ingest struct {
	s        *Store
	ctx      context.Context
	tx       *sql.Tx
	uncached []string // statements prepared on tx, to cache after it
	now      time.Time

	known   map[pkey]bool          // mentions already stored
	people  map[pkey]*personState  // by platform and external id
	parents map[pkey]int64         // thread of stored posts (mentions and our replies) by platform and id
	byKey   map[pkey]*threadState  // threads by platform and root key
	byID    map[int64]*threadState // threads by id
	order   []*personState         // people touched, in order
	torder  []*threadState         // threads touched, in order
	nextID  struct{ person, thread, mention, draft int64 }
}

func (in *ingest) run(batch []*parley.Mention, decide parley.DecideFunc) (parley.IngestResult, error) {
	var res parley.IngestResult
	if err := in.load(batch); err != nil {
		return res, err
	}
	var (
		stored []*parley.Mention
		drafts []parley.Draft
		seen   = make(map[pkey]bool, len(batch))
	)
	for _, m := range batch {
		k := pkey{m.Platform, m.ExternalID}
		if seen[k] || in.known[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		ds := in.place(m, decide)
		stored = append(stored, m)
		for _, d := range ds {
			res.DraftIDs = append(res.DraftIDs, d.ID)
		}
		drafts = append(drafts, ds...)
	}
	res.Stored, res.Drafts = len(stored), len(drafts)
	if len(stored) == 0 {
		res.DraftIDs = nil
		return res, nil
	}
	if err := in.write(stored, drafts); err != nil {
		return parley.IngestResult{}, err
	}
	return res, nil
}

// place works out a new mention's person, thread, history and drafts in
// memory, and gives it its ids.
func (in *ingest) place(m *parley.Mention, decide parley.DecideFunc) []parley.Draft {
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = in.now
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = m.ReceivedAt
	}
	if !m.Sentiment.Label.Valid() {
		m.Sentiment.Label = parley.Neutral
	}
	var h parley.History

	// The person: the rules see the fresh profile with the earlier counts.
	pk := pkey{m.Platform, m.Author.ExternalID}
	ps := in.people[pk]
	if ps == nil {
		in.nextID.person++
		a := m.Author
		ps = &personState{p: parley.Person{
			ID: in.nextID.person, Platform: m.Platform, ExternalID: a.ExternalID,
			FirstSeen: m.CreatedAt, LastSeen: m.CreatedAt,
		}}
		in.people[pk] = ps
	}
	if !ps.queued {
		ps.queued = true
		in.order = append(in.order, ps)
	}
	p := &ps.p
	a := m.Author
	if a.Handle != "" {
		p.Handle = a.Handle
	}
	if a.Name != "" {
		p.Name = a.Name
	}
	if a.Followers > 0 {
		p.Followers = a.Followers
	}
	p.NoBot = a.NoBot
	if a.TimeZone != "" {
		p.TimeZone = a.TimeZone
	}
	h.Person = *p
	h.PendingDrafts = ps.pending
	if m.CreatedAt.Before(p.FirstSeen) {
		p.FirstSeen = m.CreatedAt
	}
	if !m.CreatedAt.Before(p.LastSeen) || p.Mentions == 0 {
		p.LastSeen = m.CreatedAt
		p.LastSentiment = m.Sentiment.Label
	}
	p.Mentions++
	switch m.Sentiment.Label {
	case parley.Positive:
		p.Positive++
	case parley.Negative:
		p.Negative++
	default:
		p.Neutral++
	}
	m.PersonID, m.Author.ID = p.ID, p.ID

	// The thread: named by the connector, else the thread of the post this
	// one answers (a stored mention or one of our own replies), else a
	// thread rooted at the answered post's id (which the answered post
	// joins when it arrives later), else a new thread rooted here.
	var ts *threadState
	if m.ThreadKey == "" && m.InReplyTo != "" {
		if id, ok := in.parents[pkey{m.Platform, m.InReplyTo}]; ok {
			ts = in.byID[id]
		}
	}
	if ts == nil {
		root := m.ThreadKey
		if root == "" {
			root = m.InReplyTo
		}
		if root == "" {
			root = m.ExternalID
		}
		tk := pkey{m.Platform, root}
		ts = in.byKey[tk]
		if ts == nil {
			in.nextID.thread++
			ts = &threadState{t: parley.Thread{ID: in.nextID.thread, Platform: m.Platform, RootKey: root,
				Channel: m.Channel, StartedAt: m.CreatedAt, LastAt: m.CreatedAt}}
			in.byKey[tk] = ts
			in.byID[ts.t.ID] = ts
		}
	}
	if !ts.queued {
		ts.queued = true
		in.torder = append(in.torder, ts)
	}
	h.ThreadMentions, h.RepliesInThread = ts.t.Mentions, ts.replies
	ts.t.Mentions++
	if m.CreatedAt.Before(ts.t.StartedAt) {
		ts.t.StartedAt = m.CreatedAt
	}
	if m.CreatedAt.After(ts.t.LastAt) {
		ts.t.LastAt = m.CreatedAt
	}
	m.ThreadID = ts.t.ID
	in.parents[pkey{m.Platform, m.ExternalID}] = ts.t.ID

	in.nextID.mention++
	m.ID = in.nextID.mention
	if decide == nil {
		return nil
	}
	drafts := decide(m, h)
	for i := range drafts {
		d := &drafts[i]
		in.nextID.draft++
		d.ID = in.nextID.draft
		if d.Kind == "" {
			d.Kind = parley.KindReply
		}
		if d.State == "" {
			d.State = parley.DraftPending
		}
		d.Platform, d.MentionID, d.PersonID, d.ThreadID = m.Platform, m.ID, m.PersonID, m.ThreadID
		if d.PersonID == 0 {
			d.PersonID = m.PersonID
		}
		d.CreatedAt, d.UpdatedAt = in.now, in.now
		if d.State == parley.DraftApproved {
			d.DecidedBy, d.DecidedAt = "rule:"+d.Rule, in.now
		}
		if d.Kind == parley.KindReply {
			ts.replies++
		}
		if d.State == parley.DraftPending {
			ps.pending++
		}
	}
	return drafts
}

// load reads, for the whole batch, the mentions already stored, the people,
// the answered posts and the threads it touches, and the next free ids.
func (in *ingest) load(batch []*parley.Mention) error {
	in.known = map[pkey]bool{}
	in.people = map[pkey]*personState{}
	in.parents = map[pkey]int64{}
	in.byKey = map[pkey]*threadState{}
	in.byID = map[int64]*threadState{}

	ids := map[string][]any{}     // platform -> mention ids
	authors := map[string][]any{} // platform -> author ids
	replyTo := map[string][]any{} // platform -> answered ids
	roots := map[string][]any{}   // platform -> candidate thread root keys
	for _, m := range batch {
		ids[m.Platform] = append(ids[m.Platform], m.ExternalID)
		authors[m.Platform] = append(authors[m.Platform], m.Author.ExternalID)
		switch {
		case m.ThreadKey != "":
			roots[m.Platform] = append(roots[m.Platform], m.ThreadKey)
		case m.InReplyTo != "":
			replyTo[m.Platform] = append(replyTo[m.Platform], m.InReplyTo)
			roots[m.Platform] = append(roots[m.Platform], m.InReplyTo)
		default:
			roots[m.Platform] = append(roots[m.Platform], m.ExternalID)
		}
	}
	for platform, list := range ids {
		if err := in.each(`SELECT external_id FROM mentions WHERE platform = ? AND external_id IN`, platform, list,
			func(rows *sql.Rows) error {
				var id string
				if err := rows.Scan(&id); err != nil {
					return err
				}
				in.known[pkey{platform, id}] = true
				return nil
			}); err != nil {
			return fmt.Errorf("find stored mentions: %w", err)
		}
	}
	for platform, list := range authors {
		if err := in.each(`SELECT `+personColumns+`, (SELECT count(*) FROM drafts d WHERE d.person_id = people.id AND d.state = 'pending')
			FROM people WHERE platform = ? AND external_id IN`, platform, list, func(rows *sql.Rows) error {
			var pending int
			p, err := scanPerson(rowsWithExtra{rows, &pending})
			if err != nil {
				return err
			}
			in.people[pkey{platform, p.ExternalID}] = &personState{p: p, pending: pending}
			return nil
		}); err != nil {
			return fmt.Errorf("find people: %w", err)
		}
	}
	threadIDs := map[int64]bool{}
	for platform, list := range replyTo {
		for _, q := range []string{
			`SELECT external_id, thread_id FROM mentions WHERE platform = ? AND external_id IN`,
			`SELECT posted_id, thread_id FROM drafts WHERE thread_id IS NOT NULL AND posted_id != '' AND platform = ? AND posted_id IN`,
		} {
			if err := in.each(q, platform, list, func(rows *sql.Rows) error {
				var id string
				var tid int64
				if err := rows.Scan(&id, &tid); err != nil {
					return err
				}
				in.parents[pkey{platform, id}] = tid
				threadIDs[tid] = true
				return nil
			}); err != nil {
				return fmt.Errorf("find answered posts: %w", err)
			}
		}
	}
	addThread := func(rows *sql.Rows) error {
		var t parley.Thread
		var started, last int64
		if err := rows.Scan(&t.ID, &t.Platform, &t.RootKey, &t.Channel, &started, &last, &t.Mentions); err != nil {
			return err
		}
		t.StartedAt, t.LastAt = fromMS(started), fromMS(last)
		ts := &threadState{t: t}
		in.byKey[pkey{t.Platform, t.RootKey}] = ts
		in.byID[t.ID] = ts
		return nil
	}
	const threadCols = `SELECT id, platform, root_key, channel, started_at, last_at, mentions FROM threads WHERE `
	for platform, list := range roots {
		if err := in.each(threadCols+`platform = ? AND root_key IN`, platform, list, addThread); err != nil {
			return fmt.Errorf("find threads: %w", err)
		}
	}
	var byID []any
	for id := range threadIDs {
		if in.byID[id] == nil {
			byID = append(byID, id)
		}
	}
	if err := in.each(threadCols+`id IN`, nil, byID, addThread); err != nil {
		return fmt.Errorf("find threads: %w", err)
	}
	var known []any
	for id := range in.byID {
		known = append(known, id)
	}
	if err := in.each(`SELECT thread_id, count(*) FROM drafts WHERE kind = 'reply' AND state NOT IN ('rejected', 'failed')
		AND thread_id IN`, nil, known, func(rows *sql.Rows) error {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		in.byID[id].replies = n
		return nil
	}, " GROUP BY thread_id"); err != nil {
		return fmt.Errorf("count thread replies: %w", err)
	}
	for _, t := range []struct {
		table string
		dst   *int64
	}{{"people", &in.nextID.person}, {"threads", &in.nextID.thread}, {"mentions", &in.nextID.mention}, {"drafts", &in.nextID.draft}} {
		if err := in.tx.QueryRowContext(in.ctx, `SELECT coalesce(max(id), 0) FROM `+t.table).Scan(t.dst); err != nil {
			return fmt.Errorf("next id of %s: %w", t.table, err)
		}
	}
	return nil
}

// rowsWithExtra scans a person row followed by one extra column.
type rowsWithExtra struct {
	rows  *sql.Rows
	extra any
}

func (r rowsWithExtra) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.extra)...) }

// inBuckets are the sizes of the IN (...) lists ingest queries use: a
// list is padded to the next size with a repeat of its first value, so a
// handful of prepared statements serve every batch. Parsing a fresh
// statement per batch costs more than running it.
var inBuckets = []int{8, 64, 512}

// each runs query + " (?, ?, ...)" + suffix over values in chunks, calling
// fn for every row. A non-nil platform is bound before the values.
func (in *ingest) each(query string, platform any, values []any, fn func(*sql.Rows) error, suffix ...string) error {
	big := inBuckets[len(inBuckets)-1]
	for start := 0; start < len(values); start += big {
		chunk := values[start:min(start+big, len(values))]
		size := big
		for _, b := range inBuckets {
			if len(chunk) <= b {
				size = b
				break
			}
		}
		args := make([]any, 0, size+1)
		if platform != nil {
			args = append(args, platform)
		}
		args = append(args, chunk...)
		for range size - len(chunk) {
			args = append(args, chunk[0])
		}
		stmt, err := in.stmt(query + " (" + placeholders(size) + ")" + strings.Join(suffix, ""))
		if err != nil {
			return err
		}
		rows, err := stmt.QueryContext(in.ctx, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// stmt returns the cached prepared statement for q bound to this
// transaction. A statement not yet cached is prepared on the transaction
// and remembered, to be cached once the transaction has released the
// writer connection (preparing on the pool now would wait for it forever).
func (in *ingest) stmt(q string) (*sql.Stmt, error) {
	in.s.stmtMu.Lock()
	st, ok := in.s.stmts[q]
	in.s.stmtMu.Unlock()
	if ok {
		return in.tx.StmtContext(in.ctx, st), nil
	}
	in.uncached = append(in.uncached, q)
	return in.tx.PrepareContext(in.ctx, q)
}

// cacheStmts prepares qs on the writer pool for later batches.
func (s *Store) cacheStmts(ctx context.Context, qs []string) {
	for _, q := range qs {
		st, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			s.logger.Warn("prepare ingest statement", "err", err)
			return
		}
		s.stmtMu.Lock()
		if old, ok := s.stmts[q]; ok {
			old.Close()
		}
		s.stmts[q] = st
		s.stmtMu.Unlock()
	}
}

func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// rowBuckets are the row counts of the multi-row INSERT statements.
var rowBuckets = []int{64, 16, 4, 1}

// insertRows writes rows with cached multi-row INSERT statements.
func (in *ingest) insertRows(head string, cols int, tail string, rows [][]any) error {
	row := "(" + placeholders(cols) + ")"
	for len(rows) > 0 {
		n := 1
		for _, b := range rowBuckets {
			if len(rows) >= b {
				n = b
				break
			}
		}
		chunk := rows[:n]
		rows = rows[n:]
		q := head + " VALUES " + strings.Repeat(row+",", n-1) + row + tail
		stmt, err := in.stmt(q)
		if err != nil {
			return err
		}
		args := make([]any, 0, n*cols)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := stmt.ExecContext(in.ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

func (in *ingest) write(stored []*parley.Mention, drafts []parley.Draft) error {
	people := make([][]any, 0, len(in.order))
	for _, ps := range in.order {
		p := ps.p
		people = append(people, []any{p.ID, p.Platform, p.ExternalID, p.Handle, p.Name, p.Followers, b2i(p.NoBot),
			p.TimeZone, ms(p.FirstSeen), ms(p.LastSeen), p.Mentions, p.Positive, p.Negative, p.Neutral,
			string(p.LastSentiment)})
	}
	if err := in.insertRows(`INSERT INTO people (id, platform, external_id, handle, name, followers, nobot, timezone,
		first_seen, last_seen, mentions, positive, negative, neutral, last_sentiment)`, 15,
		` ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name, followers = excluded.followers,
		nobot = excluded.nobot, timezone = excluded.timezone, first_seen = excluded.first_seen,
		last_seen = excluded.last_seen, mentions = excluded.mentions, positive = excluded.positive,
		negative = excluded.negative, neutral = excluded.neutral, last_sentiment = excluded.last_sentiment`,
		people); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	threads := make([][]any, 0, len(in.torder))
	for _, ts := range in.torder {
		t := ts.t
		threads = append(threads, []any{t.ID, t.Platform, t.RootKey, t.Channel, ms(t.StartedAt), ms(t.LastAt), t.Mentions})
	}
	if err := in.insertRows(`INSERT INTO threads (id, platform, root_key, channel, started_at, last_at, mentions)`, 7,
		` ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, last_at = excluded.last_at,
		mentions = excluded.mentions`, threads); err != nil {
		return fmt.Errorf("write threads: %w", err)
	}
	mentions := make([][]any, 0, len(stored))
	for _, m := range stored {
		mentions = append(mentions, []any{m.ID, m.Platform, m.Account, m.ExternalID, m.PersonID, m.ThreadID, m.Text,
			ms(m.CreatedAt), ms(m.ReceivedAt), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, b2i(m.Direct),
			string(m.Sentiment.Label), m.Sentiment.Score, m.Sentiment.Confidence, m.Sentiment.Model,
			joinList(m.Sentiment.Overrides), m.Priority, joinList(m.Tags), joinList(m.Rules), b2i(m.Ignored)})
	}
	if err := in.insertRows(`INSERT INTO mentions (id, platform, account, external_id, person_id, thread_id, text, created_at,
		received_at, in_reply_to, url, channel, visibility, lang, direct, sentiment, score, confidence, model, overrides,
		priority, tags, rules, ignored)`, 24, "", mentions); err != nil {
		return fmt.Errorf("write mentions: %w", err)
	}
	if len(drafts) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(drafts))
	var audit [][]any
	for _, d := range drafts {
		rows = append(rows, []any{d.ID, d.Kind, string(d.State), d.Platform, d.MentionID, d.PersonID, d.ThreadID, d.Rule,
			d.Text, d.Priority, b2i(d.AutoApprove), ms(d.CreatedAt), ms(d.UpdatedAt), d.DecidedBy, ms(d.DecidedAt)})
		if d.State == parley.DraftApproved {
			audit = append(audit, []any{ms(in.now), d.DecidedBy, "approve", d.ID, d.PersonID, "auto-approved by rule " + d.Rule})
		}
	}
	if err := in.insertRows(`INSERT INTO drafts (id, kind, state, platform, mention_id, person_id, thread_id, rule, text,
		priority, auto_approve, created_at, updated_at, decided_by, decided_at)`, 15, "", rows); err != nil {
		return fmt.Errorf("write drafts: %w", err)
	}
	if err := in.insertRows(`INSERT INTO audit (at, actor, action, draft_id, person_id, detail)`, 6, "", audit); err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}
