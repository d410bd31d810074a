package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

func TestOutboxStatusCursorsAndRetry(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	res, err := s.IngestBatch(ctx, []*parley.Mention{
		mention("1", "ana", "broken", parley.Negative, 0), mention("2", "bo", "late", parley.Negative, 1),
		mention("3", "cy", "hello", parley.Neutral, 2),
	}, func(m *parley.Mention, _ parley.History) []parley.Draft {
		return []parley.Draft{{Text: "Hi " + m.ExternalID, Rule: "r"}}
	})
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 3)
	a, b, c := res.DraftIDs[0], res.DraftIDs[1], res.DraftIDs[2]
	for _, id := range []int64{a, b, c} {
		_, err := s.ApproveDraft(ctx, id, "ana", "")
		require.NoError(t, err)
	}
	now := time.Now()
	_, err = s.ClaimDrafts(ctx, 2, now)
	require.NoError(t, err)
	require.NoError(t, s.MarkFailed(ctx, a, "422 refused", time.Time{}))
	require.NoError(t, s.MarkFailed(ctx, b, "502 bad gateway", now.Add(time.Hour)))

	o, err := s.OutboxStatus(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 2, o.Approved, "b waits for its retry, c for its first attempt")
	assert.Equal(t, 1, o.Retrying)
	assert.Equal(t, 0, o.Sending)
	assert.Equal(t, 1, o.Failed)
	require.Len(t, o.Failing, 2)
	assert.ElementsMatch(t, []int64{a, b}, []int64{o.Failing[0].ID, o.Failing[1].ID})

	// Retry: a failed draft is approved again and due now; a retrying one
	// is due now; one that never went has nothing to retry.
	d, err := s.RetryDraft(ctx, a, "root")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State)
	_, err = s.RetryDraft(ctx, b, "root")
	require.NoError(t, err)
	_, err = s.RetryDraft(ctx, c, "root")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "%v", err)
	_, err = s.RetryDraft(ctx, a, "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	claimed, err := s.ClaimDrafts(ctx, 10, now)
	require.NoError(t, err)
	assert.Len(t, claimed, 3, "all three are due now")
	audit, err := s.Audit(ctx, 2)
	require.NoError(t, err)
	for _, e := range audit {
		assert.Equal(t, "retry", e.Action)
		assert.Equal(t, "root", e.Actor)
	}

	require.NoError(t, s.SetCursor(ctx, "mastodon:x:1:notifications", "99"))
	require.NoError(t, s.SetCursor(ctx, "discord:channel:5", "7"))
	cs, err := s.Cursors(ctx)
	require.NoError(t, err)
	require.Len(t, cs, 2)
	assert.Equal(t, "discord:channel:5", cs[0].Key)
	assert.Equal(t, "99", cs[1].Value)
	assert.False(t, cs[1].UpdatedAt.IsZero())
}
