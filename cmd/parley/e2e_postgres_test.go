package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestRunOnPostgresRepliesOnce runs two 'parley run' on one PostgreSQL
// database (selected by --db postgres://... and by the config's store:
// section): one of them holds the Mastodon account's lease and listens,
// the mention is stored once, and the approved reply is posted once.
func TestRunOnPostgresRepliesOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	srv := mastodontest.NewServer(t)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
store: {driver: postgres, dsn_env: PARLEY_TEST_DATABASE_URL}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
rules:
  - name: sorry
    when: sentiment.label == "negative"
    reply: "Sorry {{first .Person}}, DM us your order number."
`, srv.URL))
	env := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": mastodontest.Token, "PARLEY_TEST_DATABASE_URL": url, "USER": "tester"}
	a := startRun(t, env, cfg, url)
	b := startRunNoDB(t, env, cfg)
	for _, r := range []*inProcessRun{a, b} {
		require.Eventually(t, func() bool { return strings.Contains(r.errb.String(), "parley running") }, patience,
			10*time.Millisecond, "stderr: %s", &r.errb)
		assert.Contains(t, r.errb.String(), "postgres://", "the log names the database")
		assert.NotContains(t, r.errb.String(), "parley.db")
	}

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	status, _ := srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")

	ctx := context.Background()
	st, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer st.Close()
	var pending []parley.Draft
	require.Eventually(t, func() bool {
		pending, err = st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
		return err == nil && len(pending) > 0
	}, patience, 50*time.Millisecond, "no draft; stderr: %s", &a.errb)
	_, err = st.ApproveDraft(ctx, pending[0].ID, "ana", "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		d, err := st.Draft(ctx, pending[0].ID)
		return err == nil && d.State == parley.DraftSent
	}, patience, 50*time.Millisecond)
	posts := srv.Posts()
	require.Len(t, posts, 1, "posted once by the two processes")
	require.NotNil(t, posts[0].InReplyToID)
	assert.Equal(t, status.ID, *posts[0].InReplyToID)
	holders := 0
	for _, r := range []*inProcessRun{a, b} {
		if strings.Contains(r.errb.String(), `msg="took lease" lease=connector:mastodon`) {
			holders++
		}
	}
	assert.Equal(t, 1, holders, "one process listens to the account (a lease); a: %s\nb: %s", &a.errb, &b.errb)
	stats, err := st.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, stats.Mentions, "heard by both, stored once")

	for _, r := range []*inProcessRun{a, b} {
		r.cancel()
		select {
		case code := <-r.done:
			assert.Equal(t, 0, code, r.errb.String())
		case <-time.After(patience):
			t.Fatal("run did not stop")
		}
	}
	assert.Equal(t, 1, srv.PostCount(), "exactly once")
}

// startRunNoDB starts 'parley run' on cfg alone: the config's store:
// section picks the database.
func startRunNoDB(t *testing.T, env map[string]string, cfg string) *inProcessRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &inProcessRun{done: make(chan int, 1), cancel: cancel}
	go func() {
		var out syncBuffer
		r.done <- Exec(ctx, []string{"run", "--addr", "127.0.0.1:0", "--config", cfg}, strings.NewReader(""),
			&out, &r.errb, func(k string) string { return env[k] })
	}()
	return r
}

func TestStoreSectionIsChecked(t *testing.T) {
	for _, c := range []struct{ store, want string }{
		{`{driver: mysql}`, `store.driver "mysql" is unknown`},
		{`{driver: postgres}`, "store.dsn_env is missing"},
		{`{driver: postgres, dsn_env: NOT_SET_ANYWHERE}`, "NOT_SET_ANYWHERE is not set"},
	} {
		cfg := writeFile(t, "p.yaml", "brand: {name: Acme}\nstore: "+c.store+"\n")
		r := parleyRun(t, "", "check", "--config", cfg)
		assert.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stdout+r.stderr, c.want)
		assert.Contains(t, r.stdout+r.stderr, "p.yaml:2:", "file:line")
	}
}
