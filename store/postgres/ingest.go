package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

// ingestLock is the transaction-level advisory lock every ingest takes:
// batches from several processes are written one after the other, so each
// sees the people, threads and pending drafts the one before wrote.
const ingestLock = 0x7061726c6579_01

// IngestBatch implements parley.MentionStore: one transaction reads what
// the batch needs in a few queries, decides every new mention in order in
// memory, and writes the rows with multi-row upserts and COPY.
func (s *Store) IngestBatch(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc) (parley.IngestResult, error) {
	var res parley.IngestResult
	if len(batch) == 0 {
		return res, nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(ingestLock)); err != nil {
			return err
		}
		in := &ingest{ctx: ctx, tx: tx, now: s.now().UTC().Truncate(time.Millisecond)}
		if err := in.load(batch); err != nil {
			return err
		}
		var err error
		if res, err = in.work(batch, decide); err != nil || res.Stored == 0 {
			return err
		}
		return in.write()
	})
	if err != nil {
		return parley.IngestResult{}, dbError("ingest", err)
	}
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
	replies int  // our replies, sent or on their way, and a person's pending edit
	queued  bool // in ingest.torder, to be written
	conv    parley.Conversation
	pending pendingReply // the conversation's pending reply draft, if any
	last    string       // the text of our last sent reply
}

// pendingReply is a conversation's one pending reply draft: stored (draft
// nil) or queued by this batch.
type pendingReply struct {
	id       int64
	personID int64
	edited   bool          // a person wrote it: it is never replaced by a rule's
	at       time.Time     // when the mention it answers was posted
	draft    *parley.Draft // queued by this batch, else nil
}

type ingest struct {
	ctx context.Context
	tx  pgx.Tx
	now time.Time

	known    map[pkey]bool          // mentions already stored
	people   map[pkey]*personState  // by platform and external id
	parents  map[pkey]int64         // thread of stored posts (mentions and our replies) by platform and id
	byKey    map[pkey]*threadState  // threads by platform and root key
	byID     map[int64]*threadState // threads by id
	byPerson map[int64]*personState
	order    []*personState // people touched, in order
	torder   []*threadState // threads touched, in order
	ids      map[string][]int64

	stored     []*parley.Mention
	drafts     []parley.Draft
	superseded []int64
	flagged    map[int64]int64
}

