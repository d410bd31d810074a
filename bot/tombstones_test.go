package bot_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/storetest"
)

// After an erasure with a tombstone the person's new posts are not
// stored; everyone else's are.
func TestTombstonedAuthorsPostsAreNotStored(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	first := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{})
	require.NoError(t, first.Submit(ctx, mention(1, "eve", "hello")))
	require.NoError(t, first.Close(ctx))
	eve, err := s.FindPerson(ctx, parley.PlatformMastodon, "eve")
	require.NoError(t, err)
	_, err = s.ErasePerson(ctx, eve.ID, "ana", true)
	require.NoError(t, err)

	p := bot.NewPipeline(s, wordClassifier{}, bot.PipelineOptions{Blocked: bot.NewTombstones(s, 0, nil).Blocked})
	require.NoError(t, p.Submit(ctx, mention(2, "eve", "I am back")))
	require.NoError(t, p.Submit(ctx, mention(3, "bob", "hi")))
	require.NoError(t, p.Close(ctx))
	stats, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, stats.Mentions, "eve's first (erased) post and bob's")
	_, err = s.FindPerson(ctx, parley.PlatformMastodon, "eve")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "eve did not come back")
}
