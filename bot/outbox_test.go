package bot_test

import (
	"context"
	"fmt"
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

// fakePlatform is a platform that, like Mastodon with Idempotency-Key,
// answers a repeated key with the post it already made.
type fakePlatform struct {
	mu       sync.Mutex
	posts    map[string]string // idempotency key -> post id
	calls    int
	failNext int   // answer EUNAVAILABLE this many times
	refuse   error // answer this for every call when set
	sent     chan parley.Outgoing
}

func newFakePlatform() *fakePlatform {
	return &fakePlatform{posts: map[string]string{}, sent: make(chan parley.Outgoing, 100)}
}

func (f *fakePlatform) Platform() string { return parley.PlatformMastodon }

func (f *fakePlatform) Send(ctx context.Context, out parley.Outgoing) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.refuse != nil {
		return "", f.refuse
	}
	if f.failNext > 0 {
		f.failNext--
		return "", parley.Errorf(parley.EUNAVAILABLE, "503 Service Unavailable")
	}
	key := out.Draft.IdempotencyKey()
	if id, ok := f.posts[key]; ok {
		return id, nil
	}
	id := fmt.Sprintf("post-%d", len(f.posts)+1)
	f.posts[key] = id
	f.sent <- out
	return id, nil
}

func approvedDraft(t *testing.T, s *store.Store, id int) parley.Draft {
	t.Helper()
	ctx := context.Background()
	res, err := s.IngestBatch(ctx, []*parley.Mention{ptr(mention(id, "ana", "broken"))},
		func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "Sorry!"}} })
	require.NoError(t, err)
	d, err := s.ApproveDraft(ctx, res.DraftIDs[0], "manager", "")
	require.NoError(t, err)
	return d
}

func ptr[T any](v T) *T { return &v }

func runOutbox(t *testing.T, o *bot.Outbox) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, o.Run(ctx))
	}()
	return func() {
		cancel()
		<-done
	}
}

func waitState(t *testing.T, s *store.Store, id int64, want parley.DraftState) parley.Draft {
	t.Helper()
	var d parley.Draft
	require.Eventually(t, func() bool {
		var err error
		d, err = s.Draft(context.Background(), id)
		require.NoError(t, err)
		return d.State == want
	}, 5*time.Second, 5*time.Millisecond, "draft %d never became %s", id, want)
	return d
}

