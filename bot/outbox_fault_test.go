package bot_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestFaultPlatformErrorsThenRecovers: the Mastodon server answers 500s
// and 429s for a while, then recovers. Listening loses no mention, every
// approved reply is retried with backoff and posted exactly once, and the
// failed attempts are counted in /metrics.
func TestFaultPlatformErrorsThenRecovers(t *testing.T) {
	ctx := context.Background()
	srv := mastodontest.NewServer(t)
	st := storetest.Open(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	conn, err := mastodon.New(mastodon.Config{Server: srv.URL}, mastodontest.Token, st, logger,
		mastodon.WithBackoff(50*time.Millisecond, 500*time.Millisecond), mastodon.WithPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	metrics := bot.NewMetrics()

	// Three people write while the server fails every request.
	var want []string
	for i := range 3 {
		a := srv.AddAccount(fmt.Sprint("fan", i), mastodontest.AccountOptions{Domain: "other.example", DisplayName: fmt.Sprint("Fan ", i)})
		s, _ := srv.AddMention(a, fmt.Sprintf("my order %d arrived broken", i))
		want = append(want, s.ID)
	}
	srv.FailNext(6, http.StatusInternalServerError)
	failedListen := time.Now()

	p := bot.NewPipeline(st, wordClassifier{}, bot.PipelineOptions{Decide: draftEveryNegative, OnStored: func(_ []*parley.Mention, res parley.IngestResult) {
		metrics.ObserveIngest(res)
	}})
	lctx, stopListening := context.WithCancel(ctx)
	listened := make(chan error, 1)
	go func() { listened <- conn.Run(lctx, p) }()
	require.Eventually(t, func() bool {
		s, err := st.Stats(ctx)
		return err == nil && s.Mentions == 3
	}, 60*time.Second, 20*time.Millisecond, "every mention arrives once the server recovers")
	assert.Positive(t, srv.CountRequests("", "/api/v1/"), "it kept trying")
	t.Logf("listened in %s", time.Since(failedListen))

	// Approve the three replies, then the server fails again: two 500s and
	// two 429s before it posts anything.
	drafts, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, drafts, 3)
	for _, d := range drafts {
		_, err := st.ApproveDraft(ctx, d.ID, "ana", "")
		require.NoError(t, err)
	}
	stopListening()
	assert.NoError(t, <-listened, "the connector stops cleanly")
	srv.FailNext(2, http.StatusInternalServerError)
	failedAt := time.Now()

	outbox := bot.NewOutbox(st, []parley.Sender{conn}, bot.OutboxOptions{Logger: logger, Interval: 20 * time.Millisecond,
		RetryBase: 100 * time.Millisecond, OnResult: metrics.ObserveSend})
	octx, stopOutbox := context.WithCancel(ctx)
	outboxDone := make(chan struct{})
	go func() { defer close(outboxDone); assert.NoError(t, outbox.Run(octx)) }()
	defer func() { stopOutbox(); <-outboxDone }()
	// The 429s come once the 500s are spent.
	require.Eventually(t, func() bool { return srv.CountRequests(http.MethodPost, "/api/v1/statuses") >= 2 },
		10*time.Second, 5*time.Millisecond)
	srv.RateLimitNext(2, time.Second)

	require.Eventually(t, func() bool {
		s, err := st.Stats(ctx)
		return err == nil && s.Drafts[parley.DraftSent] == 3
	}, 60*time.Second, 20*time.Millisecond, "every approved reply is sent once the server recovers")
	recovered := time.Since(failedAt)
	t.Logf("sent in %s", recovered)

	assert.Equal(t, 3, srv.PostCount(), "each reply posted exactly once")
	replied := map[string]int{}
	for _, post := range srv.Posts() {
		require.NotNil(t, post.InReplyToID)
		replied[*post.InReplyToID]++
	}
	for _, id := range want {
		assert.Equal(t, 1, replied[id], "one reply to status %s", id)
	}
	retried := 0
	for _, d := range drafts {
		got, err := st.Draft(ctx, d.ID)
		require.NoError(t, err)
		if got.Attempts > 1 {
			retried++
		}
	}
	assert.Positive(t, retried, "some drafts needed more than one attempt")
	assert.Greater(t, recovered, 100*time.Millisecond, "retries waited (backoff), not hammered the server")

	// /metrics counts the failed attempts and the sends.
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(metrics.Registry(), promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	assert.Equal(t, 3.0, metricValue(t, body, `parley_sends_total{platform="mastodon",result="sent"}`))
	assert.GreaterOrEqual(t, metricValue(t, body, `parley_sends_total{platform="mastodon",result="error"}`), 2.0)
	assert.GreaterOrEqual(t, metricValue(t, body, `parley_connector_errors_total{platform="mastodon"}`), 2.0)
	assert.Equal(t, 3.0, metricValue(t, body, `parley_mentions_ingested_total{result="stored"}`))
	require.NoError(t, p.Close(ctx))
}

func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "no %s in:\n%s", series, body)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}

// flakyReads fails the first reads of a mention the way the store reports
// a database another process holds locked (EUNAVAILABLE).
type flakyReads struct {
	*store.Store
	mu    sync.Mutex
	fails int
}

func (f *flakyReads) Mention(ctx context.Context, id int64) (parley.Mention, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return parley.Mention{}, parley.Errorf(parley.EUNAVAILABLE, "read: the database stayed locked by another process")
	}
	return f.Store.Mention(ctx, id)
}

// A transient read error before sending is retried with backoff; the
// draft is not failed for good.
func TestOutboxRetriesATransientStoreError(t *testing.T) {
	s := storetest.Open(t)
	fp := newFakePlatform()
	d := approvedDraft(t, s, 1)
	fs := &flakyReads{Store: s, fails: 2}
	o := bot.NewOutbox(fs, []parley.Sender{fp}, bot.OutboxOptions{Interval: 5 * time.Millisecond, RetryBase: 10 * time.Millisecond})
	stop := runOutbox(t, o)
	defer stop()
	sent := waitState(t, s, d.ID, parley.DraftSent)
	assert.Equal(t, 3, sent.Attempts, "two transient failures, then sent")
	fp.mu.Lock()
	defer fp.mu.Unlock()
	assert.Equal(t, 1, fp.calls, "nothing was posted while the store could not be read")
}
