package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBusiestPersonAndThread(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	p, th, err := s.Busiest(ctx)
	require.NoError(t, err)
	assert.Zero(t, p, "no mentions, no busiest person")
	assert.Zero(t, th)

	reply := mention("3", "bo", "me too", parley.Neutral, 2)
	reply.InReplyTo = "1"
	_, err = s.IngestBatch(ctx, []*parley.Mention{
		mention("1", "ana", "love it", parley.Positive, 0),
		mention("2", "ana", "broken", parley.Negative, 1),
		reply,
	}, nil)
	require.NoError(t, err)
	p, th, err = s.Busiest(ctx)
	require.NoError(t, err)
	ana, err := s.PersonMentions(ctx, p, 10)
	require.NoError(t, err)
	require.Len(t, ana, 2, "ana wrote the most")
	assert.Equal(t, "ana", ana[0].Author.ExternalID)
	thread, err := s.ThreadMentions(ctx, th)
	require.NoError(t, err)
	assert.Len(t, thread, 2, "the thread of mention 1 and its reply is the biggest")
}

func TestBaselineInsertWritesTheSchemaRows(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "raw.db")
	ms := []*parley.Mention{
		mention("1", "ana", "love it", parley.Positive, 0),
		mention("2", "ana", "broken", parley.Negative, 1),
		mention("3", "bo", "me too", parley.Neutral, 2),
	}
	ms[2].InReplyTo = "1"
	i := 0
	err := store.BaselineInsert(ctx, path, func() (parley.Mention, bool) {
		if i == len(ms) {
			return parley.Mention{}, false
		}
		i++
		return *ms[i-1], true
	})
	require.NoError(t, err)

	s := storetest.Open(t, storetest.Path(path))
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, st.Mentions)
	assert.Equal(t, 2, st.People)
}
