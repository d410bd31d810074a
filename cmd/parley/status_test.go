package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/store/storetest"
)

// failedDraftDB makes a database holding one draft the platform refused.
// It answers the status externalID.
func failedDraftDB(t *testing.T, externalID string) (db string, draftID int64) {
	t.Helper()
	ctx := context.Background()
	db = filepath.Join(t.TempDir(), "p.db")
	st := storetest.Open(t, storetest.Path(db))
	m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: externalID, Text: "hi", CreatedAt: time.Now().Add(-time.Hour),
		Author: parley.Person{Platform: parley.PlatformMastodon, ExternalID: "p1", Handle: "zed@other.example"}}
	res, err := st.IngestBatch(ctx, []*parley.Mention{m}, func(*parley.Mention, parley.History) []parley.Draft {
		return []parley.Draft{{Text: "Hello Zed", Rule: "hi"}}
	})
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 1)
	_, err = st.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	_, err = st.ClaimDrafts(ctx, 1, time.Now())
	require.NoError(t, err)
	require.NoError(t, st.MarkFailed(ctx, res.DraftIDs[0], "mastodon refused the post: 422 Validation failed", time.Time{}))
	return db, res.DraftIDs[0]
}

var listenAddr = regexp.MustCompile(`msg="parley running" .* inbox=http://(\S+)`)

func TestStatusCommandLiveAndFromTheDatabase(t *testing.T) {
	srv := mastodontest.NewServer(t)
	zed := srv.AddAccount("zed", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Zed"})
	old, _ := srv.AddMention(zed, "@tidewater hi")
	db, failed := failedDraftDB(t, old.ID)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
web:
  metrics_token_env: PARLEY_TEST_METRICS_TOKEN
rules:
  - name: sorry
    when: sentiment.label == "negative"
    reply: "Sorry {{first .Person}}, DM us your order number."
`, srv.URL))
	env := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": mastodontest.Token, "PARLEY_TEST_METRICS_TOKEN": "s3cret", "USER": "tester"}

	// Nothing runs: the database says what it holds.
	r := parleyEnv(t, env, "status", "--config", cfg, "--db", db, "--addr", "127.0.0.1:1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "no parley answers at http://127.0.0.1:1/status.json: read from the database")
	assert.Regexp(t, `mastodon:127\.0\.0\.1:\d+: not running`, r.stdout)
	assert.Contains(t, r.stdout, "outbox: 0 approved (0 retrying), 0 sending, 1 failed")
	assert.Contains(t, r.stdout, fmt.Sprintf("draft %d (mastodon) failed after 1 attempt: mastodon refused the post: 422", failed))
	assert.Contains(t, r.stdout, `digest: schedule "0 9 * * MON" (UTC), next run `)

	run := startRun(t, env, cfg, db)
	require.Eventually(t, func() bool { return strings.Contains(run.errb.String(), "parley running") }, patience,
		10*time.Millisecond, "stderr: %s", &run.errb)
	m := listenAddr.FindStringSubmatch(run.errb.String())
	require.NotNil(t, m, run.errb.String())
	addr := m[1]
	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")
	waitForDraft(t, db, patience, &run.errb)

	// The running parley answers with its connectors' live state.
	var st parley.Status
	require.Eventually(t, func() bool {
		r = parleyEnv(t, env, "status", "--config", cfg, "--db", db, "--addr", addr, "--json")
		st = parley.Status{}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || len(st.Connectors) != 1 {
			return false
		}
		c := st.Connectors[0]
		return c.Mode == parley.ModeStreaming && !c.LastMention.IsZero() && len(c.Cursors) > 0
	}, patience, 50*time.Millisecond, "status: %s %s", r.stdout, r.stderr)
	assert.True(t, st.Live)
	c := st.Connectors[0]
	assert.Equal(t, "running", c.State)
	assert.True(t, c.Connected)
	assert.Equal(t, parley.PlatformMastodon, c.Platform)
	assert.Equal(t, 300, c.RateLimit.Limit, "from the server's X-RateLimit headers")
	assert.Positive(t, c.RateLimit.Remaining)
	assert.Contains(t, c.Cursors[0].Key, "notifications")
	assert.Equal(t, 1, st.Outbox.Failed)
	require.Len(t, st.Outbox.Failing, 1)
	assert.Equal(t, failed, st.Outbox.Failing[0].ID)
	assert.False(t, st.Digest.NextRun.IsZero())

	r = parleyEnv(t, env, "status", "--config", cfg, "--db", db, "--addr", addr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "status live from http://"+addr+"/status.json")
	assert.Regexp(t, `mastodon:127\.0\.0\.1:\d+: running, connected, streaming \(1 of 1 streams connected\)`, r.stdout)
	assert.Contains(t, r.stdout, "rate limit ")

	// Without the token the running parley refuses; the database answers.
	noToken := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": mastodontest.Token}
	r = parleyEnv(t, noToken, "status", "--db", db, "--addr", addr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "wants its token")
	assert.Contains(t, r.stdout, "1 failed")

	// A failed draft goes out again: through the decision service, audited.
	r = parleyEnv(t, env, "queue", "retry", fmt.Sprint(failed), "--db", db, "--as", "ops")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "last error: mastodon refused the post: 422")
	require.Eventually(t, func() bool { return srv.PostCount() == 1 }, patience, 20*time.Millisecond, "the outbox posts it")
	assert.Contains(t, srv.Posts()[0].Content, "Hello Zed")
	r = parleyEnv(t, env, "queue", "retry", fmt.Sprint(failed), "--db", db)
	assert.Equal(t, 1, r.code, "a sent draft is not retried")

	run.cancel()
	select {
	case code := <-run.done:
		assert.Equal(t, 0, code, run.errb.String())
	case <-time.After(patience):
		t.Fatal("run did not stop")
	}
}
