package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestPlannedIngestIsExactlyIngestBatch runs batches through PlanBatch and
// CommitPlan the way the pipeline does (the next batch planned while the
// one before is written, on two goroutines), with approvals and rejections
// by someone else between some commits, and compares everything with
// IngestBatch one batch after the other: results, mentions, the history
// each decide call saw, and every row.
func TestPlannedIngestIsExactlyIngestBatch(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []int64{1, 2, 3, 4} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			clock := func() time.Time { return t0 }
			seq, pl := storetest.Open(t, storetest.Clock(clock)), storetest.Open(t, storetest.Clock(clock))
			var rs, rp historyRecorder
			const n = 10
			batches := randomBatches(seed, n, 120)
			copies := randomBatches(seed, n, 120)
			foreign := func(s *store.Store, i int) {
				// Someone approves and rejects drafts after batches 2 and 6.
				if i == 2 || i == 6 {
					decidePending(t, s)
				}
			}
			var want []parley.IngestResult
			for i, b := range batches {
				res, err := seq.IngestBatch(ctx, b, rs.decide)
				require.NoError(t, err)
				want = append(want, res)
				foreign(seq, i)
			}

			plans := make(chan parley.IngestPlan, 1)
			planErr := make(chan error, 1)
			go func() {
				defer close(plans)
				var prev parley.IngestPlan
				for i, b := range copies {
					p, err := pl.PlanBatch(ctx, b, rp.decide, parley.DecideOptions{Workers: 3, ExpectDrafts: i%2 == 0}, prev)
					if err != nil {
						planErr <- err
						return
					}
					plans <- p
					prev = p
				}
			}()
			i, held := 0, 0
			for p := range plans {
				got, err := pl.CommitPlan(ctx, p)
				require.NoError(t, err)
				require.Equal(t, want[i], got, "batch %d", i)
				if p.(*store.Plan).Held() {
					held++
				}
				foreign(pl, i)
				i++
			}
			select {
			case err := <-planErr:
				require.NoError(t, err)
			default:
			}
			require.Equal(t, n, i)
			for bi := range batches {
				for j := range batches[bi] {
					require.Equal(t, *batches[bi][j], *copies[bi][j], "batch %d mention %d as left by ingest", bi, j)
				}
			}
			assert.Equal(t, rs.last, rp.last, "the last call for each mention saw the same history")
			assert.Equal(t, dump(t, seq), dump(t, pl))
			// The first plan has nothing to check against, and the plans
			// made before each foreign write cannot hold; the rest do.
			t.Logf("held %d of %d", held, n)
			assert.GreaterOrEqual(t, held, n-5, "plans written as planned")
			assert.Less(t, held, n, "some plans were worked out again")
		})
	}
}

// TestPlanAfterAnotherIngest: an IngestBatch on the same store between a
// plan and its commit (it writes on the same connection, so only the
// store's own count of ingest commits shows it) makes the plan be worked
// out again; a CommitPlan that failed can be called again.
func TestPlanAfterAnotherIngest(t *testing.T) {
	ctx := context.Background()
	clock := func() time.Time { return t0 }
	seq, pl := storetest.Open(t, storetest.Clock(clock)), storetest.Open(t, storetest.Clock(clock))
	var rs, rp historyRecorder
	a, b, c := randomBatches(9, 3, 80), randomBatches(9, 3, 80), randomBatches(9, 3, 80)
	for i := range 3 {
		_, err := seq.IngestBatch(ctx, a[i], rs.decide)
		require.NoError(t, err)
	}
	o := parley.DecideOptions{Workers: 2}
	p0, err := pl.PlanBatch(ctx, b[0], rp.decide, o, nil)
	require.NoError(t, err)
	_, err = pl.CommitPlan(ctx, p0)
	require.NoError(t, err)
	p1, err := pl.PlanBatch(ctx, b[1], rp.decide, o, p0)
	require.NoError(t, err)
	// A cancelled commit writes nothing and can be tried again.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = pl.CommitPlan(cancelled, p1)
	require.Error(t, err)
	res1, err := pl.CommitPlan(ctx, p1)
	require.NoError(t, err)
	assert.Positive(t, res1.Stored)
	p2, err := pl.PlanBatch(ctx, b[2], rp.decide, o, p1)
	require.NoError(t, err)
	// Batch c[2] (the same mentions as b[2]) goes in first, directly.
	_, err = pl.IngestBatch(ctx, c[2], rp.decide)
	require.NoError(t, err)
	res2, err := pl.CommitPlan(ctx, p2)
	require.NoError(t, err)
	assert.False(t, p2.(*store.Plan).Held(), "the plan no longer held")
	assert.Zero(t, res2.Stored, "every mention of the plan is a duplicate now")
	assert.Equal(t, dump(t, seq), dump(t, pl))
}
