package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/store/storetest"
)

// exampleDecide is the rule set config.example.yaml ships.
func exampleDecide(t *testing.T) parley.DecideFunc {
	t.Helper()
	data, err := os.ReadFile("../rules/testdata/example.yaml")
	require.NoError(t, err)
	set, probs := rules.Parse("example.yaml", data, "Tidewater Skates")
	require.Empty(t, probs)
	return set.Decide(nil)
}

// TestCorrectionRedecidesTheDraft: a fan's post the model called a
// confident negative got the complaint tag and an apology; corrected to
// positive, the rules decide again: the apology is withdrawn (kept as
// rejected), a thank-you is queued, and the tags and priority follow.
func TestCorrectionRedecidesTheDraft(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	decide := exampleDecide(t)
	m := mention("1", "vinny", "riptide shipped in 1 day, that's wild", parley.Negative, 0)
	m.Sentiment.Confidence = 0.9
	res, err := s.IngestBatch(ctx, []*parley.Mention{m}, decide)
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	apology, err := s.Draft(ctx, res.DraftIDs[0])
	require.NoError(t, err)
	require.Equal(t, "complaint", apology.Rule)
	require.Contains(t, apology.Text, "sorry")

	rd, err := s.CorrectSentimentAndRedecide(ctx, m.ID, parley.Positive, "ana", decide)
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, rd.Mention.Sentiment.Label)
	assert.Equal(t, []string{"praise"}, rd.Mention.Tags)
	assert.Equal(t, []string{"thank-first-timer"}, rd.Mention.Rules)
	assert.Equal(t, 1, rd.Mention.Priority)
	require.Len(t, rd.Replaced, 1)
	assert.Equal(t, apology.ID, rd.Replaced[0].ID)
	require.Len(t, rd.Queued, 1)
	thanks := rd.Queued[0]
	assert.Equal(t, "thank-first-timer", thanks.Rule, "a first-timer still: the history is the one before the post")
	assert.Equal(t, parley.DraftPending, thanks.State)
	assert.Contains(t, thanks.Text, "Thanks so much")
	assert.Equal(t, m.ID, thanks.MentionID)
	assert.Equal(t, m.ThreadID, thanks.ThreadID)

	stored, err := s.Draft(ctx, apology.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, stored.State, "withdrawn, kept, never sent")
	entries, err := s.AuditEntries(ctx, parley.AuditFilter{Action: "supersede"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "ana", entries[0].Actor)
	assert.Equal(t, apology.ID, entries[0].DraftID)
	pending, err := s.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, thanks.ID, pending[0].ID)
	p, err := s.Person(ctx, m.PersonID)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Positive)

	// The same correction again changes nothing: the draft is kept.
	rd, err = s.CorrectSentimentAndRedecide(ctx, m.ID, parley.Positive, "ana", decide)
	require.NoError(t, err)
	assert.Empty(t, rd.Replaced)
	assert.Empty(t, rd.Queued)
	require.Len(t, rd.Kept, 1)
	assert.Equal(t, thanks.ID, rd.Kept[0].ID)

	// Once a reply is approved, a correction cannot recall it: tags follow,
	// no second draft is queued.
	_, err = s.ApproveDraft(ctx, thanks.ID, "ana", "")
	require.NoError(t, err)
	rd, err = s.CorrectSentimentAndRedecide(ctx, m.ID, parley.Negative, "bo", decide)
	require.NoError(t, err)
	assert.Equal(t, []string{"complaint"}, rd.Mention.Tags)
	assert.Empty(t, rd.Queued)
	require.Len(t, rd.Kept, 1)
	assert.Equal(t, parley.DraftApproved, rd.Kept[0].State)
}

// TestCorrectionRedecideSeesEarlierHistory: a returning customer's post is
// decided again with the history before it, so the reply still knows them.
func TestCorrectionRedecideSeesEarlierHistory(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	decide := exampleDecide(t)
	first := mention("1", "sam", "my deck snapped, not happy", parley.Negative, 0)
	first.Sentiment.Confidence = 0.9
	second := mention("2", "sam", "the replacement deck arrived today", parley.Neutral, 60)
	second.InReplyTo = "1"
	second.Sentiment.Confidence = 0.7
	_, err := s.IngestBatch(ctx, []*parley.Mention{first, second}, decide)
	require.NoError(t, err)

	rd, err := s.CorrectSentimentAndRedecide(ctx, second.ID, parley.Negative, "ana", decide)
	require.NoError(t, err)
	require.Len(t, rd.Queued, 1)
	assert.Equal(t, "complaint", rd.Queued[0].Rule)
	assert.Contains(t, rd.Queued[0].Text, "I'm sorry this is still not right", "their last post was negative")

	// The conversation's pending reply answers the later message: deciding
	// the earlier one again queues nothing beside it.
	rd, err = s.CorrectSentimentAndRedecide(ctx, first.ID, parley.Positive, "ana", decide)
	require.NoError(t, err)
	assert.Equal(t, []string{"praise"}, rd.Mention.Tags)
	assert.Empty(t, rd.Queued)

	// Without rules, a correction only corrects.
	rd, err = s.CorrectSentimentAndRedecide(ctx, second.ID, parley.Positive, "ana", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"complaint"}, rd.Mention.Tags)
	assert.Empty(t, rd.Replaced)
}

// TestCorrectionKeepsAPersonsEdit: a pending reply a person edited is never
// replaced by a correction; the tags still follow.
func TestCorrectionKeepsAPersonsEdit(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	decide := exampleDecide(t)
	m := mention("1", "vinny", "the deck is wild", parley.Negative, 0)
	m.Sentiment.Confidence = 0.9
	res, err := s.IngestBatch(ctx, []*parley.Mention{m}, decide)
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	_, err = s.EditDraft(ctx, res.DraftIDs[0], "ana", "Glad you like it, Vinny!")
	require.NoError(t, err)
	rd, err := s.CorrectSentimentAndRedecide(ctx, m.ID, parley.Positive, "ana", decide)
	require.NoError(t, err)
	assert.Equal(t, []string{"praise"}, rd.Mention.Tags)
	assert.Empty(t, rd.Replaced)
	assert.Empty(t, rd.Queued)
	require.Len(t, rd.Kept, 1)
	assert.Equal(t, "Glad you like it, Vinny!", rd.Kept[0].Text)
}
