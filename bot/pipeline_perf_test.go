package bot_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/store/storetest"
)

// TestPipelineConcurrentDecideMatchesInOrder runs the same mentions through
// the example rules in order and concurrently: the stores end up the same.
func TestPipelineConcurrentDecideMatchesInOrder(t *testing.T) {
	ctx := context.Background()
	data, err := readExampleRules()
	require.NoError(t, err)
	set, problems := rules.Parse("example.yaml", data, "Tidewater Skates")
	require.Empty(t, problems)
	texts := []string{"I love this deck", "my trucks arrived broken", "do you ship to Canada?", "love it again", "broken again, awful"}
	var ms []parley.Mention
	for i := 1; i <= 600; i++ {
		m := mention(i, fmt.Sprint("u", i%7), texts[i%len(texts)])
		if i%3 == 0 {
			m.InReplyTo = fmt.Sprint(i - 1 - i%4)
		}
		ms = append(ms, m)
	}
	type snapshot struct {
		stats  parley.Stats
		drafts []parley.Draft
		ms     []parley.Mention
	}
	var calls atomic.Int64
	decide := set.Decide(nil)
	counted := func(m *parley.Mention, h parley.History) []parley.Draft {
		calls.Add(1)
		return decide(m, h)
	}
	run := func(concurrent bool) snapshot {
		calls.Store(0)
		s := storetest.Open(t)
		p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{Decide: counted, ConcurrentDecide: concurrent,
			Workers: 3, BatchSize: 200})
		for _, m := range ms {
			m.ReceivedAt = t0
			require.NoError(t, p.Submit(ctx, m))
		}
		require.NoError(t, p.Close(ctx))
		var snap snapshot
		snap.stats, err = s.Stats(ctx)
		require.NoError(t, err)
		snap.drafts, err = s.Drafts(ctx, parley.DraftFilter{Limit: 10000})
		require.NoError(t, err)
		for i := range snap.drafts {
			snap.drafts[i].CreatedAt, snap.drafts[i].UpdatedAt, snap.drafts[i].DecidedAt = t0, t0, t0
		}
		for id := int64(1); id <= int64(snap.stats.Mentions); id++ {
			m, err := s.Mention(ctx, id)
			require.NoError(t, err)
			snap.ms = append(snap.ms, m)
		}
		return snap
	}
	inOrder := run(false)
	assert.EqualValues(t, 600, calls.Load(), "in order: once per mention")
	concurrent := run(true)
	assert.Greater(t, calls.Load(), int64(600), "concurrently: some mentions decided again on their true history")
	require.Equal(t, 600, inOrder.stats.Mentions)
	require.Greater(t, inOrder.stats.Drafts[parley.DraftPending], 100)
	assert.Equal(t, inOrder, concurrent)
}

func readExampleRules() ([]byte, error) { return os.ReadFile("../rules/testdata/example.yaml") }

// langClassifier records which way the pipeline asked.
type langClassifier struct {
	wordClassifier
	mu    sync.Mutex
	known map[string]string // text -> lang it was told
}

func (c *langClassifier) ClassifyLang(text, lang string) parley.Sentiment {
	c.mu.Lock()
	c.known[text] = lang
	c.mu.Unlock()
	return c.Classify(text)
}

func TestPipelineTellsTheClassifierTheLanguageThePlatformGave(t *testing.T) {
	ctx := context.Background()
	cl := &langClassifier{known: map[string]string{}}
	p := bot.NewPipeline(storetest.Open(t), cl, bot.PipelineOptions{})
	withLang := mention(1, "ana", "ich liebe es")
	withLang.Lang = "de"
	require.NoError(t, p.Submit(ctx, withLang))
	require.NoError(t, p.Submit(ctx, mention(2, "bo", "no language given")))
	require.NoError(t, p.Close(ctx))
	assert.Equal(t, map[string]string{"ich liebe es": "de"}, cl.known)
}
