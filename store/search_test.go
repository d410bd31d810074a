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

func TestSearchMentions(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := mention("1", "ana", "My wheels cracked #fail", parley.Negative, 0)
	b := mention("2", "marcus", "Wheels are great, love them", parley.Positive, 60)
	c := mention("3", "ana", "the fail was the bearings", parley.Negative, 24*60)
	c.InReplyTo = "1"
	_, err := s.IngestBatch(ctx, []*parley.Mention{a, b}, replyRule)
	require.NoError(t, err)
	// A later batch: the index follows ingest.
	_, err = s.IngestBatch(ctx, []*parley.Mention{c}, replyRule)
	require.NoError(t, err)

	ids := func(q parley.MentionQuery) []string {
		t.Helper()
		ms, err := s.SearchMentions(ctx, q)
		require.NoError(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.ExternalID)
			assert.NotZero(t, m.ThreadID, "each result names its conversation")
		}
		return out
	}
	assert.Equal(t, []string{"2", "1"}, ids(parley.MentionQuery{Text: "wheels"}), "newest first, any case")
	assert.Equal(t, []string{"1"}, ids(parley.MentionQuery{Text: "#fail"}), "the hashtag, not the word")
	assert.Equal(t, []string{"3", "1"}, ids(parley.MentionQuery{Text: "fail"}))
	assert.Equal(t, []string{"3", "1"}, ids(parley.MentionQuery{Text: "@ana"}))
	assert.Equal(t, []string{"3"}, ids(parley.MentionQuery{Text: "@ANA bearings"}))
	assert.Equal(t, []string{"3"}, ids(parley.MentionQuery{Since: t0.Add(2 * time.Hour)}))
	assert.Equal(t, []string{"1"}, ids(parley.MentionQuery{Text: "@ana", Until: t0.Add(time.Hour)}))
	assert.Empty(t, ids(parley.MentionQuery{Text: `"unbalanced AND OR ( quote`}), "query syntax is never interpreted")
	_, err = s.SearchMentions(ctx, parley.MentionQuery{Text: "  "})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	ms, err := s.SearchMentions(ctx, parley.MentionQuery{Text: "bearings"})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	assert.Equal(t, a.ThreadID, ms[0].ThreadID, "a reply is in its thread's conversation")
}
