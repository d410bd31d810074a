package bot_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wordClassifier is a tiny deterministic classifier for tests.
type wordClassifier struct{}

func (wordClassifier) Name() string { return "words" }
func (wordClassifier) Classify(text string) parley.Sentiment {
	t := strings.ToLower(text)
	switch {
	case strings.Contains(t, "love"):
		return parley.Sentiment{Label: parley.Positive, Score: 0.8, Model: "words"}
	case strings.Contains(t, "broken"):
		return parley.Sentiment{Label: parley.Negative, Score: -0.7, Model: "words"}
	}
	return parley.Sentiment{Label: parley.Neutral, Model: "words"}
}

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func mention(i int, author, text string) parley.Mention {
	return parley.Mention{
		Platform:   parley.PlatformMastodon,
		ExternalID: fmt.Sprint(i),
		Author:     parley.Person{ExternalID: author, Handle: author + "@x.social"},
		Text:       text,
		CreatedAt:  t0.Add(time.Duration(i) * time.Second),
	}
}

func draftEveryNegative(m *parley.Mention, h parley.History) []parley.Draft {
	if m.Sentiment.Label == parley.Negative {
		m.Tags = append(m.Tags, "complaint")
		return []parley.Draft{{Text: "Sorry " + h.Person.Handle, Rule: "sorry"}}
	}
	return nil
}

func TestPipelineStoresInOrderAndFlushesOnClose(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{Decide: draftEveryNegative, ChunkSize: 7, BatchSize: 20, Workers: 3})
	// A 300-deep reply chain: each post answers the one before. Order must
	// survive parallel classification or the chain splits into threads.
	const n = 300
	for i := 1; i <= n; i++ {
		m := mention(i, fmt.Sprint("u", i%13), "this board is \x00broken\r\n")
		if i%2 == 0 {
			m.Text = "love it"
		}
		if i > 1 {
			m.InReplyTo = fmt.Sprint(i - 1)
		}
		require.NoError(t, p.Submit(ctx, m))
	}
	require.NoError(t, p.Close(ctx))
	st := p.Stats()
	assert.Equal(t, bot.PipelineStats{Submitted: n, Stored: n, Drafts: n / 2}, st)

	stats, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, n, stats.Mentions)
	assert.Equal(t, 1, stats.Threads, "the whole chain is one thread")
	assert.Equal(t, 13, stats.People)
	assert.Equal(t, n/2, stats.Sentiment[parley.Negative])
	// One conversation: each new draft supersedes the one before.
	assert.Equal(t, 1, stats.Drafts[parley.DraftPending])
	assert.Equal(t, n/2-1, stats.Drafts[parley.DraftSuperseded])

	m, err := s.Mention(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "this board is broken", m.Text, "normalized")
	assert.Equal(t, []string{"complaint"}, m.Tags)
	assert.Equal(t, "words", m.Sentiment.Model)

	err = p.Submit(ctx, mention(999, "x", "late"))
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err))
}

func TestPipelineReingestChangesNothing(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	run := func() bot.PipelineStats {
		p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{Decide: draftEveryNegative})
		for i := range 50 {
			require.NoError(t, p.Submit(ctx, mention(i, "ana", "broken again")))
		}
		require.NoError(t, p.Close(ctx))
		return p.Stats()
	}
	first := run()
	before, err := s.Stats(ctx)
	require.NoError(t, err)
	second := run()
	after, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(50), first.Stored)
	assert.Equal(t, int64(0), second.Stored)
	assert.Equal(t, int64(50), second.Duplicates)
	assert.Equal(t, before, after)
}

// flakyStore fails IngestBatch a number of times, then delegates.
type flakyStore struct {
	parley.MentionStore
	failures atomic.Int64
	calls    atomic.Int64
}

