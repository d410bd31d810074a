package main

import (
	"context"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord"
	"github.com/parleybot/parley/connectors/discord/discordtest"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/store/storetest"
)

// An alert reaches the staff Discord channel through the digest's
// delivery and the Discord connector (a fake speaking Discord's API); a
// retried notice posts nothing twice.
func TestAlertNoticeToDiscordStaffChannel(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	fake := discordtest.New(t)
	fake.AddGuild(&discordgo.Guild{ID: "300000000000000001", Name: "Crew"})
	fake.AddChannel(&discordgo.Channel{ID: "300000000000000002", GuildID: "300000000000000001", Name: "staff",
		Type: discordgo.ChannelTypeGuildText}, false)
	dc, err := discord.New(discord.Config{APIURL: fake.URL}, fake.Token, st, nil)
	require.NoError(t, err)
	svc, err := digest.NewService(st, digest.Config{}, digest.ServiceOptions{
		Posters: digestPosters(connectorSet{senders: []parley.Sender{dc}}), Backoff: 10 * time.Millisecond})
	require.NoError(t, err)

	a := parley.Alert{ID: 7, Kind: parley.AlertLargeReach, Key: "person:3", At: time.Now(), ConversationID: 12, PersonID: 3,
		Title: "Negative post by @bigangry (52000 followers) on mastodon", Detail: "Worst service ever"}
	n := alertNotice(a, "https://parley.example/")
	assert.Equal(t, "Parley alert: Negative post by @bigangry (52000 followers) on mastodon", n.Subject)
	for range 2 {
		out, err := svc.Notify(ctx, []digest.Target{{Type: digest.TargetDiscord, Channel: "300000000000000002"}}, n)
		require.NoError(t, err)
		assert.True(t, out[0].OK)
	}
	msgs := fake.Messages("300000000000000002")
	require.Len(t, msgs, 1, "the retry is the same post (its nonce)")
	assert.Contains(t, msgs[0].Content, "Large-reach negative post: Negative post by @bigangry")
	assert.Contains(t, msgs[0].Content, "Worst service ever")
	assert.Contains(t, msgs[0].Content, "https://parley.example/threads/12")
}
