package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func mention(id, author, text string, label parley.Label, minutes int) *parley.Mention {
	return &parley.Mention{
		Platform:   parley.PlatformMastodon,
		ExternalID: id,
		Author:     parley.Person{ExternalID: author, Handle: author + "@example.social", Name: "User " + author, Followers: 10},
		Text:       text,
		CreatedAt:  t0.Add(time.Duration(minutes) * time.Minute),
		Sentiment:  parley.Sentiment{Label: label, Score: 0.5},
	}
}

func TestIngestDedupesAndCountsHistory(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	var seen []parley.History
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		seen = append(seen, h)
		m.Tags = []string{"t1", "t2"}
		m.Rules = []string{"r"}
		m.Priority = 2
		return []parley.Draft{{Text: "hi " + h.Person.DisplayName(), Rule: "r"}}
	}
	res, err := s.IngestBatch(ctx, []*parley.Mention{
		mention("1", "ana", "love it", parley.Positive, 0),
		mention("2", "ana", "broken", parley.Negative, 5),
		mention("1", "ana", "love it", parley.Positive, 0), // repeated in the batch
	}, decide)
	require.NoError(t, err)
	assert.Equal(t, 2, res.Stored)
	assert.Equal(t, 1, res.Duplicates)
	assert.Equal(t, 2, res.Drafts)
	require.Len(t, seen, 2)
	assert.True(t, seen[0].FirstTime())
	assert.Equal(t, 1, seen[1].Person.Mentions)
	assert.Equal(t, 1, seen[1].Person.Positive)
	assert.Equal(t, parley.Positive, seen[1].Person.LastSentiment)
	assert.Equal(t, 1, seen[1].PendingDrafts)

	// Re-ingesting changes nothing and does not call decide.
	before, err := s.Stats(ctx)
	require.NoError(t, err)
	res, err = s.IngestBatch(ctx, []*parley.Mention{mention("1", "ana", "love it", parley.Positive, 0)}, decide)
	require.NoError(t, err)
	assert.Equal(t, parley.IngestResult{Duplicates: 1, DraftIDs: nil}, res)
	after, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	assert.Len(t, seen, 2)

	assert.Equal(t, 2, after.Mentions)
	assert.Equal(t, 1, after.People)
	assert.Equal(t, 2, after.Threads)
	assert.Equal(t, 2, after.Drafts[parley.DraftPending])
	assert.Equal(t, 1, after.Sentiment[parley.Negative])

	p, err := s.FindPerson(ctx, parley.PlatformMastodon, "@ana@example.social")
	require.NoError(t, err)
	assert.Equal(t, 2, p.Mentions)
	assert.Equal(t, parley.Negative, p.LastSentiment)
	assert.Equal(t, t0, p.FirstSeen)

	ms, err := s.PersonMentions(ctx, p.ID, 10)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, "2", ms[0].ExternalID, "newest first")
	assert.Equal(t, []string{"t1", "t2"}, ms[0].Tags)
	assert.Equal(t, 2, ms[0].Priority)
	assert.Equal(t, "ana@example.social", ms[0].Author.Handle)
}

func TestThreads(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	root := mention("10", "ana", "where is my order?", parley.Negative, 0)
	reply := mention("11", "bob", "same here", parley.Negative, 1)
	reply.InReplyTo = "10"
	// A reply whose parent arrives later (out of order) joins it.
	early := mention("21", "cy", "+1", parley.Neutral, 3)
	early.InReplyTo = "20"
	late := mention("20", "dee", "late parent", parley.Neutral, 2)
	var threadMentions []int
	_, err := s.IngestBatch(ctx, []*parley.Mention{root, reply, early, late}, func(m *parley.Mention, h parley.History) []parley.Draft {
		threadMentions = append(threadMentions, h.ThreadMentions)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []int{0, 1, 0, 1}, threadMentions)
	assert.Equal(t, root.ThreadID, reply.ThreadID)
	assert.Equal(t, early.ThreadID, late.ThreadID)
	assert.NotEqual(t, root.ThreadID, early.ThreadID)

	th, err := s.ThreadMentions(ctx, late.ThreadID)
	require.NoError(t, err)
	require.Len(t, th, 2)
	assert.Equal(t, "20", th[0].ExternalID, "oldest first")

	// A reply to our own posted reply joins the thread.
	_, err = s.IngestBatch(ctx, []*parley.Mention{mention("30", "ana", "thanks?", parley.Neutral, 10)},
		func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "answer"}} })
	require.NoError(t, err)
	ds, err := s.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	_, err = s.ApproveDraft(ctx, ds[0].ID, "ana-manager", "")
	require.NoError(t, err)
	claimed, err := s.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, s.MarkSent(ctx, ds[0].ID, "posted-99", time.Now()))
	answer := mention("31", "ana", "ok thanks", parley.Positive, 12)
	answer.InReplyTo = "posted-99"
	var h31 parley.History
	_, err = s.IngestBatch(ctx, []*parley.Mention{answer}, func(m *parley.Mention, h parley.History) []parley.Draft {
		h31 = h
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, ds[0].ThreadID, answer.ThreadID)
	assert.Equal(t, 1, h31.RepliesInThread)
	assert.Equal(t, 1, h31.Person.RepliesSent)
}

