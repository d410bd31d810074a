package store

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
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
	return s.commitPlan(ctx, newPlan(batch, decide, parley.DecideOptions{Workers: 1}))
}

// IngestBatchConcurrent is IngestBatch for a decide that is safe for
// concurrent use (rules.Set.Decide is): it calls decide for the batch's
// mentions on up to o.Workers goroutines, so the rules do not hold up the
// single writer. What is stored is exactly what IngestBatch stores, and so
// is the History each mention's final decide call sees, except for a count
// o says decide ignores.
//
// How: the history of every new mention is worked out in order first;
// decide then runs on all of them at once, each seeing the batch's earlier
// mentions and a guess of their drafts (none, or with o.ExpectDrafts one
// each), while this goroutine writes the batch's people and threads. A
// second, ordered pass adds the drafts up: a mention whose true History
// differs from the guess in a count decide reads (History.PendingDrafts
// for the same person, History.RepliesInThread for the same thread) has
// m.Tags, m.Priority, m.Rules and m.Ignored put back as they were and
// decide called again with the true History. So decide may be called twice
// for a mention; the last call counts.
func (s *Store) IngestBatchConcurrent(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc,
	o parley.DecideOptions) (parley.IngestResult, error) {
	return s.commitPlan(ctx, newPlan(batch, decide, concurrent(o)))
}

// concurrent fills in the options of a concurrent decide: GOMAXPROCS
// workers by default, never fewer than two.
func concurrent(o parley.DecideOptions) parley.DecideOptions {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Workers = max(2, o.Workers)
	return o
}

// dataVersion reads PRAGMA data_version in the write transaction: it
// changes when another connection commits, so two equal readings at the
// start of two ingest transactions mean nobody else wrote in between.
func (in *ingest) dataVersion() (int64, error) {
	var v int64
	err := in.tx.QueryRowContext(in.ctx, "PRAGMA data_version").Scan(&v)
	return v, err
}

// commitIngest commits an ingest transaction that started at data version
// dv and counts it; written is the plan it wrote as planned, if any.
func (s *Store) commitIngest(tx *sql.Tx, dv int64, written *Plan) error {
	if err := tx.Commit(); err != nil {
		return dbError("commit ingest", err)
	}
	s.ingestMu.Lock()
	s.ingestSeq++
	s.ingestDV, s.haveIngest, s.lastPlan = dv, true, written
	s.ingestMu.Unlock()
	return nil
}

type pkey struct{ platform, id string }

type personState struct {
	p       parley.Person
	pending int  // drafts waiting for approval
	queued  bool // in ingest.order, to be written
	seen    int  // mentions of the batch placed so far
}

type threadState struct {
	t       parley.Thread
	replies int  // our replies, sent or on their way, and a person's pending edit
	queued  bool // in ingest.torder, to be written
	seen    int  // mentions of the batch placed so far
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
	s        *Store
	ctx      context.Context
	tx       *sql.Tx
	uncached []string // statements prepared on tx, to cache after it
	now      time.Time
	workers  int  // goroutines calling decide; 1 calls it in order
	expect   bool // guess that earlier mentions of the batch left drafts
	opts     parley.DecideOptions

	known    map[pkey]bool          // mentions already stored
	people   map[pkey]*personState  // by platform and external id
	parents  map[pkey]int64         // thread of stored posts (mentions and our replies) by platform and id
	byKey    map[pkey]*threadState  // threads by platform and root key
	byID     map[int64]*threadState // threads by id
	byPerson map[int64]*personState // the people of in.people by id
	order    []*personState         // people touched, in order
	torder   []*threadState         // threads touched, in order
	nextID   struct{ person, thread, mention, draft int64 }

	// overlay, when set, is the batch planned just before this one (see
	// Plan): its people, threads and mentions count as stored.
	overlay *ingest
	reader  bool // tx is a read transaction (planning), not the writer's

	placed     []placed          // the new mentions, as work left them
	placedKeys map[pkey]bool     // and their keys
	stored     []*parley.Mention // the rows to write
	drafts     []parley.Draft
	wroteEarly bool // work wrote the people and threads already

	// Stored pending drafts the batch changes: superseded by a newer
	// draft, or marked with the time of a newer customer message.
	superseded []int64
	flagged    map[int64]int64
}

