package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// claimSignal reports every ClaimDrafts call, so a test knows the outbox
// looked (and found nothing to claim) without sleeping.
type claimSignal struct {
	*store.Store
	claims chan int
}

func (c *claimSignal) ClaimDrafts(ctx context.Context, limit int, now time.Time) ([]parley.Draft, error) {
	ds, err := c.Store.ClaimDrafts(ctx, limit, now)
	select {
	case c.claims <- len(ds):
	default:
	}
	return ds, err
}

// waitIdleClaims waits until the outbox has looked n times and claimed
// nothing.
func waitIdleClaims(t *testing.T, c *claimSignal, n int) {
	t.Helper()
	for seen := 0; seen < n; {
		select {
		case k := <-c.claims:
			require.Zero(t, k, "the outbox claimed a draft in its grace period")
			seen++
		case <-time.After(10 * time.Second):
			t.Fatal("the outbox stopped looking for drafts")
		}
	}
}

func graceSetup(t *testing.T) (*fakeClock, *store.Store, *bot.Decisions, int64) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	s := storetest.Open(t, storetest.Clock(clock.Now))
	res, err := s.IngestBatch(context.Background(), []*parley.Mention{ptr(mention(1, "ana", "broken"))},
		func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "Sorry!"}} })
	require.NoError(t, err)
	dec := bot.NewDecisions(s, bot.DecisionsOptions{Grace: 10 * time.Second})
	return clock, s, dec, res.DraftIDs[0]
}

func TestOutboxNeverPostsADraftInItsGracePeriod(t *testing.T) {
	ctx := context.Background()
	clock, s, dec, id := graceSetup(t)
	d, err := dec.Approve(ctx, "ana", id, nil)
	require.NoError(t, err)
	assert.Equal(t, clock.Now().Add(10*time.Second), d.SendAfter.UTC())

	fp := newFakePlatform()
	cs := &claimSignal{Store: s, claims: make(chan int)}
	// A fresh outbox takes over what a crashed run left: not a draft in
	// its grace period (the deadline is in the database, so a restart
	// keeps it).
	o := bot.NewOutbox(cs, []parley.Sender{fp}, bot.OutboxOptions{Interval: time.Millisecond, Now: clock.Now})
	stop := runOutbox(t, o)
	defer stop()
	waitIdleClaims(t, cs, 3)
	clock.Add(9 * time.Second)
	waitIdleClaims(t, cs, 3)
	fp.mu.Lock()
	assert.Zero(t, fp.calls)
	fp.mu.Unlock()

	clock.Add(time.Second)
	sent := waitState(t, s, id, parley.DraftSent)
	assert.Equal(t, "post-1", sent.PostedID)
}

func TestUndoWithinTheGracePeriodNeverPosts(t *testing.T) {
	ctx := context.Background()
	clock, s, dec, id := graceSetup(t)
	_, err := dec.Approve(ctx, "ana", id, nil)
	require.NoError(t, err)
	clock.Add(9 * time.Second)
	d, err := dec.Undo(ctx, "ana", id)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Empty(t, d.DecidedBy)
	assert.True(t, d.SendAfter.IsZero())

	audit, err := s.Audit(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "undo", audit[0].Action)
	assert.Equal(t, "ana", audit[0].Actor)

	fp := newFakePlatform()
	cs := &claimSignal{Store: s, claims: make(chan int)}
	o := bot.NewOutbox(cs, []parley.Sender{fp}, bot.OutboxOptions{Interval: time.Millisecond, Now: clock.Now})
	stop := runOutbox(t, o)
	clock.Add(time.Hour)
	waitIdleClaims(t, cs, 3)
	stop()
	fp.mu.Lock()
	assert.Zero(t, fp.calls, "an undone draft is never posted")
	fp.mu.Unlock()

	_, err = dec.Undo(ctx, "ana", id)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "nothing to undo: %v", err)
}

func TestUndoAfterTheGracePeriodIsRefused(t *testing.T) {
	ctx := context.Background()
	clock, _, dec, id := graceSetup(t)
	_, err := dec.Approve(ctx, "ana", id, nil)
	require.NoError(t, err)
	clock.Add(10 * time.Second)
	_, err = dec.Undo(ctx, "ana", id)
	require.Error(t, err)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "can no longer be undone")
}

func TestUndoSupersedesARuleDraftWrittenMeanwhile(t *testing.T) {
	ctx := context.Background()
	_, s, dec, id := graceSetup(t)
	_, err := dec.Approve(ctx, "ana", id, nil)
	require.NoError(t, err)
	// The customer writes again in the same thread; the rule drafts anew.
	m := mention(2, "ana", "still broken")
	m.InReplyTo = "1"
	res, err := s.IngestBatch(ctx, []*parley.Mention{&m},
		func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "Looking"}} })
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	_, err = dec.Undo(ctx, "ana", id)
	require.NoError(t, err)
	other, err := s.Draft(ctx, res.DraftIDs[0])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, other.State, "one pending reply per conversation")
}

type limitedSender struct {
	*fakePlatform
	limit int
}

func (l limitedSender) MaxTextLength() int { return l.limit }

func TestTextLimitIsTheSmallestOfThePlatformsSenders(t *testing.T) {
	limit := bot.TextLimit([]parley.Sender{limitedSender{newFakePlatform(), 640}, limitedSender{newFakePlatform(), 500}, newFakePlatform()})
	assert.Equal(t, 500, limit(parley.PlatformMastodon))
	assert.Zero(t, limit(parley.PlatformDiscord), "no sender knows Discord's here")
}