func (f *flakyStore) IngestBatch(ctx context.Context, ms []*parley.Mention, d parley.DecideFunc) (parley.IngestResult, error) {
	f.calls.Add(1)
	if f.failures.Add(-1) >= 0 {
		return parley.IngestResult{}, parley.Errorf(parley.EUNAVAILABLE, "database or disk is full")
	}
	return f.MentionStore.IngestBatch(ctx, ms, d)
}

func TestPipelineRetriesFailedWrites(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	fs := &flakyStore{MentionStore: s}
	fs.failures.Store(3)
	p := bot.NewPipeline(fs, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond})
	for i := range 10 {
		require.NoError(t, p.Submit(ctx, mention(i, "ana", "hi")))
	}
	require.NoError(t, p.Close(ctx))
	assert.Equal(t, int64(10), p.Stats().Stored)
	assert.GreaterOrEqual(t, fs.calls.Load(), int64(4))
}

func TestPipelineReportsWhatItCouldNotStore(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	fs := &flakyStore{MentionStore: s}
	fs.failures.Store(1000)
	p := bot.NewPipeline(fs, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond, MaxAttempts: 2})
	for i := range 10 {
		require.NoError(t, p.Submit(ctx, mention(i, "ana", "hi")))
	}
	err := p.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "10 mentions not stored")
	assert.Contains(t, err.Error(), "disk is full")
	assert.Equal(t, int64(10), p.Stats().Lost)
}

func TestPipelineCloseTimeoutStopsRetrying(t *testing.T) {
	s := storetest.Open(t)
	fs := &flakyStore{MentionStore: s}
	fs.failures.Store(1 << 40)
	p := bot.NewPipeline(fs, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond})
	require.NoError(t, p.Submit(context.Background(), mention(1, "ana", "hi")))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := p.Close(ctx)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.Equal(t, int64(1), p.Stats().Lost)
}

func TestSubmitHonoursContext(t *testing.T) {
	s := storetest.Open(t)
	block := make(chan struct{})
	var once sync.Once
	slow := bot.NewPipeline(s, classifierFunc(func(string) parley.Sentiment {
		<-block
		return parley.Sentiment{Label: parley.Neutral}
	}), bot.PipelineOptions{Workers: 1, ChunkSize: 1, BatchSize: 1})
	defer func() {
		once.Do(func() { close(block) })
		slow.Close(context.Background())
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	for i := 0; err == nil && i < 10000; i++ {
		err = slow.Submit(ctx, mention(i, "a", "x"))
	}
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "a full pipeline blocks Submit until ctx ends: %v", err)
}

type classifierFunc func(string) parley.Sentiment

func (f classifierFunc) Classify(s string) parley.Sentiment { return f(s) }
func (f classifierFunc) Name() string                       { return "func" }

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  hello  ":            "hello",
		"a\r\nb\rc":            "a\nb\nc",
		"tab\there":            "tab\there",
		"bell\x07 and \x00nul": "bell and nul",
		"bad \xff utf8":        "bad \uFFFD utf8",
		"emoji 🛹🔥 ok":          "emoji 🛹🔥 ok",
		"":                     "",
	} {
		assert.Equal(t, want, bot.Normalize(in), "%q", in)
	}
}

// detectingClassifier detects "de" for texts with "Danke".
type detectingClassifier struct{ wordClassifier }

func (l detectingClassifier) ClassifyWithLang(text string) (parley.Sentiment, string) {
	if strings.Contains(text, "Danke") {
		return parley.Sentiment{Label: parley.Neutral, Confidence: 0.2}, "de"
	}
	return l.Classify(text), "en"
}

func TestPipelineStoresTheDetectedLanguage(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	p := bot.NewPipeline(s, detectingClassifier{}, bot.PipelineOptions{})
	de := mention(1, "a", "Danke für das Board")
	given := mention(2, "b", "love it")
	given.Lang = "pt"
	require.NoError(t, p.Submit(ctx, de))
	require.NoError(t, p.Submit(ctx, given))
	require.NoError(t, p.Close(ctx))
	m1, err := s.Mention(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "de", m1.Lang)
	m2, err := s.Mention(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, "pt", m2.Lang, "the platform's language is kept")
}