// placed is a new mention of the batch with what decide needs and said.
type placed struct {
	m      *parley.Mention
	h      parley.History
	ps     *personState
	ts     *threadState
	drafts []parley.Draft
	// What decide may change on m, as it was before the first call.
	tags     []string
	priority int
	rules    []string
	ignored  bool
}

// run ingests batch in the write transaction in.tx.
func (in *ingest) run(batch []*parley.Mention, decide parley.DecideFunc) (parley.IngestResult, error) {
	res, err := in.work(batch, decide, true)
	if err != nil || res.Stored == 0 {
		return res, err
	}
	if !in.wroteEarly {
		if err := in.writePeopleThreads(); err != nil {
			return parley.IngestResult{}, err
		}
	}
	if err := in.writeMentionsDrafts(); err != nil {
		return parley.IngestResult{}, err
	}
	return res, nil
}

// work reads what the batch needs, skips the duplicates, places the new
// mentions (people, threads, ids, history) and decides them, leaving the
// rows to write in in.stored and in.drafts. With writeEarly (in a write
// transaction) the people and threads are written while the rules run.
func (in *ingest) work(batch []*parley.Mention, decide parley.DecideFunc, writeEarly bool) (parley.IngestResult, error) {
	var res parley.IngestResult
	if err := in.load(batch); err != nil {
		return res, err
	}
	seen := make(map[pkey]bool, len(batch))
	ps := make([]placed, 0, len(batch))
	for _, m := range batch {
		k := pkey{m.Platform, m.ExternalID}
		if seen[k] || in.known[k] {
			res.Duplicates++
			continue
		}
		seen[k] = true
		ps = append(ps, in.place(m))
		if in.workers <= 1 || decide == nil {
			// In order: each mention sees the drafts of the ones before.
			p := &ps[len(ps)-1]
			if decide != nil {
				p.drafts = decide(m, p.h)
			}
			in.queue(p)
		}
	}
	in.placed = ps
	in.placedKeys = seen
	if len(ps) == 0 {
		return res, nil
	}
	if in.workers > 1 && decide != nil {
		done := make(chan struct{})
		in.saveDecided(ps)
		go func() {
			defer close(done)
			in.decideConcurrently(ps, decide)
		}()
		var err error
		if writeEarly {
			// The rules run while this goroutine writes the people and
			// threads, which do not depend on them.
			err = in.writePeopleThreads()
			in.wroteEarly = true
		}
		<-done
		if err != nil {
			return res, err
		}
		for i := range ps {
			p := &ps[i]
			pending, replies := p.ps.pending, p.ts.replies
			if (pending != p.h.PendingDrafts && !in.opts.IgnoresPendingDrafts) ||
				(replies != p.h.RepliesInThread && !in.opts.IgnoresRepliesInThread) {
				// Earlier drafts of the batch change what this mention's
				// rules see: decide again on the true history.
				p.m.Tags, p.m.Priority, p.m.Rules, p.m.Ignored = p.tags, p.priority, p.rules, p.ignored
				p.h.PendingDrafts, p.h.RepliesInThread = pending, replies
				p.drafts = decide(p.m, p.h)
			}
			in.queue(p)
		}
	}
	in.stored = make([]*parley.Mention, len(ps))
	for i := range ps {
		in.stored[i] = ps[i].m
		for _, d := range ps[i].drafts {
			res.DraftIDs = append(res.DraftIDs, d.ID)
		}
		in.drafts = append(in.drafts, ps[i].drafts...)
	}
	res.Stored, res.Drafts = len(in.stored), len(in.drafts)
	return res, nil
}

// saveDecided keeps what decide may change on each placed mention, as it
// is before the first call, so a second call can start from it.
func (in *ingest) saveDecided(ps []placed) {
	for i := range ps {
		p := &ps[i]
		// Clip, so an append by decide never writes into the caller's
		// array and the saved tags stay as they were.
		p.m.Tags = slices.Clip(p.m.Tags)
		p.tags, p.priority, p.rules, p.ignored = p.m.Tags, p.m.Priority, p.m.Rules, p.m.Ignored
	}
}

