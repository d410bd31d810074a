package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCorrectSentimentWinsEverywhere(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := mention("1", "ana", "this deck is sick", parley.Negative, 0)
	b := mention("2", "ana", "ok", parley.Neutral, 5)
	_, err := s.IngestBatch(ctx, []*parley.Mention{a, b}, nil)
	require.NoError(t, err)

	_, err = s.CorrectSentiment(ctx, a.ID, parley.Positive, "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = s.CorrectSentiment(ctx, 999, parley.Positive, "bo")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	m, err := s.CorrectSentiment(ctx, a.ID, parley.Positive, "bo")
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, m.Sentiment.Label)
	assert.Equal(t, "corrected", m.Sentiment.Model)
	p, err := s.Person(ctx, m.PersonID)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Positive)
	assert.Equal(t, 0, p.Negative)
	assert.Equal(t, parley.Neutral, p.LastSentiment, "an older mention does not change the latest label")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, st.Sentiment[parley.Positive])
	assert.Equal(t, 0, st.Sentiment[parley.Negative])

	// Corrected again: the export keeps the model's first label and the
	// latest verdict.
	_, err = s.CorrectSentiment(ctx, a.ID, parley.Neutral, "cy")
	require.NoError(t, err)
	_, err = s.CorrectSentiment(ctx, b.ID, parley.Neutral, "cy") // agrees with the model
	require.NoError(t, err)
	cs, err := s.Corrections(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, parley.Negative, cs[0].ModelLabel)
	assert.Equal(t, parley.Neutral, cs[0].Label)
	assert.Equal(t, "cy", cs[0].Actor)
	assert.Equal(t, "this deck is sick", cs[0].Text)

	total, disagreed, err := s.CorrectionStats(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 3, total)
	assert.Equal(t, 2, disagreed)
	p, err = s.Person(ctx, m.PersonID)
	require.NoError(t, err)
	assert.Equal(t, []int{0, 0, 2}, []int{p.Positive, p.Negative, p.Neutral})
}
