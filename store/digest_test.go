package store_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func digestWeek(week string) parley.DigestRecord {
	start := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)
	return parley.DigestRecord{Week: week, TimeZone: "UTC", Start: start, End: start.AddDate(0, 0, 7)}
}

func TestClaimDigestOncePerWeek(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := storetest.Open(t, storetest.Clock(func() time.Time { return now }))

	r, err := s.ClaimDigest(ctx, digestWeek("2026-W47"), "a", now.Add(time.Hour), false)
	require.NoError(t, err)
	assert.Equal(t, parley.DigestBuilding, r.Status)
	assert.Equal(t, "a", r.Owner)
	assert.Equal(t, now, r.ClaimedAt)
	assert.Empty(t, r.Deliveries)

	// Another owner is refused while the lease holds; the same owner may
	// claim again (a retry after an error).
	_, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "b", now.Add(time.Hour), false)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, parley.ErrorMessage(err), "being sent by a")
	_, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "a", now.Add(time.Hour), false)
	require.NoError(t, err)

	// b cannot save what a holds.
	err = s.SaveDigest(ctx, parley.DigestRecord{Week: "2026-W47", Status: parley.DigestSent}, "b")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	err = s.SaveDigest(ctx, parley.DigestRecord{Week: "2026-W01", Status: parley.DigestSent}, "a")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	// a crashes mid-way, having delivered one target; after the lease b
	// resumes and sees that delivery.
	built := now.Add(time.Minute)
	require.NoError(t, s.SaveDigest(ctx, parley.DigestRecord{Week: "2026-W47", Status: parley.DigestBuilding, BuiltAt: built,
		Summary: "12 mentions", Markdown: "# md", HTML: "<p>html</p>", Text: "text",
		Deliveries: []parley.DigestDelivery{{Target: "file ./d", Type: "file", OK: true, Attempts: 1, At: built, Detail: "./d/x.html"}},
	}, "a"))
	now = now.Add(2 * time.Hour)
	r, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "b", now.Add(time.Hour), false)
	require.NoError(t, err)
	assert.Equal(t, "b", r.Owner)
	assert.True(t, r.Delivered("file ./d"))
	assert.False(t, r.Delivered("email to x@example.com"))
	assert.Equal(t, "# md", r.Markdown)

	// b finishes: two targets, one failed. A partial week may be claimed
	// again (to retry the failed target) ...
	require.NoError(t, s.SaveDigest(ctx, parley.DigestRecord{Week: "2026-W47", Status: parley.DigestPartial, BuiltAt: built,
		Summary: "12 mentions", Markdown: "# md", HTML: "<p>html</p>", Text: "text",
		Deliveries: []parley.DigestDelivery{
			{Target: "file ./d", Type: "file", OK: true, Attempts: 1, At: built, Detail: "./d/x.html"},
			{Target: "email to x@example.com", Type: "email", OK: false, Attempts: 3, At: now, Error: "connection refused"},
		},
	}, "b"))
	r, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "c", now.Add(time.Hour), false)
	require.NoError(t, err)
	require.Len(t, r.Deliveries, 2)
	assert.Equal(t, "connection refused", r.Deliveries[1].Error)
	require.NoError(t, s.SaveDigest(ctx, parley.DigestRecord{Week: "2026-W47", Status: parley.DigestSent, BuiltAt: built,
		Summary: "12 mentions", Markdown: "# md", HTML: "<p>html</p>", Text: "text",
		Deliveries: []parley.DigestDelivery{
			{Target: "file ./d", Type: "file", OK: true, Attempts: 1, At: built, Detail: "./d/x.html"},
			{Target: "email to x@example.com", Type: "email", OK: true, Attempts: 1, At: now},
		},
	}, "c"))

	// ... but a sent week never, unless forced.
	_, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "d", now.Add(time.Hour), false)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, parley.ErrorMessage(err), "already sent")
	_, err = s.ClaimDigest(ctx, digestWeek("2026-W47"), "d", now.Add(time.Hour), true)
	require.NoError(t, err)

	_, err = s.ClaimDigest(ctx, parley.DigestRecord{}, "d", now, false)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = s.ClaimDigest(ctx, digestWeek("2026-W48"), " ", now, false)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

func TestClaimDigestAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	var stores []*store.Store
	for range 4 {
		s := storetest.Open(t, storetest.Path(path))
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	wins := make([]bool, len(stores))
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.ClaimDigest(ctx, digestWeek("2026-W47"), string(rune('a'+i)), time.Now().Add(time.Hour), false)
			if err == nil {
				wins[i] = true
				return
			}
			assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "%v", err)
		}()
	}
	wg.Wait()
	n := 0
	for _, w := range wins {
		if w {
			n++
		}
	}
	assert.Equal(t, 1, n, "exactly one process claims the week")
}