// TestPipelinePreparesBeforeDeciding: Prepare runs on every mention once
// it is classified and normalized, before the writer's Decide sees it.
func TestPipelinePreparesBeforeDeciding(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	var prepared, unprepared atomic.Int64
	p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{
		Prepare: func(m *parley.Mention) {
			if m.Sentiment.Model != "words" || m.Text != strings.TrimSpace(m.Text) {
				t.Errorf("Prepare saw %q with sentiment %+v: not yet classified and normalized", m.Text, m.Sentiment)
			}
			m.Prepared = m.Text
		},
		Decide: func(m *parley.Mention, h parley.History) []parley.Draft {
			if m.Prepared == m.Text {
				prepared.Add(1)
			} else {
				unprepared.Add(1)
			}
			return nil
		},
		ConcurrentDecide: true,
		ChunkSize:        5,
	})
	for i := 1; i <= 200; i++ {
		require.NoError(t, p.Submit(ctx, mention(i, fmt.Sprint("u", i%9), fmt.Sprintf("  post %d ", i))))
	}
	require.NoError(t, p.Close(ctx))
	assert.GreaterOrEqual(t, prepared.Load(), int64(200))
	assert.Zero(t, unprepared.Load())
}

// TestPipelinePlanningMatchesOneBatch: with a store that plans (the next
// batch decided while the one before is written), the pipeline stores
// exactly what one IngestBatch of all the mentions, in order, stores,
// however the mentions fall into batches.
func TestPipelinePlanningMatchesOneBatch(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return t0 }
	open := func() *store.Store {
		s := storetest.Open(t, storetest.Clock(now))
		return s
	}
	// Reads the person's pending drafts and the thread's replies, so an
	// error in either shows in what it returns.
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		m.Tags = append(m.Tags, fmt.Sprintf("p%d-r%d", h.PendingDrafts, h.RepliesInThread))
		if (h.PendingDrafts+h.RepliesInThread+h.Person.Mentions)%3 == 0 {
			return nil
		}
		return []parley.Draft{{Text: fmt.Sprintf("hi %s (%d)", h.Person.Handle, h.ThreadMentions), Rule: "r"}}
	}
	var ms []parley.Mention
	for i := 1; i <= 3000; i++ {
		m := mention(i, fmt.Sprint("u", (i*7)%97), "love it")
		if i%3 == 0 {
			m.Text = "broken"
		}
		if i%4 == 0 && i > 10 {
			m.InReplyTo = fmt.Sprint(i - 1 - i%9)
		}
		m.ReceivedAt = t0
		ms = append(ms, m)
	}
	want := open()
	all := make([]*parley.Mention, len(ms))
	for i := range ms {
		m := ms[i]
		m.Sentiment = wordClassifier{}.Classify(m.Text)
		all[i] = &m
	}
	_, err := want.IngestBatch(ctx, all, decide)
	require.NoError(t, err)

	got := open()
	p := bot.NewPipeline(got, wordClassifier{}, bot.PipelineOptions{Decide: decide, ConcurrentDecide: true,
		ChunkSize: 10, BatchSize: 100, Workers: 3, Now: now, MaxAttempts: 2, RetryDelay: time.Millisecond})
	for _, m := range ms {
		require.NoError(t, p.Submit(ctx, m))
	}
	require.NoError(t, p.Close(ctx))
	assert.Equal(t, int64(3000), p.Stats().Stored)
	assert.Equal(t, dumpRows(t, want), dumpRows(t, got))
}

