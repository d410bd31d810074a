package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

func TestPersonAdvocate(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	_, err := s.IngestBatch(ctx, []*parley.Mention{mention("1", "jules", "love it", parley.Positive, 0)}, nil)
	require.NoError(t, err)
	p, err := s.FindPerson(ctx, parley.PlatformMastodon, "jules@example.social")
	require.NoError(t, err)

	e, err := s.PersonAdvocate(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, p.ID, e.Person.ID)
	assert.Empty(t, e.Note)
	assert.True(t, e.ScoredAt.IsZero())
	assert.Empty(t, e.ConfirmedBy)

	_, err = s.SaveAdvocates(ctx, []parley.AdvocateUpdate{{PersonID: p.ID, Score: 0.7, To: "candidate", Note: "3 warm posts"}}, t0)
	require.NoError(t, err)
	e, err = s.PersonAdvocate(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, "candidate", e.AdvocateState)
	assert.Equal(t, "3 warm posts", e.Note)
	assert.Equal(t, t0, e.ScoredAt)

	_, err = s.ConfirmAdvocate(ctx, p.ID, "ana")
	require.NoError(t, err)
	e, err = s.PersonAdvocate(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, "advocate", e.AdvocateState)
	assert.Equal(t, "ana", e.ConfirmedBy)
	assert.False(t, e.ConfirmedAt.IsZero())

	// The same as the list says.
	list, err := s.AdvocateEntries(ctx, nil, 0)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, list[0], e)

	_, err = s.PersonAdvocate(ctx, 999)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}
