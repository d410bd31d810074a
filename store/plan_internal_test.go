package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestPlanOnAPlanRewrittenAfterAFailure: a plan made on top of another
// that held when its commit began, failed (a full disk), and was worked
// out again after someone else wrote, must not hold either.
func TestPlanOnAPlanRewrittenAfterAFailure(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	open := func() *Store { return openForTest(t, "", Options{Now: func() time.Time { return at }}) }
	// decide's tags show the pending drafts and replies it saw.
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		m.Tags = append(m.Tags, fmt.Sprintf("p%d-r%d-m%d", h.PendingDrafts, h.RepliesInThread, h.Person.Mentions))
		return []parley.Draft{{Text: "hi " + m.ExternalID}}
	}
	batch := func(b int) []*parley.Mention {
		var ms []*parley.Mention
		for i := range 40 {
			id := b*100 + i
			ms = append(ms, &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprint(id),
				Author: parley.Person{ExternalID: fmt.Sprint("a", i%3)}, Text: strings.Repeat("words ", 20),
				CreatedAt: at.Add(time.Duration(id) * time.Minute)})
		}
		return ms
	}
	approveFirst := func(s *Store) {
		ds, err := s.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 1})
		require.NoError(t, err)
		_, err = s.ApproveDraft(ctx, ds[0].ID, "ana", "")
		require.NoError(t, err)
	}

	want := open()
	_, err := want.IngestBatch(ctx, batch(0), decide)
	require.NoError(t, err)
	approveFirst(want)
	for b := 1; b <= 2; b++ {
		_, err = want.IngestBatch(ctx, batch(b), decide)
		require.NoError(t, err)
	}

	s := open()
	o := parley.DecideOptions{Workers: 2}
	_, err = s.IngestBatch(ctx, batch(0), decide)
	require.NoError(t, err)
	p1, err := s.PlanBatch(ctx, batch(1), decide, o, nil)
	require.NoError(t, err)
	type planned struct {
		p   parley.IngestPlan
		err error
	}
	second := make(chan planned, 1)
	go func() {
		p, err := s.PlanBatch(ctx, batch(2), decide, o, p1) // waits for p1's commit to begin
		second <- planned{p, err}
	}()
	var pages int
	require.NoError(t, s.idb.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages))
	_, err = s.idb.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages))
	require.NoError(t, err)
	_, err = s.CommitPlan(ctx, p1)
	require.Error(t, err, "the disk is full")
	assert.True(t, p1.(*Plan).valid, "p1 held when its commit began")
	p2 := <-second
	require.NoError(t, p2.err)
	approveFirst(s) // someone else writes before p1 is retried
	_, err = s.idb.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`)
	require.NoError(t, err)
	_, err = s.CommitPlan(ctx, p1)
	require.NoError(t, err)
	// A first try that fails before it could check must not forget what
	// p2 was made on.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.CommitPlan(cancelled, p2.p)
	require.Error(t, err)
	_, err = s.CommitPlan(ctx, p2.p)
	require.NoError(t, err)
	assert.False(t, p2.p.(*Plan).Held(), "p2 was made on a plan that was not written as planned")
	assert.Nil(t, p2.p.(*Plan).base, "a committed plan lets go of the plan before (else every plan stays in memory)")
	assert.Equal(t, Dump(t, want), Dump(t, s))
}