func TestDigestsList(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	_, err := s.Digest(ctx, "2026-W47")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	for i, week := range []string{"2026-W46", "2026-W47", "2026-W45"} {
		r := digestWeek(week)
		r.Start = r.Start.AddDate(0, 0, 7*(i%2))
		if week == "2026-W45" {
			r.Start = r.Start.AddDate(0, 0, -7)
		}
		_, err := s.ClaimDigest(ctx, r, "me", time.Now().Add(time.Hour), false)
		require.NoError(t, err)
		r.Status, r.Markdown, r.HTML, r.Text, r.Summary = parley.DigestStored, "md "+week, "html", "text", "sum "+week
		r.BuiltAt = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
		require.NoError(t, s.SaveDigest(ctx, r, "me"))
	}
	list, err := s.Digests(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	assert.Equal(t, []string{"2026-W47", "2026-W46", "2026-W45"}, []string{list[0].Week, list[1].Week, list[2].Week})
	assert.Empty(t, list[0].Markdown, "the list leaves the bodies out")
	assert.Equal(t, "sum 2026-W47", list[0].Summary)
	one, err := s.Digest(ctx, "2026-W46")
	require.NoError(t, err)
	assert.Equal(t, "md 2026-W46", one.Markdown)
	assert.Equal(t, parley.DigestStored, one.Status)
	assert.Equal(t, time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC), one.BuiltAt)
}

func TestDigestWindow(t *testing.T) {
	ctx := context.Background()
	clock := t0
	s := storetest.Open(t, storetest.Clock(func() time.Time { return clock }))
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		return []parley.Draft{{Kind: parley.KindReply, Text: "thanks", Rule: "r"}}
	}
	// Before the window, in it (two threads), after it.
	old := mention("0", "ana", "old post", parley.Neutral, -60*24)
	a := mention("1", "ana", "broken wheels", parley.Negative, 0)
	b := mention("2", "ben", "love it", parley.Positive, 30)
	b.InReplyTo = "1" // joins a's thread
	c := mention("3", "cy", "question?", parley.Neutral, 60)
	late := mention("4", "ana", "after", parley.Neutral, 60*24*8)
	// b arrives once ana's answer is sent: a rule's pending draft in the
	// thread would be superseded by b's.
	_, err := s.IngestBatch(ctx, []*parley.Mention{old, a, c, late}, decide)
	require.NoError(t, err)

	drafts, err := s.Drafts(ctx, parley.DraftFilter{})
	require.NoError(t, err)
	byMention := map[int64]parley.Draft{}
	for _, d := range drafts {
		byMention[d.MentionID] = d
	}
	// Answer ana (sent in the window), reject cy's draft.
	clock = t0.Add(10 * time.Minute)
	_, err = s.ApproveDraft(ctx, byMention[a.ID].ID, "ana-agent", "")
	require.NoError(t, err)
	claimed, err := s.ClaimDrafts(ctx, 10, clock)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, s.MarkSent(ctx, claimed[0].ID, "posted-1", t0.Add(20*time.Minute)))
	_, err = s.RejectDraft(ctx, byMention[c.ID].ID, "ben-agent", "off topic")
	require.NoError(t, err)
	clock = t0
	_, err = s.IngestBatch(ctx, []*parley.Mention{b}, decide)
	require.NoError(t, err)

	from, to := t0.Add(-time.Hour), t0.Add(7*24*time.Hour)
	w, err := s.DigestWindow(ctx, from, to, t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.Len(t, w.Mentions, 3)
	assert.Equal(t, []string{"1", "2", "3"}, []string{w.Mentions[0].ExternalID, w.Mentions[1].ExternalID, w.Mentions[2].ExternalID})
	assert.Equal(t, "ana@example.social", w.Mentions[0].Author.Handle)
	require.Len(t, w.People, 3)
	assert.Equal(t, t0.Add(-60*24*time.Minute), w.People[0].FirstSeen, "ana returns: her first sighting is before the window")
	for _, p := range w.People {
		if p.Handle == "ben@example.social" {
			assert.Equal(t, t0.Add(30*time.Minute), p.FirstSeen)
		}
	}
	require.Len(t, w.Replies, 1)
	assert.Equal(t, a.ThreadID, w.Replies[0].ThreadID)
	assert.Equal(t, t0.Add(20*time.Minute), w.Replies[0].SentAt)
	// Drafts created or decided in the window: the clock made every draft
	// at t0, so all five are in.
	assert.Len(t, w.Drafts, 5)
	var actions []string
	for _, e := range w.Audit {
		actions = append(actions, e.Actor+":"+e.Action)
	}
	assert.Equal(t, []string{"ana-agent:approve", "ben-agent:reject"}, actions)
	assert.Equal(t, 3, w.Pending) // b, old and late
	assert.Equal(t, t0, w.OldestPending)
	assert.Empty(t, w.Advocates)
	assert.Empty(t, w.AdvocateStates)
	assert.Empty(t, w.AdvocateChanges)
	assert.Empty(t, w.Prompts)

	// The advocate scoring makes ben an advocate inside the window and cy
	// a candidate after it.
	_, err = s.SaveAdvocates(ctx, []parley.AdvocateUpdate{{PersonID: b.PersonID, Score: 7.5, From: "", To: "advocate"}}, t0.Add(2*time.Hour))
	require.NoError(t, err)
	_, err = s.SaveAdvocates(ctx, []parley.AdvocateUpdate{{PersonID: c.PersonID, Score: 3, From: "", To: "candidate"}}, t0.Add(8*24*time.Hour))
	require.NoError(t, err)
	w, err = s.DigestWindow(ctx, from, to, t0.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"advocate": 1, "candidate": 1}, w.AdvocateStates)
	require.Len(t, w.Advocates, 1)
	assert.Equal(t, 7.5, w.Advocates[0].AdvocateScore)
	require.Len(t, w.AdvocateChanges, 1)
	assert.Equal(t, "advocate", w.AdvocateChanges[0].To)
	assert.Equal(t, "ben@example.social", w.AdvocateChanges[0].Handle)

	// A reply sent after asOf does not count yet.
	w, err = s.DigestWindow(ctx, from, to, t0.Add(15*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, w.Replies)

	times, err := s.MentionTimes(ctx, t0.Add(-100*24*time.Hour), t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []time.Time{t0.Add(-24 * time.Hour), t0, t0.Add(30 * time.Minute)}, times)
	latest, err := s.LatestMention(ctx)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(8*24*time.Hour), latest)
}

