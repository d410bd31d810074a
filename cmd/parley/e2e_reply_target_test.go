package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplyGoesToTheChosenMessage: in a thread where Jules answered
// Marcus, a reply written to Marcus's post (--to) is posted on the fake
// Mastodon server in reply to that post and mentions only Marcus, not
// whoever wrote last.
func TestReplyGoesToTheChosenMessage(t *testing.T) {
	srv := mastodontest.NewServer(t)
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
`, srv.URL))
	env := map[string]string{"PARLEY_TEST_MASTODON_TOKEN": mastodontest.Token, "USER": "tester"}
	run := startRun(t, env, cfg, db)
	errb, done, cancel := &run.errb, run.done, run.cancel
	require.Eventually(t, func() bool { return strings.Contains(errb.String(), "parley running") }, 20*time.Second,
		10*time.Millisecond, "stderr: %s", errb)

	marcus := srv.AddAccount("marcus", mastodontest.AccountOptions{Domain: "skate.social", DisplayName: "Marcus"})
	jules := srv.AddAccount("jules", mastodontest.AccountOptions{Domain: "skate.social", DisplayName: "Jules"})
	first, _ := srv.AddMention(marcus, "my deck split after a week")
	srv.AddStatus(mastodontest.StatusOptions{Author: jules, InReplyToID: first.ID,
		Text: "@" + mastodontest.BotUsername + " @marcus same thing happened to me"})

	type hit struct {
		MentionID      int64  `json:"mention_id"`
		ExternalID     string `json:"external_id"`
		ConversationID int64  `json:"conversation_id"`
		Author         string `json:"author"`
	}
	var hits []hit
	require.Eventually(t, func() bool {
		r := parleyRun(t, "", "conversations", "search", "@marcus", "--json", "--db", db)
		hits = nil
		_ = json.Unmarshal([]byte(r.stdout), &hits)
		r2 := parleyRun(t, "", "conversations", "search", "@jules", "--json", "--db", db)
		var j []hit
		_ = json.Unmarshal([]byte(r2.stdout), &j)
		return len(hits) == 1 && len(j) == 1
	}, 30*time.Second, 50*time.Millisecond, "both posts stored; stderr: %s", errb)
	require.Equal(t, first.ID, hits[0].ExternalID)

	r := parleyRun(t, "", "conversations", "reply", fmt.Sprint(hits[0].ConversationID), "--to", fmt.Sprint(hits[0].MentionID),
		"--text", "Marcus, sorry! DM us your order number.", "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	var draftID int64
	_, err := fmt.Sscanf(r.stdout, "draft %d", &draftID)
	require.NoError(t, err, r.stdout)
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(draftID), "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)

	require.Eventually(t, func() bool { return srv.PostCount() == 1 }, 20*time.Second, 20*time.Millisecond, "stderr: %s", errb)
	posts := srv.Posts()
	require.NotNil(t, posts[0].InReplyToID)
	assert.Equal(t, first.ID, *posts[0].InReplyToID, "in reply to the chosen post, not the newest")
	require.Len(t, posts[0].Mentions, 1, "only the chosen post's author is mentioned")
	assert.Equal(t, marcus.ID, posts[0].Mentions[0].ID)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}
