package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// historyRecorder is a decide whose answer depends on every part of the
// history, safe for concurrent use; it remembers the history of each
// mention's last call.
type historyRecorder struct {
	mu    sync.Mutex
	last  map[string]parley.History
	calls int
}

func (r *historyRecorder) decide(m *parley.Mention, h parley.History) []parley.Draft {
	r.mu.Lock()
	if r.last == nil {
		r.last = map[string]parley.History{}
	}
	r.last[m.ExternalID] = h
	r.calls++
	r.mu.Unlock()
	m.Tags = append(m.Tags, fmt.Sprintf("p%d", h.PendingDrafts), fmt.Sprintf("r%d", h.RepliesInThread))
	m.Priority = max(m.Priority, h.PendingDrafts%5)
	m.Rules = []string{fmt.Sprintf("m%d", h.Person.Mentions)}
	m.Ignored = m.Ignored || h.ThreadMentions > 6
	switch (h.PendingDrafts + h.RepliesInThread + h.Person.Mentions + len(m.Text)) % 5 {
	case 0:
		return nil
	case 1:
		return []parley.Draft{{Text: "auto " + m.ExternalID, Rule: "auto", State: parley.DraftApproved, AutoApprove: true}}
	case 2:
		return []parley.Draft{{Text: "prompt " + m.ExternalID, Kind: parley.KindPrompt}}
	default:
		return []parley.Draft{{Text: fmt.Sprintf("reply %s p%d r%d", m.ExternalID, h.PendingDrafts, h.RepliesInThread), Rule: "reply",
			Priority: h.RepliesInThread}}
	}
}

// randomBatches makes batches with a few busy authors, replies to posts
// earlier in the same batch and in earlier batches, connector thread keys,
// duplicates, and mentions that arrive with tags.
func randomBatches(seed int64, batches, size int) [][]*parley.Mention {
	r := rand.New(rand.NewSource(seed))
	var out [][]*parley.Mention
	id := 0
	for b := 0; b < batches; b++ {
		var batch []*parley.Mention
		for i := 0; i < size; i++ {
			if id > 0 && r.Intn(20) == 0 {
				dup := fmt.Sprint(1 + r.Intn(id))
				m := mention(dup, "a0", "again", parley.Neutral, id)
				m.ReceivedAt = m.CreatedAt
				batch = append(batch, m)
				continue
			}
			id++
			label := parley.Labels[r.Intn(3)]
			m := mention(fmt.Sprint(id), fmt.Sprintf("a%d", r.Intn(6)), strings.Repeat("x", r.Intn(30)), label, id)
			m.ReceivedAt = m.CreatedAt
			switch r.Intn(6) {
			case 0, 1:
				if id > 1 {
					m.InReplyTo = fmt.Sprint(id - 1 - r.Intn(min(id-1, 10)))
				}
			case 2:
				m.ThreadKey = fmt.Sprintf("room%d", r.Intn(3))
			}
			if r.Intn(4) == 0 {
				m.Tags = make([]string, 1, 8) // room to append in place
				m.Tags[0] = "pre"
			}
			batch = append(batch, m)
		}
		out = append(out, batch)
	}
	return out
}

func TestIngestBatchConcurrentIsExactlyIngestBatch(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		seed   int64
		expect bool
	}{{1, false}, {2, false}, {3, false}, {1, true}, {2, true}, {3, true}} {
		seed, expect := c.seed, c.expect
		t.Run(fmt.Sprint(seed, expect), func(t *testing.T) {
			clock := func() time.Time { return t0 }
			seq, con := storetest.Open(t, storetest.Clock(clock)), storetest.Open(t, storetest.Clock(clock))
			var rs, rc historyRecorder
			for i, batch := range randomBatches(seed, 6, 120) {
				other := randomBatches(seed, 6, 120)[i] // the same mentions, fresh copies
				want, err := seq.IngestBatch(ctx, batch, rs.decide)
				require.NoError(t, err)
				got, err := con.IngestBatchConcurrent(ctx, other, rc.decide, parley.DecideOptions{Workers: 4, ExpectDrafts: expect})
				require.NoError(t, err)
				require.Equal(t, want, got, "batch %d", i)
				for j := range batch {
					require.Equal(t, *batch[j], *other[j], "batch %d mention %d as left by ingest", i, j)
				}
				if i == 2 {
					// Someone approves and rejects drafts between batches.
					decidePending(t, seq)
					decidePending(t, con)
				}
			}
			assert.Equal(t, rs.last, rc.last, "the last call for each mention saw the same history")
			assert.Greater(t, rc.calls, len(rc.last), "some mentions were decided again (the test covers the second pass)")
			assert.Equal(t, len(rs.last), rs.calls, "in order, decide runs once per mention")
			assert.Equal(t, dump(t, seq), dump(t, con))
		})
	}
}

// dump reads every row ingest writes, for comparing two databases.
func dump(t *testing.T, s *store.Store) string { return store.Dump(t, s) }

// decidePending approves every other pending draft and rejects the rest,
// as someone working the queue between batches.
func decidePending(t *testing.T, s *store.Store) {
	t.Helper()
	ctx := context.Background()
	ds, err := s.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 1000})
	require.NoError(t, err)
	for k, d := range ds {
		if k%2 == 0 {
			_, err = s.ApproveDraft(ctx, d.ID, "ana", "")
		} else {
			_, err = s.RejectDraft(ctx, d.ID, "ana", "no")
		}
		require.NoError(t, err)
	}
}