// TestDigestWindowDrafts: the drafts of a week are those created in it and
// those decided in it, each once, and SQLite finds them through the
// indexes rather than by reading every draft.
func TestDigestWindowDrafts(t *testing.T) {
	ctx := context.Background()
	clock := t0.Add(-48 * time.Hour)
	s := storetest.Open(t, storetest.Clock(func() time.Time { return clock }))
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		return []parley.Draft{{Kind: parley.KindReply, Text: "thanks " + m.ExternalID, Rule: "r"}}
	}
	ingest := func(id string) int64 {
		t.Helper()
		res, err := s.IngestBatch(ctx, []*parley.Mention{mention(id, "ana"+id, "text", parley.Neutral, 0)}, decide)
		require.NoError(t, err)
		require.Len(t, res.DraftIDs, 1)
		return res.DraftIDs[0]
	}
	from, to := t0, t0.Add(7*24*time.Hour)
	before, beforeDecidedIn, beforeDecidedAfter := ingest("1"), ingest("2"), ingest("3")
	clock = t0.Add(time.Hour)
	in, inDecidedIn := ingest("4"), ingest("5")
	_, err := s.RejectDraft(ctx, beforeDecidedIn, "bo", "no")
	require.NoError(t, err)
	_, err = s.ApproveDraft(ctx, inDecidedIn, "bo", "")
	require.NoError(t, err)
	clock = to.Add(time.Hour)
	after := ingest("6")
	_, err = s.RejectDraft(ctx, beforeDecidedAfter, "bo", "no")
	require.NoError(t, err)

	w, err := s.DigestWindow(ctx, from, to, to)
	require.NoError(t, err)
	var ids []int64
	for _, d := range w.Drafts {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []int64{beforeDecidedIn, in, inDecidedIn}, ids, "ordered by creation; not %d, %d or %d", before, beforeDecidedAfter, after)

	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`EXPLAIN QUERY PLAN `+store.DigestDraftsQuery, 0, 1)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	rows.Close()
	for _, step := range plan {
		assert.NotRegexp(t, `^SCAN drafts\b`, step, "plan %q", plan)
	}
	assert.Contains(t, strings.Join(plan, "\n"), "drafts_decided")
}