func seedDraft(t *testing.T, s *store.Store, id string) parley.Draft {
	t.Helper()
	res, err := s.IngestBatch(context.Background(), []*parley.Mention{mention(id, "ana", "help?", parley.Neutral, 0)},
		func(m *parley.Mention, h parley.History) []parley.Draft {
			return []parley.Draft{{Text: "We will help", Rule: "question", Priority: 1}}
		})
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	d, err := s.Draft(context.Background(), res.DraftIDs[0])
	require.NoError(t, err)
	return d
}

func TestApproveEditReject(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	d := seedDraft(t, s, "1")
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Equal(t, "question", d.Rule)

	_, err := s.ApproveDraft(ctx, d.ID, "", "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = s.EditDraft(ctx, d.ID, "bo", "   ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))

	e, err := s.EditDraft(ctx, d.ID, "bo", "We will help, Ana")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, e.State)
	assert.Equal(t, "We will help, Ana", e.Text)
	assert.Equal(t, "We will help", e.OriginalText)

	a, err := s.ApproveDraft(ctx, d.ID, "ana", "")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, a.State)
	assert.Equal(t, "ana", a.DecidedBy)
	assert.Equal(t, "We will help", a.OriginalText, "the rule's wording is kept after several edits")

	_, err = s.ApproveDraft(ctx, d.ID, "bo", "")
	require.Error(t, err)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "already approved by ana")
	_, err = s.RejectDraft(ctx, d.ID, "bo", "no")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))

	r := seedDraft(t, s, "2")
	rr, err := s.RejectDraft(ctx, r.ID, "bo", "off-brand")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftRejected, rr.State)
	_, err = s.ApproveDraft(ctx, r.ID, "ana", "")
	assert.Contains(t, err.Error(), "already rejected by bo")

	_, err = s.ApproveDraft(ctx, 999, "ana", "")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	audit, err := s.Audit(ctx, 10)
	require.NoError(t, err)
	var actions []string
	for _, e := range audit {
		actions = append(actions, e.Actor+":"+e.Action)
	}
	assert.ElementsMatch(t, []string{"bo:edit", "ana:approve", "bo:reject"}, actions)
}

func TestConcurrentApproveOnlyOneWins(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	d := seedDraft(t, s, "1")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ApproveDraft(ctx, d.ID, fmt.Sprintf("m%d", i), "")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), err)
		}
	}
	assert.Equal(t, 1, ok)
}

func TestOutboxLifecycle(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	d := seedDraft(t, s, "1")
	none, err := s.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	assert.Empty(t, none, "a pending draft is never claimed")

	_, err = s.ApproveDraft(ctx, d.ID, "ana", "")
	require.NoError(t, err)
	now := time.Now()
	c, err := s.ClaimDrafts(ctx, 10, now)
	require.NoError(t, err)
	require.Len(t, c, 1)
	assert.Equal(t, parley.DraftSending, c[0].State)
	assert.Equal(t, 1, c[0].Attempts)

	again, err := s.ClaimDrafts(ctx, 10, now)
	require.NoError(t, err)
	assert.Empty(t, again, "a claimed draft is not claimed twice within the lease")

	// Temporary failure: retried at retryAt.
	require.NoError(t, s.MarkFailed(ctx, d.ID, "503 from server", now.Add(time.Minute)))
	c, err = s.ClaimDrafts(ctx, 10, now.Add(30*time.Second))
	require.NoError(t, err)
	assert.Empty(t, c)
	c, err = s.ClaimDrafts(ctx, 10, now.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, c, 1)
	assert.Equal(t, 2, c[0].Attempts)
	assert.Equal(t, "503 from server", c[0].LastError)

	// A crash leaves it sending: after the lease it is claimed again.
	c, err = s.ClaimDrafts(ctx, 10, now.Add(2*time.Minute+store.SendLease+time.Second))
	require.NoError(t, err)
	require.Len(t, c, 1)
	assert.Equal(t, 3, c[0].Attempts)
	assert.Equal(t, "parley-draft-"+fmt.Sprint(d.ID), c[0].IdempotencyKey())

	require.NoError(t, s.MarkSent(ctx, d.ID, "srv-1", now))
	err = s.MarkSent(ctx, d.ID, "srv-2", now)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	sent, err := s.Draft(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSent, sent.State)
	assert.Equal(t, "srv-1", sent.PostedID)

	// Permanent failure.
	f := seedDraft(t, s, "2")
	_, err = s.ApproveDraft(ctx, f.ID, "ana", "")
	require.NoError(t, err)
	_, err = s.ClaimDrafts(ctx, 10, now.Add(time.Hour))
	require.NoError(t, err)
	require.NoError(t, s.MarkFailed(ctx, f.ID, "422 text too long", time.Time{}))
	ff, err := s.Draft(ctx, f.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftFailed, ff.State)
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Drafts[parley.DraftSent])
	assert.Equal(t, 1, st.Drafts[parley.DraftFailed])
}

