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

func TestSavedReplyUsesCountOnceApprovedAndReachTheDigest(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	res, err := s.IngestBatch(ctx, []*parley.Mention{
		{Platform: parley.PlatformMastodon, ExternalID: "1", Author: parley.Person{ExternalID: "a", Handle: "ana@x.social"}, Text: "shipping?", CreatedAt: time.Now()},
		{Platform: parley.PlatformMastodon, ExternalID: "2", Author: parley.Person{ExternalID: "b", Handle: "bo@x.social"}, Text: "returns?", CreatedAt: time.Now()},
	}, func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "Hi"}} })
	require.NoError(t, err)
	ship, err := s.SaveReply(ctx, "maya", parley.SavedReply{Title: "Shipping", Text: "Two days."})
	require.NoError(t, err)
	_, err = s.SaveReply(ctx, "maya", parley.SavedReply{Title: "  ", Text: "x"})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "a title is needed")

	require.NoError(t, s.UseSavedReply(ctx, ship.ID, res.DraftIDs[0]))
	require.NoError(t, s.UseSavedReply(ctx, ship.ID, res.DraftIDs[1]))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.UseSavedReply(ctx, 999, res.DraftIDs[0])))
	got, err := s.SavedReply(ctx, ship.ID)
	require.NoError(t, err)
	assert.Zero(t, got.Uses, "pending drafts do not count")

	_, err = s.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	_, err = s.RejectDraft(ctx, res.DraftIDs[1], "ana", "")
	require.NoError(t, err)
	got, err = s.SavedReply(ctx, ship.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Uses, "the approved one counts, the rejected one not")

	w, err := s.DigestWindow(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), time.Now())
	require.NoError(t, err)
	assert.Equal(t, []parley.SavedReplyUse{{ID: ship.ID, Title: "Shipping", Uses: 1}}, w.SavedReplies)

	list, err := s.SavedReplies(ctx, "two DAYS", parley.PlatformDiscord)
	require.NoError(t, err)
	assert.Len(t, list, 1, "any platform's replies are offered everywhere; words match the text")
}
