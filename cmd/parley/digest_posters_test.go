package main

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/connectors/discord/discordtest"
	"github.com/parleybot/parley/connectors/mastodon"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/store/storetest"
)

// The digest's chat targets go through the connectors: Mastodon as direct
// messages cut to the server's limit, Discord as channel messages; a
// retried delivery posts nothing twice.
func TestDigestPostersDeliverThroughTheConnectors(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)

	msrv := mastodontest.NewServer(t)
	ana := msrv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example"})
	mc, err := mastodon.New(mastodon.Config{Server: msrv.URL}, mastodontest.Token, st, nil)
	require.NoError(t, err)

	fake := discordtest.New(t)
	fake.AddGuild(&discordgo.Guild{ID: "300000000000000001", Name: "Crew"})
	fake.AddChannel(&discordgo.Channel{ID: "300000000000000002", GuildID: "300000000000000001", Name: "managers",
		Type: discordgo.ChannelTypeGuildText}, false)
	dc, err := discord.New(discord.Config{APIURL: fake.URL}, fake.Token, st, nil)
	require.NoError(t, err)

	posters := digestPosters(connectorSet{senders: []parley.Sender{mc, dc}})
	require.Contains(t, posters, digest.TargetMastodon)
	require.Contains(t, posters, digest.TargetDiscord)

	d := &digest.Digest{Brand: "Tidewater Skates", Week: digest.Week{Year: 2026, Num: 46}}
	for range 2 { // the second delivery is a retry: nothing new is posted
		require.NoError(t, posters[digest.TargetMastodon].PostDigest(ctx, digest.Target{Type: digest.TargetMastodon,
			To: []string{"@ana@other.example"}}, d))
		require.NoError(t, posters[digest.TargetDiscord].PostDigest(ctx, digest.Target{Type: digest.TargetDiscord,
			Channel: "300000000000000002"}, d))
	}
	posts := msrv.Posts()
	require.NotEmpty(t, posts)
	for _, p := range posts {
		assert.Equal(t, "direct", p.Visibility)
		require.Len(t, p.Mentions, 1)
		assert.Equal(t, ana.ID, p.Mentions[0].ID)
	}
	assert.Len(t, posts, len(digest.Split(d.Text(), mastodon.DefaultMaxCharacters-len("@ana@other.example")-2)))
	msgs := fake.Messages("300000000000000002")
	assert.Len(t, msgs, len(digest.Split(d.Markdown(), discord.MaxMessageLen)))
	assert.True(t, strings.Contains(msgs[0].Content, "Tidewater Skates"), msgs[0].Content)
}

// A digest sent as Mastodon direct messages quotes customers (their
// handles, their words) but mentions only its recipients: Mastodon
// delivers a direct post to everyone it mentions.
func TestDigestToMastodonMentionsOnlyRecipients(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)

	msrv := mastodontest.NewServer(t)
	boss := msrv.AddAccount("boss", mastodontest.AccountOptions{Domain: "brand.example"})
	lead := msrv.AddAccount("lead", mastodontest.AccountOptions{Domain: "brand.example"})
	msrv.AddAccount("cara", mastodontest.AccountOptions{Domain: "skate.social"})
	msrv.AddAccount("dan", mastodontest.AccountOptions{Domain: "skate.social"})
	mc, err := mastodon.New(mastodon.Config{Server: msrv.URL}, mastodontest.Token, st, nil)
	require.NoError(t, err)
	posters := digestPosters(connectorSet{senders: []parley.Sender{mc}})

	angry := digest.Post{Platform: parley.PlatformMastodon, Author: "dan@skate.social", Text: "@cara@skate.social my trucks snapped",
		Sentiment: parley.Negative, URL: "https://skate.social/@dan/1"}
	happy := digest.Post{Platform: parley.PlatformMastodon, Author: "cara@skate.social", Text: "best deck ever, ask @dan@skate.social",
		Sentiment: parley.Positive, URL: "https://skate.social/@cara/2"}
	d := &digest.Digest{Brand: "Tidewater Skates", Week: digest.Week{Year: 2026, Num: 46},
		Volume: digest.Volume{Total: 2},
		Sentiment: digest.Sentiment{Counts: map[parley.Label]int{parley.Negative: 1, parley.Positive: 1}, Waiting: 1,
			Threads: []digest.WaitingThread{{Post: angry, Negative: 1}}, Best: []digest.Post{happy}}}
	require.Contains(t, d.Text(), "@cara@skate.social", "the digest quotes customers' handles")
	require.NoError(t, posters[digest.TargetMastodon].PostDigest(ctx, digest.Target{Type: digest.TargetMastodon,
		To: []string{"@boss@brand.example", "lead@brand.example"}}, d))

	posts := msrv.Posts()
	require.NotEmpty(t, posts)
	got := map[string]int{}
	for _, p := range posts {
		assert.Equal(t, "direct", p.Visibility)
		require.Len(t, p.Mentions, 1, mastodon.HTMLToText(p.Content))
		got[p.Mentions[0].ID]++
		assert.NotRegexp(t, `(^|[^/\w])@(cara|dan)`, mastodon.HTMLToText(p.Content))
	}
	assert.Equal(t, len(posts), got[boss.ID]+got[lead.ID])
	assert.Positive(t, got[boss.ID])
	assert.Positive(t, got[lead.ID])
	var all strings.Builder
	for _, p := range posts {
		all.WriteString(mastodon.HTMLToText(p.Content))
	}
	assert.Contains(t, all.String(), "cara@skate.social", "the quoted handle is still readable")
}
