package bot_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/store/storetest"
)

// TestCorrectSentimentDecidesAgain: a fan's post the model called a
// confident negative got the complaint tag, its priority and an apology.
// Corrected to positive through the decision service, the rules the
// pipeline runs decide it again: the apology is withdrawn, a thank-you is
// queued, the tags and priority follow, the audit log names who corrected
// it, and OnDecided hears of both drafts.
func TestCorrectSentimentDecidesAgain(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	data, err := os.ReadFile("../rules/testdata/example.yaml")
	require.NoError(t, err)
	set, probs := rules.Parse("example.yaml", data, "Tidewater Skates")
	require.Empty(t, probs)

	m := mention(1, "vinny", "riptide shipped in 1 day, that's wild")
	m.Sentiment = parley.Sentiment{Label: parley.Negative, Score: -0.8, Confidence: 0.9, Model: "words"}
	res, err := st.IngestBatch(ctx, []*parley.Mention{&m}, set.Decide(nil))
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	apology, err := st.Draft(ctx, res.DraftIDs[0])
	require.NoError(t, err)
	require.Equal(t, "complaint", apology.Rule)
	before, err := st.Mention(ctx, m.ID)
	require.NoError(t, err)
	require.Contains(t, before.Tags, "complaint")

	var heard []string
	dec := bot.NewDecisions(st, bot.DecisionsOptions{Decide: set.Decide(nil),
		OnDecided: func(action string, d parley.Draft) { heard = append(heard, action+" "+d.Rule) }})
	rd, err := dec.CorrectSentiment(ctx, "ana", m.ID, parley.Positive)
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, rd.Mention.Sentiment.Label)
	assert.NotContains(t, rd.Mention.Tags, "complaint")
	assert.Contains(t, rd.Mention.Tags, "praise")
	assert.Less(t, rd.Mention.Priority, before.Priority, "a complaint's priority no longer")
	require.Len(t, rd.Replaced, 1)
	assert.Equal(t, apology.ID, rd.Replaced[0].ID)
	require.Len(t, rd.Queued, 1)
	assert.Equal(t, parley.DraftPending, rd.Queued[0].State)
	assert.NotContains(t, rd.Queued[0].Text, "sorry")
	assert.Equal(t, []string{"supersede complaint", "redecide " + rd.Queued[0].Rule}, heard)

	withdrawn, err := st.Draft(ctx, apology.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, withdrawn.State)
	for _, action := range []string{"supersede", "redecide"} {
		entries, err := st.AuditEntries(ctx, parley.AuditFilter{Action: action})
		require.NoError(t, err)
		require.Len(t, entries, 1, action)
		assert.Equal(t, "ana", entries[0].Actor, action)
	}

	// Without the rules the service only corrects the label.
	plain := bot.NewDecisions(st, bot.DecisionsOptions{})
	rd, err = plain.CorrectSentiment(ctx, "bo", m.ID, parley.Neutral)
	require.NoError(t, err)
	assert.Equal(t, parley.Neutral, rd.Mention.Sentiment.Label)
	assert.Empty(t, rd.Queued)
	assert.Empty(t, rd.Replaced)
	assert.Contains(t, rd.Mention.Tags, "praise", "tags left as they were")

	_, err = dec.CorrectSentiment(ctx, "ana", 999, parley.Positive)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}
