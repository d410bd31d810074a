package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestSendingDraftStaysWithItsLiveNode: node a claims a draft for sending.
// While a lives, node b never claims it, not even when it takes over
// everything left sending (a time far ahead); once a is gone (its
// liveness lease released on close, or run out), b claims it at once.
func TestSendingDraftStaysWithItsLiveNode(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url, postgres.Options{Node: "node-a"})
	require.NoError(t, err)
	b, err := postgres.Open(ctx, url, postgres.Options{Node: "node-b"})
	require.NoError(t, err)
	defer b.Close()

	m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: "1", Text: "my order is late",
		Author: parley.Person{ExternalID: "p1", Handle: "eve@skate.social"}, CreatedAt: time.Now().UTC()}
	res, err := a.IngestBatch(ctx, []*parley.Mention{m}, func(*parley.Mention, parley.History) []parley.Draft {
		return []parley.Draft{{Rule: "sorry", Text: "Sorry!"}}
	})
	require.NoError(t, err)
	_, err = a.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	claimed, err := a.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	taken, err := b.ClaimDrafts(ctx, 10, time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, taken, "a draft a live node is sending stays with it")

	require.NoError(t, a.Close()) // gone: its lease is released
	taken, err = b.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, taken, 1, "taken over at once, not a send lease later")
	assert.Equal(t, 2, taken[0].Attempts)
	leases, err := b.Leases(ctx)
	require.NoError(t, err)
	var names []string
	for _, l := range leases {
		names = append(names, l.Name)
	}
	assert.Contains(t, names, "node:node-b")
}
