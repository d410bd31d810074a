package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunWithMastodonRepliesOnceInTheThread runs the whole product on Mastodon:
// parley run with a Mastodon section listens, drafts, and after
// 'parley queue approve ID' the reply appears on the server in the right
// thread, exactly once.
func TestRunWithMastodonRepliesOnceInTheThread(t *testing.T) {
	srv := mastodontest.NewServer(t)
	run, db := startMastodonRun(t, srv, sorryRule)
	errb := &run.errb

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	status, _ := srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")

	draftID := waitForDraft(t, db, patience, errb)

	r := parleyRun(t, "", "queue", "approve", fmt.Sprint(draftID), "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return srv.PostCount() == 1 }, patience, 20*time.Millisecond)
	posts := srv.Posts()
	require.Len(t, posts, 1)
	require.NotNil(t, posts[0].InReplyToID)
	assert.Equal(t, status.ID, *posts[0].InReplyToID, "a reply in the thread")
	assert.Equal(t, status.Visibility, posts[0].Visibility)
	assert.Contains(t, posts[0].Content, "Sorry Ana")

	require.Eventually(t, func() bool {
		return stats(t, db).Drafts[parley.DraftSent] == 1
	}, patience, 20*time.Millisecond)
	r = parleyRun(t, "", "queue", "show", fmt.Sprint(draftID), "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "[sent]")

	run.stop(t)
	assert.Equal(t, 1, srv.PostCount(), "exactly once")
}

// waitForDraft waits until the queue of the database at db holds a pending
// draft and returns the most urgent one's id; logs is shown if none comes.
func waitForDraft(t *testing.T, db string, within time.Duration, logs fmt.Stringer) int64 {
	t.Helper()
	var id int64
	require.Eventually(t, func() bool {
		r := parleyRun(t, "", "queue", "list", "--json", "--db", db)
		var list []struct{ ID int64 }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) == 0 {
			return false
		}
		id = list[0].ID
		return true
	}, within, 50*time.Millisecond, "no draft; stderr: %s", logs)
	return id
}