// dumpRows reads the rows ingest writes, for comparing two databases.
func dumpRows(t *testing.T, s *store.Store) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, external_id, mentions, positive, negative, pending_drafts FROM people ORDER BY id`,
		`SELECT id, root_key, mentions FROM threads ORDER BY id`,
		`SELECT id, external_id, person_id, thread_id, sentiment, tags FROM mentions ORDER BY id`,
		`SELECT id, mention_id, person_id, thread_id, text, state FROM drafts ORDER BY id`,
	} {
		rows, err := db.Query(q)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			fmt.Fprintln(&b, vals...)
		}
		require.NoError(t, rows.Close())
	}
	return b.String()
}

// gatedStore holds every IngestBatch until gate is closed.
type gatedStore struct {
	*store.Store
	gate chan struct{}
}

func (g *gatedStore) IngestBatch(ctx context.Context, ms []*parley.Mention, d parley.DecideFunc) (parley.IngestResult, error) {
	<-g.gate
	return g.Store.IngestBatch(ctx, ms, d)
}

// A source's cursor queued behind a mention is saved only once that
// mention is stored: a process killed before then must read it again.
func TestPipelineSavesACursorOnlyAfterTheMentionsBeforeIt(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	g := &gatedStore{Store: s, gate: make(chan struct{})}
	p := bot.NewPipeline(g, wordClassifier{}, bot.PipelineOptions{})
	require.NoError(t, p.Submit(ctx, mention(1, "ana", "hi")))
	require.NoError(t, parley.SaveCursor(ctx, p, s, "feed", "1"))
	require.NoError(t, p.Submit(ctx, mention(2, "ana", "again")))
	cur, err := s.Cursor(ctx, "feed")
	require.NoError(t, err)
	assert.Empty(t, cur, "mention 1 is not stored yet, so neither is the cursor past it")

	close(g.gate)
	require.NoError(t, p.Close(ctx))
	cur, err = s.Cursor(ctx, "feed")
	require.NoError(t, err)
	assert.Equal(t, "1", cur)
	assert.Equal(t, int64(2), p.Stats().Stored)
}

// Once a batch is given up, no cursor is saved any more: the restart must
// read those mentions again.
func TestPipelineSavesNoCursorAfterALostBatch(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	fs := &flakyStore{MentionStore: s}
	fs.failures.Store(1)
	withCursors := struct {
		*flakyStore
		parley.CursorStore
	}{fs, s}
	p := bot.NewPipeline(withCursors, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond, MaxAttempts: 1})
	require.NoError(t, p.Submit(ctx, mention(1, "ana", "hi")))
	require.NoError(t, p.Checkpoint(ctx, "feed", "1"))
	require.Eventually(t, func() bool { return p.Stats().Lost == 1 }, time.Minute, time.Millisecond)
	require.NoError(t, p.Submit(ctx, mention(2, "ana", "again")))
	require.NoError(t, p.Checkpoint(ctx, "feed", "2"))
	require.Error(t, p.Close(ctx))
	assert.Equal(t, int64(1), p.Stats().Stored, "the second batch is stored")
	cur, err := s.Cursor(ctx, "feed")
	require.NoError(t, err)
	assert.Empty(t, cur, "but its cursor would skip the lost mention")
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(p.Checkpoint(ctx, "feed", "3")), "closed")
}

// Cursors between mentions, and alone, go through the planning writer too;
// the last value of each key is the one kept.
func TestPipelinePlanningSavesCursorsInOrder(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{Decide: draftEveryNegative, ConcurrentDecide: true,
		ChunkSize: 3, BatchSize: 7, Workers: 2})
	require.NoError(t, p.Checkpoint(ctx, "b", "0"))
	for i := 1; i <= 40; i++ {
		require.NoError(t, p.Submit(ctx, mention(i, fmt.Sprint("u", i%5), "broken")))
		if i%4 == 0 {
			require.NoError(t, p.Checkpoint(ctx, "a", fmt.Sprint(i)))
		}
	}
	require.NoError(t, p.Close(ctx))
	assert.Equal(t, int64(40), p.Stats().Stored)
	for key, want := range map[string]string{"a": "40", "b": "0"} {
		cur, err := s.Cursor(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want, cur, key)
	}
}