// repliesOnly is a decide that reads History.RepliesInThread but never
// History.PendingDrafts, safe for concurrent use.
func repliesOnly(calls *atomic.Int64) parley.DecideFunc {
	return func(m *parley.Mention, h parley.History) []parley.Draft {
		calls.Add(1)
		m.Tags = append(m.Tags, fmt.Sprintf("r%d", h.RepliesInThread))
		if (h.RepliesInThread+h.Person.Mentions+len(m.Text))%3 == 0 {
			return nil
		}
		d := parley.Draft{Text: fmt.Sprintf("reply %s r%d", m.ExternalID, h.RepliesInThread), Rule: "reply"}
		if len(m.Text)%2 == 0 {
			// An auto-approved reply counts for the thread's later
			// mentions (a rule's pending one is replaced by them).
			d.State = parley.DraftApproved
		}
		return []parley.Draft{d}
	}
}

// TestIngestBatchConcurrentIgnoredCounts: a count decide says it ignores
// does not make a mention decided again, and what is stored stays exactly
// what IngestBatch stores. Claiming to ignore a count decide does read
// changes what is stored (the option matters).
func TestIngestBatchConcurrentIgnoredCounts(t *testing.T) {
	ctx := context.Background()
	run := func(o parley.DecideOptions) (string, int64) {
		clock := func() time.Time { return t0 }
		s := storetest.Open(t, storetest.Clock(clock))
		var calls atomic.Int64
		for _, batch := range randomBatches(7, 5, 150) {
			var err error
			if o.Workers == 1 {
				_, err = s.IngestBatch(ctx, batch, repliesOnly(&calls))
			} else {
				_, err = s.IngestBatchConcurrent(ctx, batch, repliesOnly(&calls), o)
			}
			require.NoError(t, err)
		}
		return dump(t, s), calls.Load()
	}
	want, _ := run(parley.DecideOptions{Workers: 1})
	full, fullCalls := run(parley.DecideOptions{Workers: 4, ExpectDrafts: true})
	ignoring, ignoringCalls := run(parley.DecideOptions{Workers: 4, ExpectDrafts: true, IgnoresPendingDrafts: true})
	assert.Equal(t, want, full)
	assert.Equal(t, want, ignoring)
	assert.Less(t, ignoringCalls, fullCalls, "ignoring the pending count saves second calls")
	wrong, _ := run(parley.DecideOptions{Workers: 4, ExpectDrafts: true, IgnoresRepliesInThread: true})
	assert.NotEqual(t, want, wrong, "a count decide reads cannot be ignored")
}

func TestPendingDraftsCounterFollowsEveryChange(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	var seen []parley.History
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		seen = append(seen, h)
		return []parley.Draft{{Text: "hi"}}
	}
	ingest := func(id string) parley.History {
		t.Helper()
		_, err := s.IngestBatch(ctx, []*parley.Mention{mention(id, "ana", "text", parley.Neutral, len(seen))}, decide)
		require.NoError(t, err)
		return seen[len(seen)-1]
	}
	assert.Equal(t, 0, ingest("1").PendingDrafts)
	assert.Equal(t, 1, ingest("2").PendingDrafts)
	assert.Equal(t, 2, ingest("3").PendingDrafts)
	_, err := s.ApproveDraft(ctx, 1, "ana", "")
	require.NoError(t, err)
	_, err = s.RejectDraft(ctx, 2, "ana", "no")
	require.NoError(t, err)
	_, err = s.EditDraft(ctx, 3, "ana", "edited") // still pending
	require.NoError(t, err)
	assert.Equal(t, 1, ingest("4").PendingDrafts)
	_, err = s.QueueReply(ctx, 1, "ana", "a hand-written reply")
	require.NoError(t, err)
	assert.Equal(t, 3, ingest("5").PendingDrafts, "drafts 3 and 4, and the hand-written one")

	// The counter always equals a count of the drafts table.
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	var counter, counted int
	require.NoError(t, db.QueryRow(`SELECT pending_drafts, (SELECT count(*) FROM drafts WHERE person_id = people.id AND state = 'pending')
		FROM people WHERE external_id = 'ana'`).Scan(&counter, &counted))
	assert.Equal(t, 4, counted)
	assert.Equal(t, counted, counter)
}

// BenchmarkIngestBatchConcurrent is BenchmarkIngestBatch with the rules'
// stand-in evaluated on every core.
func BenchmarkIngestBatchConcurrent(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b)
	const batch = 512
	ms := make([]*parley.Mention, batch)
	n := 0
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		// About the cost of evaluating the example rules.
		deadline := time.Now().Add(15 * time.Microsecond)
		for time.Now().Before(deadline) {
		}
		if m.ExternalID[len(m.ExternalID)-1] == '7' {
			return []parley.Draft{{Text: "thanks"}}
		}
		return nil
	}
	for b.Loop() {
		for i := range ms {
			n++
			m := mention(fmt.Sprint(n), fmt.Sprint(n%5000), "some text about the brand 🛹", parley.Positive, n)
			if n%5 == 0 {
				m.InReplyTo = fmt.Sprint(n - 3)
			}
			ms[i] = m
		}
		if _, err := s.IngestBatchConcurrent(ctx, slices.Clone(ms), decide, parley.DecideOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "mentions/s")
}