func TestOutboxSendsApprovedReply(t *testing.T) {
	s := storetest.Open(t)
	fp := newFakePlatform()
	d := approvedDraft(t, s, 1)
	o := bot.NewOutbox(s, []parley.Sender{fp}, bot.OutboxOptions{Interval: 10 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	sent := waitState(t, s, d.ID, parley.DraftSent)
	assert.Equal(t, "post-1", sent.PostedID)
	out := <-fp.sent
	require.NotNil(t, out.InReplyTo)
	assert.Equal(t, "1", out.InReplyTo.ExternalID)
	assert.Equal(t, "ana@x.social", out.To.Handle)
	assert.Equal(t, "Sorry!", out.Draft.Text)
}

func TestOutboxRetriesUnavailableWithBackoff(t *testing.T) {
	s := storetest.Open(t)
	fp := newFakePlatform()
	fp.failNext = 2
	d := approvedDraft(t, s, 1)
	o := bot.NewOutbox(s, []parley.Sender{fp}, bot.OutboxOptions{Interval: 5 * time.Millisecond, RetryBase: 20 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	sent := waitState(t, s, d.ID, parley.DraftSent)
	assert.Equal(t, 3, sent.Attempts)
	fp.mu.Lock()
	defer fp.mu.Unlock()
	assert.Equal(t, 3, fp.calls, "no spinning: one call per attempt")
	assert.Len(t, fp.posts, 1)
}

func TestOutboxFailsRefusedDraftForGood(t *testing.T) {
	s := storetest.Open(t)
	fp := newFakePlatform()
	fp.refuse = parley.Errorf(parley.EINVALID, "422 Validation failed: Text character limit of 500 exceeded")
	d := approvedDraft(t, s, 1)
	o := bot.NewOutbox(s, []parley.Sender{fp}, bot.OutboxOptions{Interval: 5 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	failed := waitState(t, s, d.ID, parley.DraftFailed)
	assert.Contains(t, failed.LastError, "character limit")
	assert.Equal(t, 1, failed.Attempts)
}

func TestOutboxRetakesDraftLeftSendingByACrash(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	fp := newFakePlatform()
	d := approvedDraft(t, s, 1)
	// A first run claimed it and posted, then died before recording.
	claimed, err := s.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	_, err = fp.Send(ctx, parley.Outgoing{Draft: claimed[0]})
	require.NoError(t, err)
	<-fp.sent

	o := bot.NewOutbox(s, []parley.Sender{fp}, bot.OutboxOptions{Interval: 5 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	sent := waitState(t, s, d.ID, parley.DraftSent)
	assert.Equal(t, "post-1", sent.PostedID, "the retry got the first post back")
	fp.mu.Lock()
	defer fp.mu.Unlock()
	assert.Len(t, fp.posts, 1, "posted once")
	assert.Equal(t, 2, fp.calls)
}

func TestOutboxWithoutSenderLeavesDraftWaiting(t *testing.T) {
	s := storetest.Open(t)
	d := approvedDraft(t, s, 1)
	o := bot.NewOutbox(s, nil, bot.OutboxOptions{Interval: 5 * time.Millisecond})
	stop := runOutbox(t, o)
	var got parley.Draft
	require.Eventually(t, func() bool {
		got, _ = s.Draft(context.Background(), d.ID)
		return got.LastError != ""
	}, 5*time.Second, 5*time.Millisecond)
	stop()
	assert.Equal(t, parley.DraftApproved, got.State)
	assert.Contains(t, got.LastError, "no mastodon connector")
}

// accountPlatform is a fakePlatform that posts as one named account.
type accountPlatform struct {
	*fakePlatform
	account string
}

func (a accountPlatform) Account() string { return a.account }

func TestOutboxRoutesRepliesThroughTheAccountThatHeardTheMention(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	main, second := accountPlatform{newFakePlatform(), "main"}, accountPlatform{newFakePlatform(), "eu"}
	m := mention(1, "ana", "broken")
	m.Account, m.ExternalID = "eu", "eu:1"
	res, err := s.IngestBatch(ctx, []*parley.Mention{&m},
		func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "Sorry!"}} })
	require.NoError(t, err)
	_, err = s.ApproveDraft(ctx, res.DraftIDs[0], "manager", "")
	require.NoError(t, err)
	stored, err := s.Mention(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, "eu", stored.Account)

	o := bot.NewOutbox(s, []parley.Sender{main, second}, bot.OutboxOptions{Interval: 5 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	waitState(t, s, res.DraftIDs[0], parley.DraftSent)
	out := <-second.sent
	assert.Equal(t, "eu:1", out.InReplyTo.ExternalID)
	assert.Empty(t, main.posts, "not posted through the other account")
}

func TestOutboxHoldsPromptsInQuietHours(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	fp := newFakePlatform()
	d := approvedDraft(t, s, 1)
	// Turn the reply into a prompt the way a prompt draft looks: same
	// queue, kind prompt.
	d.Kind = parley.KindPrompt
	held := make(chan time.Time, 10)
	until := time.Now().Add(time.Hour)
	o := bot.NewOutbox(&kindStore{Store: s, kind: parley.KindPrompt}, []parley.Sender{fp}, bot.OutboxOptions{
		Interval: 5 * time.Millisecond,
		HoldPrompt: func(d parley.Draft, to parley.Person, now time.Time) (time.Time, bool) {
			held <- now
			return until, true
		},
	})
	stop := runOutbox(t, o)
	<-held
	var got parley.Draft
	require.Eventually(t, func() bool {
		got, _ = s.Draft(ctx, d.ID)
		return got.State == parley.DraftApproved && got.LastError != ""
	}, 5*time.Second, 5*time.Millisecond)
	stop()
	assert.Contains(t, got.LastError, "quiet hours")
	fp.mu.Lock()
	defer fp.mu.Unlock()
	assert.Zero(t, fp.calls, "nothing was sent during quiet hours")
}

// kindStore makes every claimed draft of one kind.
type kindStore struct {
	*store.Store
	kind string
}

func (k *kindStore) ClaimDrafts(ctx context.Context, limit int, now time.Time) ([]parley.Draft, error) {
	ds, err := k.Store.ClaimDrafts(ctx, limit, now)
	for i := range ds {
		ds[i].Kind = k.kind
	}
	return ds, err
}
