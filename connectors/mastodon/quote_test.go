package mastodon

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

// A direct message reaches everyone it mentions: text that quotes people
// must mention only its recipient, whatever the quoted text holds.
func TestDirectMessageMentionsOnlyItsRecipient(t *testing.T) {
	srv := mastodontest.NewServer(t)
	boss := srv.AddAccount("boss", mastodontest.AccountOptions{Domain: "brand.example"})
	srv.AddAccount("cara", mastodontest.AccountOptions{Domain: "skate.social"})
	srv.AddAccount("dan", mastodontest.AccountOptions{})
	c := newSender(t, srv)
	ctx := context.Background()

	text := "Top posts: @cara@skate.social said “@dan my trucks snapped”. (@cara@skate.social, @dan.) cc @boss@brand.example"
	id, err := c.PostDirect(ctx, "@boss@brand.example", text, "k1")
	require.NoError(t, err)
	posted, ok := srv.Status(id)
	require.True(t, ok)
	assert.Equal(t, "direct", posted.Visibility)
	require.NotEmpty(t, posted.Mentions)
	for _, m := range posted.Mentions {
		assert.Equal(t, boss.ID, m.ID, HTMLToText(posted.Content))
	}
	assert.Contains(t, HTMLToText(posted.Content), "cara@skate.social said “dan my trucks snapped”")

	// A prompt sent as a direct message: the same.
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	id, err = c.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 7, Kind: parley.KindPrompt,
		Text: "Hi! You and @cara@skate.social loved the deck: would you review it?"},
		To: parley.Person{Handle: "alice@other.example"}})
	require.NoError(t, err)
	posted, _ = srv.Status(id)
	require.Len(t, posted.Mentions, 1, HTMLToText(posted.Content))
	assert.Equal(t, alice.ID, posted.Mentions[0].ID)
}

// A reply mentions the author it answers, and nobody its text quotes.
func TestReplyDoesNotMentionQuotedPeople(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	srv.AddAccount("cara", mastodontest.AccountOptions{Domain: "skate.social"})
	c := newSender(t, srv)
	st, _ := srv.AddStatus(mastodontest.StatusOptions{Author: alice, Text: "@parley @cara@skate.social says the deck is bad", Visibility: "public"})
	id, err := c.Send(context.Background(), parley.Outgoing{
		Draft:     parley.Draft{ID: 30, Text: "Thanks @alice@other.example, we will ask @cara@skate.social too."},
		InReplyTo: mentionOf(st, "alice@other.example")})
	require.NoError(t, err)
	posted, _ := srv.Status(id)
	require.Len(t, posted.Mentions, 1, HTMLToText(posted.Content))
	assert.Equal(t, alice.ID, posted.Mentions[0].ID)
	assert.Equal(t, "Thanks @alice, we will ask cara@skate.social too.", HTMLToText(posted.Content))
}

func TestQuoteMentions(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"@ana hi", "@ana hi"},
		{"@ana@brand.example hi @cara", "@ana@brand.example hi cara"},
		{"@@cara and @@@dan@x.example", "cara and dan@x.example"},
		{"see https://skate.social/@cara/2", "see https://skate.social/@cara/2"},
		{"mail cara@skate.social", "mail cara@skate.social"},
		{"(@cara@skate.social), @dan.", "(cara@skate.social), dan."},
		{"a=@cara", "a=@cara"},
		{"@ANA@Brand.Example thanks", "@ANA@Brand.Example thanks"},
	} {
		assert.Equal(t, tc.want, quoteMentions(tc.in, "brand.example", "ana"), tc.in)
	}
}

// A prompt (a direct message without a post to answer) posted just before
// a crash is not posted again on a retry after the server forgot its
// Idempotency-Key: the connector first looks through our recent statuses.
func TestPromptRetryAfterKeyExpiredPostsOnce(t *testing.T) {
	srv := mastodontest.NewServer(t)
	alice := srv.AddAccount("alice", mastodontest.AccountOptions{Domain: "other.example"})
	bob := srv.AddAccount("bob", mastodontest.AccountOptions{Domain: "other.example"})
	c := newSender(t, srv)
	ctx := context.Background()
	out := parley.Outgoing{Draft: parley.Draft{ID: 77, Kind: parley.KindPrompt, Text: "Would you review the deck?", Attempts: 1},
		To: parley.Person{Handle: "alice@other.example"}}
	id1, err := c.Send(ctx, out)
	require.NoError(t, err)

	// Other posts of ours since then, and the same words to someone else.
	for i := range 5 {
		_, err := c.PostDirect(ctx, "bob@other.example", "digest part "+string(rune('a'+i)), "k"+string(rune('a'+i)))
		require.NoError(t, err)
	}
	_, err = c.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 78, Kind: parley.KindPrompt, Text: "Would you review the deck?", Attempts: 1},
		To: parley.Person{Handle: "bob@other.example"}})
	require.NoError(t, err)
	_ = bob

	srv.ForgetIdempotencyKeys() // the restart came more than an hour later
	before := srv.PostCount()
	out.Draft.Attempts = 2
	id2, err := c.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, id1, id2, "the first post is found")
	assert.Equal(t, before, srv.PostCount(), "nothing posted again")

	// A prompt that never went out is posted on its retry.
	out.Draft.ID, out.Draft.Text = 79, "Would you try the beta?"
	id3, err := c.Send(ctx, out)
	require.NoError(t, err)
	assert.NotEqual(t, id1, id3)
	assert.Equal(t, before+1, srv.PostCount())
	posted, _ := srv.Status(id3)
	require.Len(t, posted.Mentions, 1)
	assert.Equal(t, alice.ID, posted.Mentions[0].ID)
}
