package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func testAlerts(t *testing.T, st Store) {
	ctx := context.Background()
	_, _, err := st.RaiseAlert(ctx, parley.Alert{Kind: parley.AlertMentionSpike, At: t0, Title: "x"}, time.Hour)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "an alert without a key")

	spike := parley.Alert{Kind: parley.AlertMentionSpike, Key: "all", At: t0, Title: "40 mentions in an hour",
		Detail: "usual 5", Count: 40, Threshold: 12.5}
	got, ok, err := st.RaiseAlert(ctx, spike, 2*time.Hour)
	require.NoError(t, err)
	require.True(t, ok)
	assert.NotZero(t, got.ID)

	again := spike
	again.At = t0.Add(time.Hour)
	_, ok, err = st.RaiseAlert(ctx, again, 2*time.Hour)
	require.NoError(t, err)
	assert.False(t, ok, "within the cooldown")
	other := again
	other.Kind = parley.AlertNegativeSpike
	_, ok, err = st.RaiseAlert(ctx, other, 2*time.Hour)
	require.NoError(t, err)
	assert.True(t, ok, "another kind has its own cooldown")
	again.At = t0.Add(2*time.Hour + time.Minute)
	_, ok, err = st.RaiseAlert(ctx, again, 2*time.Hour)
	require.NoError(t, err)
	assert.True(t, ok, "after the cooldown")

	all, err := st.Alerts(ctx, parley.AlertFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	assert.Equal(t, parley.AlertMentionSpike, all[0].Kind, "newest first")
	assert.True(t, all[2].At.Equal(t0))
	assert.Equal(t, 40, all[2].Count)
	assert.InDelta(t, 12.5, all[2].Threshold, 1e-9)
	assert.Equal(t, "usual 5", all[2].Detail)
	some, err := st.Alerts(ctx, parley.AlertFilter{Kind: parley.AlertMentionSpike, Since: t0.Add(time.Minute)})
	require.NoError(t, err)
	require.Len(t, some, 1)
	counts, err := st.AlertCounts(ctx, t0, t0.Add(24*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{parley.AlertMentionSpike: 2, parley.AlertNegativeSpike: 1}, counts)
}

func testAlertSignals(t *testing.T, st Store) {
	ctx := context.Background()
	first, err := st.EarliestMention(ctx)
	require.NoError(t, err)
	assert.True(t, first.IsZero(), "no mentions yet")
	big := mention("s1", "big", "this is terrible", 10)
	big.Author.Followers = 50000
	big.Sentiment = parley.Sentiment{Label: parley.Negative}
	small := mention("s2", "small", "this is terrible too", 20)
	small.Author.Followers = 10
	small.Sentiment = parley.Sentiment{Label: parley.Negative}
	happy := mention("s3", "happy", "love it", 30)
	happy.Author.Followers = 90000
	happy.Sentiment = parley.Sentiment{Label: parley.Positive}
	ingest(t, st, nil, big, small, happy)
	var c parley.MentionCount

	c, err = st.CountMentions(ctx, t0, t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, parley.MentionCount{All: 3, Negative: 2}, c)
	c, err = st.CountMentions(ctx, t0.Add(15*time.Minute), t0.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, parley.MentionCount{All: 2, Negative: 1}, c)

	first, err = st.EarliestMention(ctx)
	require.NoError(t, err)
	assert.True(t, first.Equal(big.CreatedAt), "%s", first)

	ms, err := st.NegativeMentionsFrom(ctx, t0, t0.Add(time.Hour), 10000)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, big.ID, ms[0].ID)
	assert.Equal(t, 50000, ms[0].Author.Followers)
	ms, err = st.NegativeMentionsFrom(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), 0)
	require.NoError(t, err)
	assert.Empty(t, ms)
}