func TestDraftsFilterAndOrder(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	_, err := s.IngestBatch(ctx, []*parley.Mention{
		mention("1", "a", "x", parley.Neutral, 0),
		mention("2", "b", "y", parley.Negative, 1),
		mention("3", "c", "z", parley.Neutral, 2),
	}, func(m *parley.Mention, h parley.History) []parley.Draft {
		p := 0
		if m.ExternalID == "3" {
			p = 5
		}
		return []parley.Draft{{Text: "r" + m.ExternalID, Priority: p}}
	})
	require.NoError(t, err)
	ds, err := s.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	assert.Equal(t, []string{"r3", "r1", "r2"}, []string{ds[0].Text, ds[1].Text, ds[2].Text})

	mark := time.Now()
	time.Sleep(5 * time.Millisecond)
	_, err = s.RejectDraft(ctx, ds[2].ID, "x", "")
	require.NoError(t, err)
	changed, err := s.Drafts(ctx, parley.DraftFilter{UpdatedAfter: mark})
	require.NoError(t, err)
	require.Len(t, changed, 1)
	assert.Equal(t, ds[2].ID, changed[0].ID)
}

func TestCursors(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	v, err := s.Cursor(ctx, "mastodon:x:notifications")
	require.NoError(t, err)
	assert.Empty(t, v)
	require.NoError(t, s.SetCursor(ctx, "mastodon:x:notifications", "100"))
	require.NoError(t, s.SetCursor(ctx, "mastodon:x:notifications", "105"))
	v, err = s.Cursor(ctx, "mastodon:x:notifications")
	require.NoError(t, err)
	assert.Equal(t, "105", v)
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sub", "parley.db")
	s := storetest.Open(t, storetest.Path(path))
	_, err := s.IngestBatch(ctx, []*parley.Mention{mention("1", "a", "x", parley.Neutral, 0)}, nil)
	require.NoError(t, err)
	v1, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	s = storetest.Open(t, storetest.Path(path))
	v2, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, v1, v2)
	assert.Positive(t, v2)
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Mentions)
}

func TestOpenRejectsNonDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(path, []byte("this is not sqlite, just some text that is long enough to look like a header...................................."), 0o600))
	_, err := store.Open(context.Background(), path, store.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a Parley database")
}

func TestMentionNotFound(t *testing.T) {
	s := storetest.Open(t)
	_, err := s.Mention(context.Background(), 42)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	_, err = s.Person(context.Background(), 42)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	_, err = s.FindPerson(context.Background(), "", "nobody")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

func BenchmarkIngestBatch(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b)
	const batch = 512
	ms := make([]*parley.Mention, batch)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for i := range ms {
			n++
			m := mention(fmt.Sprint(n), fmt.Sprint(n%5000), "some text about the brand 🛹", parley.Positive, n)
			if n%5 == 0 {
				m.InReplyTo = fmt.Sprint(n - 3)
			}
			ms[i] = m
		}
		if _, err := s.IngestBatch(ctx, ms, func(m *parley.Mention, h parley.History) []parley.Draft {
			if m.ExternalID[len(m.ExternalID)-1] == '7' {
				return []parley.Draft{{Text: "thanks"}}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "mentions/s")
}

// TestQueueStats: the cheap counts agree with Stats.
func TestQueueStats(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		return []parley.Draft{{Text: "hi " + m.ExternalID}}
	}
	var batch []*parley.Mention
	for i := range 30 {
		batch = append(batch, mention(fmt.Sprint(i), fmt.Sprint("a", i%4), "text", parley.Labels[i%3], i))
	}
	res, err := s.IngestBatch(ctx, batch, decide)
	require.NoError(t, err)
	_, err = s.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	_, err = s.RejectDraft(ctx, res.DraftIDs[1], "ana", "no")
	require.NoError(t, err)
	full, err := s.Stats(ctx)
	require.NoError(t, err)
	quick, err := s.QueueStats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 30, quick.Mentions)
	assert.Equal(t, full.Mentions, quick.Mentions)
	assert.Equal(t, full.Drafts, quick.Drafts)
	assert.Equal(t, 28, quick.Drafts[parley.DraftPending])
	pending, err := s.PendingDrafts(ctx, 1000)
	require.NoError(t, err)
	assert.Equal(t, 28, pending)
	pending, err = s.PendingDrafts(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 10, pending, "counted up to the limit")
}