// decideConcurrently calls decide on every placed mention, on in.workers
// goroutines (this one included); saveDecided must have run.
func (in *ingest) decideConcurrently(ps []placed, decide parley.DecideFunc) {
	workers := min(in.workers, (len(ps)+31)/32)
	if workers <= 1 {
		for i := range ps {
			ps[i].drafts = decide(ps[i].m, ps[i].h)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(ps) + workers - 1) / workers
	for w := 1; w < workers; w++ {
		part := ps[min(w*per, len(ps)):min((w+1)*per, len(ps))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range part {
				part[i].drafts = decide(part[i].m, part[i].h)
			}
		}()
	}
	for i := range ps[:min(per, len(ps))] {
		ps[i].drafts = decide(ps[i].m, ps[i].h)
	}
	wg.Wait()
}

// place works out a new mention's person, thread and history in memory,
// and gives it its ids. The history counts the drafts queued so far.
func (in *ingest) place(m *parley.Mention) placed {
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
	ps := in.placePerson(m, &h)
	ts := in.placeThread(m, &h)
	in.nextID.mention++
	m.ID = in.nextID.mention
	converse(&ts.conv, m)
	return placed{m: m, h: h, ps: ps, ts: ts}
}

// placePerson finds or makes m's author, counts m for them and fills the
// person part of h: the rules see the fresh profile with the earlier
// counts.
func (in *ingest) placePerson(m *parley.Mention, h *parley.History) *personState {
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
		in.byPerson[ps.p.ID] = ps
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
	if in.expect {
		h.PendingDrafts += ps.seen
	}
	ps.seen++
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
	return ps
}

// placeThread finds or makes m's thread, counts m in it and fills the
// thread part of h. The thread is the one the connector names, else the
// thread of the post m answers (a stored mention or one of our own
// replies), else a thread rooted at the answered post's id (which the
// answered post joins when it arrives later), else a new thread rooted at m.
func (in *ingest) placeThread(m *parley.Mention, h *parley.History) *threadState {
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
			ts.conv = parley.Conversation{Platform: m.Platform, Channel: m.Channel, State: parley.Closed}
			in.byKey[tk] = ts
			in.byID[ts.t.ID] = ts
		}
	}
	if !ts.queued {
		ts.queued = true
		in.torder = append(in.torder, ts)
	}
	h.ThreadMentions, h.RepliesInThread = ts.t.Mentions, ts.replies
	h.Conversation, h.LastReply = ts.conv, ts.last
	ts.seen++
	ts.t.Mentions++
	if m.CreatedAt.Before(ts.t.StartedAt) {
		ts.t.StartedAt = m.CreatedAt
	}
	if m.CreatedAt.After(ts.t.LastAt) {
		ts.t.LastAt = m.CreatedAt
	}
	m.ThreadID = ts.t.ID
	in.parents[pkey{m.Platform, m.ExternalID}] = ts.t.ID
	return ts
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
func (in *ingest) queue(p *placed) {
	m := p.m
	old := p.ts.pending
	replaced := false
	kept := p.drafts[:0]
	for i := range p.drafts {
		d := p.drafts[i]
		if d.Kind == "" {
			d.Kind = parley.KindReply
		}
		if d.Kind == parley.KindReply && old.id != 0 && old.edited {
			// A person's edit is never replaced silently.
			continue
		}
		kept = append(kept, d)
	}
	p.drafts = kept
	for i := range p.drafts {
		d := &p.drafts[i]
		in.nextID.draft++
		d.ID = in.nextID.draft
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
		in.flag(old, m.CreatedAt)
	}
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

// flag marks the pending draft r: the customer wrote again at `at`.
func (in *ingest) flag(r pendingReply, at time.Time) {
	if r.draft != nil {
		r.draft.NewMessageAt = at
		return
	}
	if in.flagged == nil {
		in.flagged = map[int64]int64{}
	}
	in.flagged[r.id] = ms(at)
}

// load reads, for the whole batch, the mentions already stored, the people,
// the answered posts and the threads it touches, and the next free ids.
func (in *ingest) load(batch []*parley.Mention) error {
	in.known = map[pkey]bool{}
	in.people = map[pkey]*personState{}
	in.parents = map[pkey]int64{}
	in.byKey = map[pkey]*threadState{}
	in.byID = map[int64]*threadState{}
	adopted := map[*threadState]*threadState{}
	k := in.batchKeys(batch, adopted)
	if err := in.loadStored(k); err != nil {
		return err
	}
	fresh, err := in.loadThreads(k, adopted)
	if err != nil {
		return err
	}
	if err := in.loadReplies(fresh); err != nil {
		return err
	}
	in.byPerson = make(map[int64]*personState, len(in.people))
	for _, ps := range in.people {
		in.byPerson[ps.p.ID] = ps
	}
	if err := in.loadPendingOwners(); err != nil {
		return err
	}
	return in.loadNextIDs()
}

// adopt copies a thread of the overlay into this batch, once: adopted maps
// the overlay's threads to their copies.
func (in *ingest) adopt(adopted map[*threadState]*threadState, ots *threadState) *threadState {
	ts := adopted[ots]
	if ts == nil {
		ts = &threadState{t: ots.t, replies: ots.replies, conv: ots.conv, last: ots.last, pending: ots.pending}
		ts.pending.draft = nil // written by the overlay's batch
		adopted[ots] = ts
		in.byKey[pkey{ts.t.Platform, ts.t.RootKey}] = ts
		in.byID[ts.t.ID] = ts
	}
	return ts
}

// loadKeys is what load asks the database for. Each list holds a value
// once: a busy author or thread appears many times in a batch, and every
// value costs a bound parameter.
type loadKeys struct {
	ids       keyLists       // platform -> mention ids
	authors   keyLists       // platform -> author ids
	replyTo   keyLists       // platform -> answered ids
	roots     keyLists       // platform -> candidate thread root keys
	threadIDs map[int64]bool // threads of answered posts
}

// batchKeys lists the keys of batch the database must answer. What the
// overlay (the batch planned before) knows is taken from it instead: it is
// what the database holds once that batch is written.
func (in *ingest) batchKeys(batch []*parley.Mention, adopted map[*threadState]*threadState) *loadKeys {
	ov := in.overlay
	k := &loadKeys{threadIDs: map[int64]bool{}}
	root := func(platform, key string) {
		if ots := ov.thread(pkey{platform, key}); ots != nil {
			in.adopt(adopted, ots)
			return
		}
		k.roots.add(platform, key)
	}
	for _, m := range batch {
		if mk := (pkey{m.Platform, m.ExternalID}); ov.isStored(mk) {
			in.known[mk] = true
		} else {
			k.ids.add(m.Platform, m.ExternalID)
		}
		if ak := (pkey{m.Platform, m.Author.ExternalID}); ov != nil && ov.people[ak] != nil {
			if in.people[ak] == nil {
				ops := ov.people[ak]
				in.people[ak] = &personState{p: ops.p, pending: ops.pending}
			}
		} else {
			k.authors.add(m.Platform, m.Author.ExternalID)
		}
		switch {
		case m.ThreadKey != "":
			root(m.Platform, m.ThreadKey)
		case m.InReplyTo != "":
			rk := pkey{m.Platform, m.InReplyTo}
			if tid, ok := ov.parent(rk); ok {
				in.parents[rk] = tid
				if ots := ov.byID[tid]; ots != nil {
					in.adopt(adopted, ots)
				} else {
					k.threadIDs[tid] = true
				}
			} else {
				k.replyTo.add(m.Platform, m.InReplyTo)
			}
			root(m.Platform, m.InReplyTo)
		default:
			root(m.Platform, m.ExternalID)
		}
	}
	return k
}

// loadStored reads which of the batch's mentions are stored, its people
// and the threads of the posts it answers.
func (in *ingest) loadStored(k *loadKeys) error {
	for platform, list := range k.ids.lists {
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
	for platform, list := range k.authors.lists {
		if err := in.each(`SELECT `+personColumns+`, pending_drafts FROM people WHERE platform = ? AND external_id IN`, platform, list, func(rows *sql.Rows) error {
			var pending int
			p, err := scanPerson(rowsWithExtra{rows, &pending})
			if err != nil {
				return err
			}
			if pk := (pkey{platform, p.ExternalID}); in.people[pk] == nil {
				in.people[pk] = &personState{p: p, pending: pending}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("find people: %w", err)
		}
	}
	for platform, list := range k.replyTo.lists {
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
				if _, ok := in.parents[pkey{platform, id}]; !ok {
					in.parents[pkey{platform, id}] = tid
				}
				k.threadIDs[tid] = true
				return nil
			}); err != nil {
				return fmt.Errorf("find answered posts: %w", err)
			}
		}
	}
	return nil
}

// threadCols reads a thread with its conversation, for addThread.
const threadCols = `SELECT t.id, t.platform, t.root_key, t.channel, t.started_at, t.last_at, t.mentions,
		coalesce(c.state, 'closed'), coalesce(c.assignee, ''), coalesce(c.snoozed_until, 0), coalesce(c.messages, 0),
		coalesce(c.last_mention_id, 0), coalesce(c.person_id, 0), coalesce(c.last_message_at, 0),
		coalesce(c.first_message_at, 0), coalesce(c.waiting_since, 0), coalesce(c.first_response_at, 0),
		coalesce(c.last_response_at, 0)
		FROM threads t LEFT JOIN conversations c ON c.id = t.id WHERE `

// addThread keeps a thread row (threadCols) unless the overlay gave that
// thread already, and lists its id in fresh.
func (in *ingest) addThread(rows *sql.Rows, fresh *[]any) error {
	var t parley.Thread
	var started, last int64
	var c parley.Conversation
	var state string
	var snoozed, lastMsg, firstMsg, waiting, firstResp, lastResp int64
	if err := rows.Scan(&t.ID, &t.Platform, &t.RootKey, &t.Channel, &started, &last, &t.Mentions,
		&state, &c.Assignee, &snoozed, &c.Messages, &c.LastMentionID, &c.PersonID, &lastMsg, &firstMsg, &waiting,
		&firstResp, &lastResp); err != nil {
		return err
	}
	t.StartedAt, t.LastAt = fromMS(started), fromMS(last)
	if in.byID[t.ID] != nil {
		return nil // adopted from the overlay
	}
	c.ID, c.Platform, c.Channel, c.State = t.ID, t.Platform, t.Channel, parley.ConversationState(state)
	c.SnoozedUntil, c.LastMessageAt, c.FirstMessageAt = fromMS(snoozed), fromMS(lastMsg), fromMS(firstMsg)
	c.WaitingSince, c.FirstResponseAt, c.LastResponseAt = fromMS(waiting), fromMS(firstResp), fromMS(lastResp)
	ts := &threadState{t: t, conv: c}
	in.byKey[pkey{t.Platform, t.RootKey}] = ts
	in.byID[t.ID] = ts
	*fresh = append(*fresh, t.ID)
	return nil
}

// loadThreads reads the threads the batch names by root key or through an
// answered post, and returns the ids of those read from the database.
func (in *ingest) loadThreads(k *loadKeys, adopted map[*threadState]*threadState) ([]any, error) {
	ov := in.overlay
	var fresh []any
	addThread := func(rows *sql.Rows) error { return in.addThread(rows, &fresh) }
	for platform, list := range k.roots.lists {
		if err := in.each(threadCols+`t.platform = ? AND t.root_key IN`, platform, list, addThread); err != nil {
			return nil, fmt.Errorf("find threads: %w", err)
		}
	}
	var byID []any
	for id := range k.threadIDs {
		if in.byID[id] == nil {
			if ots := ov.threadByID(id); ots != nil {
				in.adopt(adopted, ots)
				continue
			}
			byID = append(byID, id)
		}
	}
	if err := in.each(threadCols+`t.id IN`, nil, byID, addThread); err != nil {
		return nil, fmt.Errorf("find threads: %w", err)
	}
	return fresh, nil
}

// loadNextIDs reads the next free ids, past the overlay's.
func (in *ingest) loadNextIDs() error {
	ov := in.overlay
	for _, t := range []struct {
		table string
		dst   *int64
	}{{"people", &in.nextID.person}, {"threads", &in.nextID.thread}, {"mentions", &in.nextID.mention}, {"drafts", &in.nextID.draft}} {
		if err := in.tx.QueryRowContext(in.ctx, `SELECT coalesce(max(id), 0) FROM `+t.table).Scan(t.dst); err != nil {
			return fmt.Errorf("next id of %s: %w", t.table, err)
		}
	}
	if ov != nil {
		in.nextID.person = max(in.nextID.person, ov.nextID.person)
		in.nextID.thread = max(in.nextID.thread, ov.nextID.thread)
		in.nextID.mention = max(in.nextID.mention, ov.nextID.mention)
		in.nextID.draft = max(in.nextID.draft, ov.nextID.draft)
	}
	return nil
}

// loadReplies reads, for the threads read from the database, our replies
// that count (sent, on their way, or a person's pending edit), the pending
// reply (the unique index drafts_one_pending_reply allows one) and the
// text of the last reply sent.
func (in *ingest) loadReplies(threads []any) error {
	if err := in.each(`SELECT thread_id, sum(state != 'pending' OR written_by != ''),
		max(CASE WHEN state = 'pending' THEN id ELSE 0 END),
		max(CASE WHEN state = 'pending' THEN person_id ELSE 0 END),
		max(CASE WHEN state = 'pending' AND written_by != '' THEN 1 ELSE 0 END),
		max(CASE WHEN state = 'pending' THEN coalesce((SELECT created_at FROM mentions m WHERE m.id = d.mention_id), 0) ELSE 0 END)
		FROM drafts d WHERE kind = 'reply' AND state IN ('pending', 'approved', 'sending', 'sent')
		AND thread_id IN`, nil, threads, func(rows *sql.Rows) error {
		var id, at int64
		var n int
		var r pendingReply
		if err := rows.Scan(&id, &n, &r.id, &r.personID, &r.edited, &at); err != nil {
			return err
		}
		r.at = fromMS(at)
		ts := in.byID[id]
		ts.replies, ts.pending = n, r
		return nil
	}, " GROUP BY thread_id"); err != nil {
		return fmt.Errorf("count thread replies: %w", err)
	}
	if err := in.each(`SELECT thread_id, text, max(sent_at) FROM drafts WHERE kind = 'reply' AND state = 'sent'
		AND thread_id IN`, nil, threads, func(rows *sql.Rows) error {
		var id, at int64
		var text string
		if err := rows.Scan(&id, &text, &at); err != nil {
			return err
		}
		in.byID[id].last = text
		return nil
	}, " GROUP BY thread_id"); err != nil {
		return fmt.Errorf("last reply: %w", err)
	}
	return nil
}

// loadPendingOwners reads the people whose pending replies the batch may
// supersede, so their pending counts stay exact for the batch and for the
// plan made on top of it.
func (in *ingest) loadPendingOwners() error {
	var ids []any
	for _, ts := range in.byID {
		id := ts.pending.personID
		if ts.pending.id == 0 || in.byPerson[id] != nil {
			continue
		}
		if ov := in.overlay; ov != nil && ov.byPerson[id] != nil {
			ops := ov.byPerson[id]
			ps := &personState{p: ops.p, pending: ops.pending}
			in.people[pkey{ps.p.Platform, ps.p.ExternalID}] = ps
			in.byPerson[id] = ps
			continue
		}
		ids = append(ids, id)
	}
	err := in.each(`SELECT `+personColumns+`, pending_drafts FROM people WHERE id IN`, nil, ids, func(rows *sql.Rows) error {
		var pending int
		p, err := scanPerson(rowsWithExtra{rows, &pending})
		if err != nil {
			return err
		}
		if in.byPerson[p.ID] == nil {
			ps := &personState{p: p, pending: pending}
			in.people[pkey{p.Platform, p.ExternalID}] = ps
			in.byPerson[p.ID] = ps
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("find people with pending replies: %w", err)
	}
	return nil
}

// The overlay's answers; a nil overlay knows nothing.

// isStored: the mention is stored once the overlay's batch is.
func (in *ingest) isStored(k pkey) bool {
	if in == nil {
		return false
	}
	if in.known[k] {
		return true
	}
	return in.placedKeys[k]
}

func (in *ingest) thread(k pkey) *threadState {
	if in == nil {
		return nil
	}
	return in.byKey[k]
}

func (in *ingest) threadByID(id int64) *threadState {
	if in == nil {
		return nil
	}
	return in.byID[id]
}

func (in *ingest) parent(k pkey) (int64, bool) {
	if in == nil {
		return 0, false
	}
	tid, ok := in.parents[k]
	return tid, ok
}

// keyLists are lists of distinct values by platform.
type keyLists struct {
	lists map[string][]any
	seen  map[pkey]bool
}

func (k *keyLists) add(platform, v string) {
	if k.seen == nil {
		k.lists, k.seen = map[string][]any{}, map[pkey]bool{}
	}
	if key := (pkey{platform, v}); !k.seen[key] {
		k.seen[key] = true
		k.lists[platform] = append(k.lists[platform], v)
	}
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
	st, ok := in.s.stmtCache(in.reader)[q]
	in.s.stmtMu.Unlock()
	if ok {
		return in.tx.StmtContext(in.ctx, st), nil
	}
	in.uncached = append(in.uncached, q)
	return in.tx.PrepareContext(in.ctx, q)
}

// cacheStmts prepares qs for later batches, on the ingest connection or
// (reader) the reader pool.
func (s *Store) cacheStmts(ctx context.Context, qs []string, reader bool) {
	db := s.idb
	if reader {
		db = s.rdb
	}
	for _, q := range qs {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			s.logger.Warn("prepare ingest statement", "err", err)
			return
		}
		s.stmtMu.Lock()
		cache := s.stmtCache(reader)
		if old, ok := cache[q]; ok {
			_ = old.Close() // a statement being replaced; the fresh one is in use
		}
		cache[q] = st
		s.stmtMu.Unlock()
	}
}

// stmtCache is the statement cache of the ingest connection or (reader)
// the reader pool; s.stmtMu guards both.
func (s *Store) stmtCache(reader bool) map[string]*sql.Stmt {
	if reader {
		return s.rstmts
	}
	return s.stmts
}

func placeholders(n int) string {
	if n == 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// rowBuckets are the row counts of the multi-row INSERT statements.
var rowBuckets = []int{64, 16, 4, 1}

// insertRows writes rows of cols values each, laid end to end in args,
// with cached multi-row INSERT statements.
func (in *ingest) insertRows(head string, cols int, tail string, args []any) error {
	row := "(" + placeholders(cols) + ")"
	for len(args) > 0 {
		rows := len(args) / cols
		n := 1
		for _, b := range rowBuckets {
			if rows >= b {
				n = b
				break
			}
		}
		q := head + " VALUES " + strings.Repeat(row+",", n-1) + row + tail
		stmt, err := in.stmt(q)
		if err != nil {
			return err
		}
		if _, err := stmt.ExecContext(in.ctx, args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}

// writePeopleThreads writes the people and threads the batch touched.
func (in *ingest) writePeopleThreads() error {
	// people.pending_drafts is left to the triggers on drafts.
	args := make([]any, 0, 15*len(in.order))
	for _, ps := range in.order {
		p := &ps.p
		args = append(args, p.ID, p.Platform, p.ExternalID, p.Handle, p.Name, p.Followers, b2i(p.NoBot),
			p.TimeZone, ms(p.FirstSeen), ms(p.LastSeen), p.Mentions, p.Positive, p.Negative, p.Neutral,
			string(p.LastSentiment))
	}
	if err := in.insertRows(`INSERT INTO people (id, platform, external_id, handle, name, followers, nobot, timezone,
		first_seen, last_seen, mentions, positive, negative, neutral, last_sentiment)`, 15,
		` ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name, followers = excluded.followers,
		nobot = excluded.nobot, timezone = excluded.timezone, first_seen = excluded.first_seen,
		last_seen = excluded.last_seen, mentions = excluded.mentions, positive = excluded.positive,
		negative = excluded.negative, neutral = excluded.neutral, last_sentiment = excluded.last_sentiment`,
		args); err != nil {
		return fmt.Errorf("write people: %w", err)
	}
	args = args[:0]
	for _, ts := range in.torder {
		t := &ts.t
		args = append(args, t.ID, t.Platform, t.RootKey, t.Channel, ms(t.StartedAt), ms(t.LastAt), t.Mentions)
	}
	if err := in.insertRows(`INSERT INTO threads (id, platform, root_key, channel, started_at, last_at, mentions)`, 7,
		` ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at, last_at = excluded.last_at,
		mentions = excluded.mentions`, args); err != nil {
		return fmt.Errorf("write threads: %w", err)
	}
	args = args[:0]
	for _, ts := range in.torder {
		c := &ts.conv
		args = append(args, ts.t.ID, string(c.State), ms(c.SnoozedUntil), c.Messages, c.LastMentionID, c.PersonID,
			ms(c.LastMessageAt), ms(c.FirstMessageAt), ms(c.WaitingSince))
	}
	// The assignee and the response clocks belong to the people and the
	// outbox; ingest leaves them.
	if err := in.insertRows(`INSERT INTO conversations (id, state, snoozed_until, messages, last_mention_id, person_id,
		last_message_at, first_message_at, waiting_since)`, 9,
		` ON CONFLICT (id) DO UPDATE SET state = excluded.state, snoozed_until = excluded.snoozed_until,
		messages = excluded.messages, last_mention_id = excluded.last_mention_id, person_id = excluded.person_id,
		last_message_at = excluded.last_message_at, first_message_at = excluded.first_message_at,
		waiting_since = excluded.waiting_since`, args); err != nil {
		return fmt.Errorf("write conversations: %w", err)
	}
	return nil
}

// retire writes what the batch did to stored pending drafts (superseded,
// or marked with a newer customer message) before its own drafts go in:
// the unique index allows one pending reply per conversation.
func (in *ingest) retire() error {
	now := ms(in.now)
	for _, id := range in.superseded {
		stmt, err := in.stmt(`UPDATE drafts SET state = 'superseded', updated_at = ? WHERE id = ? AND state = 'pending'`)
		if err == nil {
			_, err = stmt.ExecContext(in.ctx, now, id)
		}
		if err != nil {
			return fmt.Errorf("supersede draft %d: %w", id, err)
		}
	}
	for id, at := range in.flagged {
		stmt, err := in.stmt(`UPDATE drafts SET new_message_at = ?, updated_at = ? WHERE id = ? AND state = 'pending'`)
		if err == nil {
			_, err = stmt.ExecContext(in.ctx, at, now, id)
		}
		if err != nil {
			return fmt.Errorf("mark draft %d: %w", id, err)
		}
	}
	return nil
}

// writeMentionsDrafts writes the batch's new mentions and their drafts.
func (in *ingest) writeMentionsDrafts() error {
	stored, drafts := in.stored, in.drafts
	args := make([]any, 0, 24*len(stored))
	for _, m := range stored {
		args = append(args, m.ID, m.Platform, m.Account, m.ExternalID, m.PersonID, m.ThreadID, m.Text,
			ms(m.CreatedAt), ms(m.ReceivedAt), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, b2i(m.Direct),
			string(m.Sentiment.Label), m.Sentiment.Score, m.Sentiment.Confidence, m.Sentiment.Model,
			joinList(m.Sentiment.Overrides), m.Priority, joinList(m.Tags), joinList(m.Rules), b2i(m.Ignored))
	}
	if err := in.insertRows(`INSERT INTO mentions (id, platform, account, external_id, person_id, thread_id, text, created_at,
		received_at, in_reply_to, url, channel, visibility, lang, direct, sentiment, score, confidence, model, overrides,
		priority, tags, rules, ignored)`, 24, "", args); err != nil {
		return fmt.Errorf("write mentions: %w", err)
	}
	if err := in.retire(); err != nil {
		return err
	}
	if len(drafts) == 0 {
		return nil
	}
	args = args[:0]
	var audit []any
	for i := range drafts {
		d := &drafts[i]
		args = append(args, d.ID, d.Kind, string(d.State), d.Platform, d.MentionID, d.PersonID, d.ThreadID, d.Rule,
			d.Text, d.Priority, b2i(d.AutoApprove), ms(d.CreatedAt), ms(d.UpdatedAt), d.DecidedBy, ms(d.DecidedAt),
			ms(d.NewMessageAt))
		if d.State == parley.DraftApproved {
			audit = append(audit, ms(in.now), d.DecidedBy, "approve", d.ID, d.PersonID, "auto-approved by rule "+d.Rule)
		}
	}
	if err := in.insertRows(`INSERT INTO drafts (id, kind, state, platform, mention_id, person_id, thread_id, rule, text,
		priority, auto_approve, created_at, updated_at, decided_by, decided_at, new_message_at)`, 16, "", args); err != nil {
		return fmt.Errorf("write drafts: %w", err)
	}
	if err := in.insertRows(`INSERT INTO audit (at, actor, action, draft_id, person_id, detail)`, 6, "", audit); err != nil {
		return fmt.Errorf("write audit: %w", err)
	}
	return nil
}
