package main

import (
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
	run, db := startMastodonRun(t, srv, "")
	errb := &run.errb

	marcus := srv.AddAccount("marcus", mastodontest.AccountOptions{Domain: "skate.social", DisplayName: "Marcus"})
	jules := srv.AddAccount("jules", mastodontest.AccountOptions{Domain: "skate.social", DisplayName: "Jules"})
	first, _ := srv.AddMention(marcus, "my deck split after a week")
	srv.AddStatus(mastodontest.StatusOptions{Author: jules, InReplyToID: first.ID,
		Text: "@" + mastodontest.BotUsername + " @marcus same thing happened to me"})

	var hits []searchHit
	require.Eventually(t, func() bool {
		hits = searchMentions(t, db, "@marcus")
		return len(hits) == 1 && len(searchMentions(t, db, "@jules")) == 1
	}, patience, 50*time.Millisecond, "both posts stored; stderr: %s", errb)
	require.Equal(t, first.ID, hits[0].ExternalID)

	replyTo(t, db, hits[0].ConversationID, hits[0].MentionID, "Marcus, sorry! DM us your order number.")

	require.Eventually(t, func() bool { return srv.PostCount() == 1 }, patience, 20*time.Millisecond, "stderr: %s", errb)
	posts := srv.Posts()
	require.NotNil(t, posts[0].InReplyToID)
	assert.Equal(t, first.ID, *posts[0].InReplyToID, "in reply to the chosen post, not the newest")
	require.Len(t, posts[0].Mentions, 1, "only the chosen post's author is mentioned")
	assert.Equal(t, marcus.ID, posts[0].Mentions[0].ID)

	run.stop(t)
}