// nextID returns a fresh id from the sequence of table, fetching them
// from PostgreSQL in blocks.
func (in *ingest) nextID(table string) (int64, error) {
	if len(in.ids[table]) == 0 {
		rows, err := in.tx.Query(in.ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`,
			table, 64)
		if err != nil {
			return 0, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return 0, err
		}
		slices.Sort(ids)
		in.ids[table] = ids
	}
	id := in.ids[table][0]
	in.ids[table] = in.ids[table][1:]
	return id, nil
}

// keys is a list of (platform, value) pairs as two arrays for unnest.
type keys struct {
	platforms, values []string
	seen              map[pkey]bool
}

func (k *keys) add(platform, v string) {
	if k.seen == nil {
		k.seen = map[pkey]bool{}
	}
	if key := (pkey{platform, v}); !k.seen[key] {
		k.seen[key] = true
		k.platforms, k.values = append(k.platforms, platform), append(k.values, v)
	}
}

// load reads what the batch needs: the mentions already stored, the
// authors, the threads the mentions join and their conversations.
func (in *ingest) load(batch []*parley.Mention) error {
	in.known, in.people, in.parents = map[pkey]bool{}, map[pkey]*personState{}, map[pkey]int64{}
	in.byKey, in.byID, in.byPerson = map[pkey]*threadState{}, map[int64]*threadState{}, map[int64]*personState{}
	in.ids = map[string][]int64{}
	var ids, authors, replyTo, roots keys
	for _, m := range batch {
		ids.add(m.Platform, m.ExternalID)
		authors.add(m.Platform, m.Author.ExternalID)
		switch {
		case m.ThreadKey != "":
			roots.add(m.Platform, m.ThreadKey)
		case m.InReplyTo != "":
			replyTo.add(m.Platform, m.InReplyTo)
			roots.add(m.Platform, m.InReplyTo)
		default:
			roots.add(m.Platform, m.ExternalID)
		}
	}
	if err := in.each(`SELECT platform, external_id FROM mentions WHERE (platform, external_id) IN
		(SELECT * FROM unnest($1::text[], $2::text[]))`, ids, func(r pgx.Rows) error {
		var k pkey
		if err := r.Scan(&k.platform, &k.id); err != nil {
			return err
		}
		in.known[k] = true
		return nil
	}); err != nil {
		return fmt.Errorf("find stored mentions: %w", err)
	}
	if err := in.each(`SELECT `+personColumns+`, (SELECT count(*) FROM drafts d WHERE d.person_id = people.id
		AND d.state = 'pending') FROM people WHERE (platform, external_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
		authors, func(r pgx.Rows) error {
			var pending int
			p, err := scanPerson(rowWithExtra{r, &pending})
			if err != nil {
				return err
			}
			ps := &personState{p: p, pending: pending}
			in.people[pkey{p.Platform, p.ExternalID}], in.byPerson[p.ID] = ps, ps
			return nil
		}); err != nil {
		return fmt.Errorf("find people: %w", err)
	}
	var threadIDs []int64
	for _, q := range []string{
		`SELECT platform, external_id, thread_id FROM mentions WHERE (platform, external_id) IN
			(SELECT * FROM unnest($1::text[], $2::text[]))`,
		`SELECT platform, posted_id, thread_id FROM drafts WHERE thread_id IS NOT NULL AND posted_id != ''
			AND (platform, posted_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
	} {
		if err := in.each(q, replyTo, func(r pgx.Rows) error {
			var k pkey
			var tid int64
			if err := r.Scan(&k.platform, &k.id, &tid); err != nil {
				return err
			}
			if _, ok := in.parents[k]; !ok {
				in.parents[k] = tid
			}
			threadIDs = append(threadIDs, tid)
			return nil
		}); err != nil {
			return fmt.Errorf("find answered posts: %w", err)
		}
	}
	return in.loadThreads(roots, threadIDs)
}

// rowWithExtra scans a row with one more column after the ones asked for.
type rowWithExtra struct {
	row   pgx.Row
	extra any
}

func (r rowWithExtra) Scan(dest ...any) error { return r.row.Scan(append(dest, r.extra)...) }

// each runs q with k's two arrays and calls fn for every row.
func (in *ingest) each(q string, k keys, fn func(pgx.Rows) error) error {
	if len(k.values) == 0 {
		return nil
	}
	rows, err := in.tx.Query(in.ctx, q, k.platforms, k.values)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

const threadColumns = `SELECT t.id, t.platform, t.root_key, t.channel, t.started_at, t.last_at, t.mentions,
	coalesce(c.state, 'closed'), coalesce(c.assignee, ''), coalesce(c.snoozed_until, 0), coalesce(c.messages, 0),
	coalesce(c.last_mention_id, 0), coalesce(c.person_id, 0), coalesce(c.last_message_at, 0),
	coalesce(c.first_message_at, 0), coalesce(c.waiting_since, 0), coalesce(c.first_response_at, 0),
	coalesce(c.last_response_at, 0)
	FROM threads t LEFT JOIN conversations c ON c.id = t.id WHERE `

// loadThreads reads the threads rooted at roots or with the given ids,
// their conversations, and our replies in them.
func (in *ingest) loadThreads(roots keys, ids []int64) error {
	add := func(r pgx.Rows) error {
		var t parley.Thread
		var c parley.Conversation
		var state string
		var started, last, snoozed, lastMsg, firstMsg, waiting, firstResp, lastResp int64
		if err := r.Scan(&t.ID, &t.Platform, &t.RootKey, &t.Channel, &started, &last, &t.Mentions,
			&state, &c.Assignee, &snoozed, &c.Messages, &c.LastMentionID, &c.PersonID, &lastMsg, &firstMsg, &waiting,
			&firstResp, &lastResp); err != nil {
			return err
		}
		if in.byID[t.ID] != nil {
			return nil
		}
		t.StartedAt, t.LastAt = fromMS(started), fromMS(last)
		c.ID, c.Platform, c.Channel, c.State = t.ID, t.Platform, t.Channel, parley.ConversationState(state)
		c.SnoozedUntil, c.LastMessageAt, c.FirstMessageAt = fromMS(snoozed), fromMS(lastMsg), fromMS(firstMsg)
		c.WaitingSince, c.FirstResponseAt, c.LastResponseAt = fromMS(waiting), fromMS(firstResp), fromMS(lastResp)
		ts := &threadState{t: t, conv: c}
		in.byKey[pkey{t.Platform, t.RootKey}], in.byID[t.ID] = ts, ts
		return nil
	}
	if err := in.each(threadColumns+`(t.platform, t.root_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
		roots, add); err != nil {
		return fmt.Errorf("find threads: %w", err)
	}
	if len(ids) > 0 {
		rows, err := in.tx.Query(in.ctx, threadColumns+`t.id = ANY($1)`, ids)
		if err != nil {
			return fmt.Errorf("find threads: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := add(rows); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find threads: %w", err)
		}
	}
	return in.loadReplies()
}

// loadReplies reads, for the threads loaded, our replies that count (sent,
// on their way, or a person's pending edit), the pending reply and the
// text of the last reply sent.
func (in *ingest) loadReplies() error {
	if len(in.byID) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(in.byID))
	for id := range in.byID {
		ids = append(ids, id)
	}
	rows, err := in.tx.Query(in.ctx, `SELECT d.thread_id, count(*) FILTER (WHERE d.state != 'pending' OR d.written_by != ''),
		coalesce(max(d.id) FILTER (WHERE d.state = 'pending'), 0),
		coalesce(max(d.person_id) FILTER (WHERE d.state = 'pending'), 0),
		coalesce(bool_or(d.written_by != '') FILTER (WHERE d.state = 'pending'), false),
		coalesce(max(m.created_at) FILTER (WHERE d.state = 'pending'), 0)
		FROM drafts d LEFT JOIN mentions m ON m.id = d.mention_id
		WHERE d.kind = 'reply' AND d.state IN ('pending', 'approved', 'sending', 'sent') AND d.thread_id = ANY($1)
		GROUP BY d.thread_id`, ids)
	if err != nil {
		return fmt.Errorf("count thread replies: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, at int64
		var n int
		var r pendingReply
		if err := rows.Scan(&id, &n, &r.id, &r.personID, &r.edited, &at); err != nil {
			return err
		}
		r.at = fromMS(at)
		ts := in.byID[id]
		ts.replies, ts.pending = n, r
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("count thread replies: %w", err)
	}
	rows.Close()
	rows, err = in.tx.Query(in.ctx, `SELECT DISTINCT ON (thread_id) thread_id, text FROM drafts
		WHERE kind = 'reply' AND state = 'sent' AND thread_id = ANY($1) ORDER BY thread_id, sent_at DESC, id DESC`, ids)
	if err != nil {
		return fmt.Errorf("last reply: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return err
		}
		in.byID[id].last = text
	}
	return rows.Err()
}

// work skips the duplicates, places the new mentions (people, threads,
// ids, history) and decides them in order, each seeing the drafts of the
// ones before.
func (in *ingest) work(batch []*parley.Mention, decide parley.DecideFunc) (parley.IngestResult, error) {
	var res parley.IngestResult
	seen := make(map[pkey]bool, len(batch))
	var ps []placed
	for _, m := range batch {
		k := pkey{m.Platform, m.ExternalID}
		if seen[k] || in.known[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		p, err := in.place(m)
		if err != nil {
			return res, err
		}
		if decide != nil {
			p.drafts = decide(m, p.h)
		}
		if err := in.queue(&p); err != nil {
			return res, err
		}
		ps = append(ps, p)
	}
	// Only now: a later mention may supersede an earlier one's draft.
	for _, p := range ps {
		in.stored = append(in.stored, p.m)
		for _, d := range p.drafts {
			res.DraftIDs = append(res.DraftIDs, d.ID)
		}
		in.drafts = append(in.drafts, p.drafts...)
	}
	res.Stored, res.Drafts = len(in.stored), len(in.drafts)
	return res, nil
}

// placed is a new mention of the batch with what decide needs and said.
type placed struct {
	m      *parley.Mention
	h      parley.History
	ps     *personState
	ts     *threadState
	drafts []parley.Draft
}

// place gives m its person, thread and id, and works out the history
// decide sees: what was stored before it (and the batch's earlier
// mentions).
func (in *ingest) place(m *parley.Mention) (placed, error) {
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = in.now
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = m.ReceivedAt
	}
	if !m.Sentiment.Label.Valid() {
		m.Sentiment.Label = parley.Neutral
	}
	ps, err := in.person(m)
	if err != nil {
		return placed{}, err
	}
	var h parley.History
	h.Person = ps.p
	h.PendingDrafts = ps.pending
	countMention(&ps.p, m)
	m.PersonID, m.Author.ID = ps.p.ID, ps.p.ID

	ts, err := in.thread(m)
	if err != nil {
		return placed{}, err
	}
	h.ThreadMentions, h.RepliesInThread = ts.t.Mentions, ts.replies
	h.Conversation, h.LastReply = ts.conv, ts.last
	ts.t.Mentions++
	if m.CreatedAt.Before(ts.t.StartedAt) {
		ts.t.StartedAt = m.CreatedAt
	}
	if m.CreatedAt.After(ts.t.LastAt) {
		ts.t.LastAt = m.CreatedAt
	}
	m.ThreadID = ts.t.ID
	in.parents[pkey{m.Platform, m.ExternalID}] = ts.t.ID
	if m.ID, err = in.nextID("mentions"); err != nil {
		return placed{}, err
	}
	converse(&ts.conv, m)
	return placed{m: m, h: h, ps: ps, ts: ts}, nil
}

// person returns m's author, new or stored, with the fresh profile.
func (in *ingest) person(m *parley.Mention) (*personState, error) {
	pk := pkey{m.Platform, m.Author.ExternalID}
	ps := in.people[pk]
	if ps == nil {
		id, err := in.nextID("people")
		if err != nil {
			return nil, err
		}
		ps = &personState{p: parley.Person{ID: id, Platform: m.Platform, ExternalID: m.Author.ExternalID,
			FirstSeen: m.CreatedAt, LastSeen: m.CreatedAt}}
		in.people[pk], in.byPerson[id] = ps, ps
	}
	if !ps.queued {
		ps.queued = true
		in.order = append(in.order, ps)
	}
	p, a := &ps.p, m.Author
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
	return ps, nil
}

// countMention counts m in its author's numbers.
func countMention(p *parley.Person, m *parley.Mention) {
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
}

// thread finds m's thread: named by the connector, else the thread of the
// post this one answers (a stored mention or one of our own replies), else
// a thread rooted at the answered post's id (which the answered post joins
// when it arrives later), else a new thread rooted here.
func (in *ingest) thread(m *parley.Mention) (*threadState, error) {
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
		if ts = in.byKey[tk]; ts == nil {
			id, err := in.nextID("threads")
			if err != nil {
				return nil, err
			}
			ts = &threadState{t: parley.Thread{ID: id, Platform: m.Platform, RootKey: root,
				Channel: m.Channel, StartedAt: m.CreatedAt, LastAt: m.CreatedAt}}
			ts.conv = parley.Conversation{Platform: m.Platform, Channel: m.Channel, State: parley.Closed}
			in.byKey[tk], in.byID[id] = ts, ts
		}
	}
	if !ts.queued {
		ts.queued = true
		in.torder = append(in.torder, ts)
	}
	return ts, nil
}

// converse counts a customer's message m in its conversation c: it needs
// a reply, and the next-response clock runs from the oldest unanswered
// post.
func converse(c *parley.Conversation, m *parley.Mention) {
	if c.ID == 0 {
		c.ID = m.ThreadID
	}
	c.Messages++
	if c.LastMentionID == 0 || !m.CreatedAt.Before(c.LastMessageAt) {
		c.LastMentionID, c.PersonID, c.LastMessageAt = m.ID, m.PersonID, m.CreatedAt
	}
	if c.FirstMessageAt.IsZero() || m.CreatedAt.Before(c.FirstMessageAt) {
		c.FirstMessageAt = m.CreatedAt
	}
	if c.State != parley.NeedsReply || c.WaitingSince.IsZero() || m.CreatedAt.Before(c.WaitingSince) {
		c.WaitingSince = m.CreatedAt
	}
	c.State, c.SnoozedUntil = parley.NeedsReply, time.Time{}
}

// queue gives the drafts decide returned for p their ids and fields, keeps
// one pending reply per conversation (a rule's pending draft is superseded
// by a newer reply; a person's edit is kept and marked), and counts the
// drafts in the person's and thread's history for later mentions.
func (in *ingest) queue(p *placed) error {
	m := p.m
	old := p.ts.pending
	replaced := false
	kept := p.drafts[:0]
	for _, d := range p.drafts {
		if d.Kind == "" {
			d.Kind = parley.KindReply
		}
		if d.Kind == parley.KindReply && old.id != 0 && old.edited {
			continue // a person's edit is never replaced silently
		}
		kept = append(kept, d)
	}
	p.drafts = kept
	for i := range p.drafts {
		d := &p.drafts[i]
		id, err := in.nextID("drafts")
		if err != nil {
			return err
		}
		d.ID = id
		storelogic.PlaceDraft(d, m, in.now)
		if d.State == parley.DraftPending {
			p.ps.pending++
		}
		if d.Kind != parley.KindReply {
			continue
		}
		if cur := p.ts.pending; cur.id != 0 {
			in.supersede(cur)
			replaced = true
			p.ts.pending = pendingReply{}
		}
		if d.State == parley.DraftPending {
			p.ts.pending = pendingReply{id: d.ID, personID: d.PersonID, at: m.CreatedAt, draft: d}
		} else {
			p.ts.replies++
		}
	}
	if old.id != 0 && !replaced && m.CreatedAt.After(old.at) {
		if old.draft != nil {
			old.draft.NewMessageAt = m.CreatedAt
		} else {
			if in.flagged == nil {
				in.flagged = map[int64]int64{}
			}
			in.flagged[old.id] = ms(m.CreatedAt)
		}
	}
	return nil
}

// supersede retires the conversation's pending rule draft r.
func (in *ingest) supersede(r pendingReply) {
	if r.draft != nil {
		r.draft.State = parley.DraftSuperseded
	} else {
		in.superseded = append(in.superseded, r.id)
	}
	if ps := in.byPerson[r.personID]; ps != nil {
		ps.pending--
	}
}

// write stores what work decided: people, threads and conversations as
// upserts of whole arrays, then the retired drafts, then the mentions and
// drafts with COPY.
func (in *ingest) write() error {
	if err := in.writePeople(); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	if err := in.writeThreads(); err != nil {
		return fmt.Errorf("write threads: %w", err)
	}
	now := ms(in.now)
	if len(in.superseded) > 0 {
		if _, err := in.tx.Exec(in.ctx, `UPDATE drafts SET state = 'superseded', updated_at = $1
			WHERE id = ANY($2) AND state = 'pending'`, now, in.superseded); err != nil {
			return fmt.Errorf("supersede drafts: %w", err)
		}
	}
	for id, at := range in.flagged {
		if _, err := in.tx.Exec(in.ctx, `UPDATE drafts SET new_message_at = $1, updated_at = $2
			WHERE id = $3 AND state = 'pending'`, at, now, id); err != nil {
			return fmt.Errorf("mark draft %d: %w", id, err)
		}
	}
	if err := in.copyMentions(); err != nil {
		return fmt.Errorf("write mentions: %w", err)
	}
	if err := in.copyDrafts(); err != nil {
		return fmt.Errorf("write drafts: %w", err)
	}
	return nil
}

func (in *ingest) writePeople() error {
	n := len(in.order)
	id, followers, first, last := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	platform, ext, handle, name, tz, label := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	nobot := make([]bool, n)
	mentions, pos, neg, neu := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	for i, ps := range in.order {
		p := &ps.p
		id[i], platform[i], ext[i], handle[i], name[i], followers[i], nobot[i] = p.ID, p.Platform, p.ExternalID,
			p.Handle, p.Name, int64(p.Followers), p.NoBot
		tz[i], first[i], last[i], label[i] = p.TimeZone, ms(p.FirstSeen), ms(p.LastSeen), string(p.LastSentiment)
		mentions[i], pos[i], neg[i], neu[i] = int64(p.Mentions), int64(p.Positive), int64(p.Negative), int64(p.Neutral)
	}
	_, err := in.tx.Exec(in.ctx, `INSERT INTO people (id, platform, external_id, handle, name, followers, nobot, timezone,
		first_seen, last_seen, mentions, positive, negative, neutral, last_sentiment)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::boolean[],
			$8::text[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::text[])
		ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name, followers = excluded.followers,
		nobot = excluded.nobot, timezone = excluded.timezone, first_seen = excluded.first_seen,
		last_seen = excluded.last_seen, mentions = excluded.mentions, positive = excluded.positive,
		negative = excluded.negative, neutral = excluded.neutral, last_sentiment = excluded.last_sentiment`,
		id, platform, ext, handle, name, followers, nobot, tz, first, last, mentions, pos, neg, neu, label)
	return err
}

// writeThreads writes the threads and their conversations. The assignee
// and the response clocks belong to the people and the outbox; ingest
// leaves them.
func (in *ingest) writeThreads() error {
	n := len(in.torder)
	id, started, last := make([]int64, n), make([]int64, n), make([]int64, n)
	platform, root, channel, state := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	mentions, messages := make([]int64, n), make([]int64, n)
	snoozed, lastMention, person, lastMsg, firstMsg, waiting := make([]int64, n), make([]int64, n), make([]int64, n),
		make([]int64, n), make([]int64, n), make([]int64, n)
	for i, ts := range in.torder {
		t, c := &ts.t, &ts.conv
		id[i], platform[i], root[i], channel[i], started[i], last[i], mentions[i] = t.ID, t.Platform, t.RootKey,
			t.Channel, ms(t.StartedAt), ms(t.LastAt), int64(t.Mentions)
		state[i], snoozed[i], messages[i], lastMention[i], person[i] = string(c.State), ms(c.SnoozedUntil),
			int64(c.Messages), c.LastMentionID, c.PersonID
		lastMsg[i], firstMsg[i], waiting[i] = ms(c.LastMessageAt), ms(c.FirstMessageAt), ms(c.WaitingSince)
	}
	if _, err := in.tx.Exec(in.ctx, `INSERT INTO threads (id, platform, root_key, channel, started_at, last_at, mentions)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
		ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, last_at = excluded.last_at,
		mentions = excluded.mentions`, id, platform, root, channel, started, last, mentions); err != nil {
		return err
	}
	_, err := in.tx.Exec(in.ctx, `INSERT INTO conversations (id, state, snoozed_until, messages, last_mention_id, person_id,
		last_message_at, first_message_at, waiting_since)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[],
			$8::bigint[], $9::bigint[])
		ON CONFLICT (id) DO UPDATE SET state = excluded.state, snoozed_until = excluded.snoozed_until,
		messages = excluded.messages, last_mention_id = excluded.last_mention_id, person_id = excluded.person_id,
		last_message_at = excluded.last_message_at, first_message_at = excluded.first_message_at,
		waiting_since = excluded.waiting_since`,
		id, state, snoozed, messages, lastMention, person, lastMsg, firstMsg, waiting)
	return err
}

func (in *ingest) copyMentions() error {
	rows := make([][]any, len(in.stored))
	for i, m := range in.stored {
		rows[i] = []any{m.ID, m.Platform, m.Account, m.ExternalID, m.PersonID, m.ThreadID, m.Text,
			ms(m.CreatedAt), ms(m.ReceivedAt), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, m.Direct,
			string(m.Sentiment.Label), m.Sentiment.Score, m.Sentiment.Confidence, m.Sentiment.Model,
			joinList(m.Sentiment.Overrides), m.Priority, joinList(m.Tags), joinList(m.Rules), m.Ignored}
	}
	_, err := in.tx.CopyFrom(in.ctx, pgx.Identifier{"mentions"}, []string{"id", "platform", "account", "external_id",
		"person_id", "thread_id", "text", "created_at", "received_at", "in_reply_to", "url", "channel", "visibility",
		"lang", "direct", "sentiment", "score", "confidence", "model", "overrides", "priority", "tags", "rules",
		"ignored"}, pgx.CopyFromRows(rows))
	return err
}

func (in *ingest) copyDrafts() error {
	if len(in.drafts) == 0 {
		return nil
	}
	rows := make([][]any, len(in.drafts))
	var audit [][]any
	for i := range in.drafts {
		d := &in.drafts[i]
		rows[i] = []any{d.ID, d.Kind, string(d.State), d.Platform, d.MentionID, d.PersonID, d.ThreadID, d.Rule,
			d.Text, d.Priority, d.AutoApprove, ms(d.CreatedAt), ms(d.UpdatedAt), d.DecidedBy, ms(d.DecidedAt),
			ms(d.NewMessageAt)}
		if d.State == parley.DraftApproved {
			audit = append(audit, []any{ms(in.now), d.DecidedBy, "approve", d.ID, d.PersonID, "auto-approved by rule " + d.Rule})
		}
	}
	if _, err := in.tx.CopyFrom(in.ctx, pgx.Identifier{"drafts"}, []string{"id", "kind", "state", "platform",
		"mention_id", "person_id", "thread_id", "rule", "text", "priority", "auto_approve", "created_at", "updated_at",
		"decided_by", "decided_at", "new_message_at"}, pgx.CopyFromRows(rows)); err != nil {
		return err
	}
	if len(audit) == 0 {
		return nil
	}
	_, err := in.tx.CopyFrom(in.ctx, pgx.Identifier{"audit"}, []string{"at", "actor", "action", "draft_id",
		"person_id", "detail"}, pgx.CopyFromRows(audit))
	return err
}
