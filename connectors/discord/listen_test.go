package discord

import (
	"context"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord/discordtest"
)

func TestMentionOfTheBotArrives(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	e.start()
	tag, bot := e.botMention()

	plain := e.say(otherID, "nothing to see here")
	m := e.say(otherID, tag+" your **rocket** is _late_ again, <#"+watchedID+"> said so <:sad:123456>", bot)
	got := e.waitMention(m.ID)

	assert.Equal(t, parley.PlatformDiscord, got.Platform)
	assert.Equal(t, "@Parley your rocket is late again, #brand said so :sad:", got.Text)
	assert.Equal(t, parley.Person{Platform: "discord", ExternalID: userID, Handle: "ana", Name: "Ana P"}, got.Author)
	assert.Equal(t, guildID+"/"+otherID, got.Channel)
	assert.Equal(t, "https://discord.com/channels/"+guildID+"/"+otherID+"/"+m.ID, got.URL)
	assert.False(t, got.Direct)
	assert.Empty(t, got.ThreadKey)
	assert.WithinDuration(t, m.Timestamp, got.CreatedAt, time.Millisecond)
	assert.Empty(t, e.sink.byID(plain.ID), "a message without mention or keyword in an unwatched channel is not a mention")
}

func TestRoleMentionCounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	e.start()
	m := e.fake.InjectMessage(&discordgo.Message{ChannelID: otherID, Content: "<@&" + botRoleID + "> help please",
		Author: ana, MentionRoles: []string{botRoleID}})
	got := e.waitMention(m.ID)
	assert.Equal(t, "@Parley help please", got.Text)
}

func TestKeywordOnlyInWatchedChannels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	e.start()
	tag, bot := e.botMention()

	hit := e.say(watchedID, "I **love** acme, and ~~hate~~ their rocket skates")
	unwatched := e.say(otherID, "acme is great")
	partWord := e.say(watchedID, "acmeville is a town")
	marker := e.say(otherID, tag+" marker", bot)

	got := e.waitMention(hit.ID)
	e.waitMention(marker.ID)
	assert.Equal(t, "I love acme, and hate their rocket skates", got.Text)
	assert.Empty(t, e.sink.byID(unwatched.ID), "keyword in an unwatched channel")
	assert.Empty(t, e.sink.byID(partWord.ID), "keyword inside another word")
}

func TestDirectMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	e.start()
	dm := e.fake.NewID()
	e.fake.AddChannel(&discordgo.Channel{ID: dm, Type: discordgo.ChannelTypeDM}, false)
	m := e.say(dm, "hi, my order never came")
	got := e.waitMention(m.ID)
	assert.True(t, got.Direct)
	assert.Equal(t, "direct", got.Visibility)
	assert.Equal(t, "@me/"+dm, got.Channel)
	assert.Equal(t, "https://discord.com/channels/@me/"+dm+"/"+m.ID, got.URL)
}

func TestRepliesAndThreads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	e.start()

	first := e.say(watchedID, "acme rocks")
	e.waitMention(first.ID)
	reply := e.fake.InjectMessage(&discordgo.Message{ChannelID: watchedID, Content: "yes, acme!", Author: ana,
		MessageReference: &discordgo.MessageReference{MessageID: first.ID, ChannelID: watchedID, GuildID: guildID}})
	got := e.waitMention(reply.ID)
	assert.Equal(t, first.ID, got.InReplyTo)

	// A thread created after connecting and not announced: the connector
	// looks it up and sees its parent is watched.
	e.fake.AddChannel(&discordgo.Channel{ID: threadID, GuildID: guildID, ParentID: watchedID, Name: "acme launch",
		Type: discordgo.ChannelTypeGuildPublicThread}, false)
	inThread := e.say(threadID, "Acme thread talk")
	got = e.waitMention(inThread.ID)
	assert.Equal(t, threadID, got.ThreadKey)
	assert.Equal(t, guildID+"/"+threadID, got.Channel)
	assert.Contains(t, e.fake.Requests(), "GET /api/v9/channels/"+threadID)
}

func TestOtherGuildsAndBotsIgnored(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	const otherGuild, otherGuildChan = "100000000000000099", "100000000000000098"
	e.fake.AddChannel(&discordgo.Channel{ID: otherGuildChan, GuildID: otherGuild, Type: discordgo.ChannelTypeGuildText}, false)
	e.start()
	tag, bot := e.botMention()
	foreign := e.say(otherGuildChan, tag+" hello", bot)
	fromBot := e.fake.InjectMessage(&discordgo.Message{ChannelID: watchedID, Content: "acme", Author: &discordgo.User{ID: "5", Username: "otherbot", Bot: true}})
	marker := e.say(otherID, tag+" marker", bot)
	e.waitMention(marker.ID)
	assert.Empty(t, e.sink.byID(foreign.ID), "guild not configured")
	assert.Empty(t, e.sink.byID(fromBot.ID), "bots are not mentions")
}

// A message seen live and again in catch-up (and after a RESUME replay) is
// delivered once, the cursor follows, and a restart delivers nothing again.
func TestCatchUpAndResumeDeliverOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	// Written while Parley was down, after the saved cursor.
	before := e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "old news, not acme", Author: ana})
	require.NoError(t, e.store.SetCursor(context.Background(), CursorKey(watchedID), before.ID))
	missed := make([]*discordgo.Message, 0, 3)
	for range 3 {
		missed = append(missed, e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "missed acme", Author: ana}))
	}
	noise := e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "unrelated", Author: ana})
	e.start()
	for _, m := range missed {
		e.waitMention(m.ID)
	}
	assert.Empty(t, e.sink.byID(before.ID), "at the cursor: handled before")
	require.Eventually(t, func() bool { return e.store.cursor(CursorKey(watchedID)) == noise.ID }, wait, tick,
		"the cursor moves past non-mentions too")

	live := e.say(watchedID, "live acme")
	e.waitMention(live.ID)

	// Drop the connection; a message said meanwhile comes back both in the
	// RESUME replay and in the history catch-up.
	e.fake.DropGateway()
	during := e.say(watchedID, "acme during the outage")
	require.Eventually(t, func() bool { return e.fake.Resumes() == 1 }, wait, tick, "no RESUME; logs:\n%s", e.logs.String())
	e.waitMention(during.ID)
	after := e.say(watchedID, "acme after")
	e.waitMention(after.ID)
	assert.Equal(t, 1, e.fake.Identifies(), "a resume, not a new session")

	for _, m := range append(missed, live, during, after) {
		assert.Len(t, e.sink.byID(m.ID), 1, "message %s delivered once", m.ID)
	}
	require.Eventually(t, func() bool { return e.store.cursor(CursorKey(watchedID)) == after.ID }, wait, tick)
	e.stop()

	// A restart catches up from the cursor: nothing again.
	n := len(e.sink.all())
	c2, err := New(e.cfg, e.fake.Token, e.store, nil, WithReconnectBackoff(10*time.Millisecond, 50*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c2.Run(ctx, e.sink) }()
	require.Eventually(t, func() bool { return e.fake.Identifies() == 2 }, wait, tick)
	tag, bot := e.botMention()
	marker := e.say(otherID, tag+" marker", bot)
	e.waitMention(marker.ID)
	cancel()
	require.NoError(t, <-done)
	assert.Len(t, e.sink.all(), n+1, "only the marker is new after a restart")
}

// Without a saved cursor a channel starts at Run's start: older history is
// not replayed as mentions.
func TestNoCursorStartsNow(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	old := e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "acme long ago", Author: ana,
		ID: snowflakeAt(time.Now().Add(-time.Hour)), Timestamp: time.Now().Add(-time.Hour)})
	e.start()
	tag, bot := e.botMention()
	marker := e.say(otherID, tag+" marker", bot)
	e.waitMention(marker.ID)
	assert.Empty(t, e.sink.byID(old.ID))
}

// Catch-up pages through more than 100 missed messages, oldest first.
func TestCatchUpPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	start := e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "start", Author: ana})
	require.NoError(t, e.store.SetCursor(context.Background(), CursorKey(watchedID), start.ID))
	var ids []string
	for range 230 {
		ids = append(ids, e.fake.StoreMessage(&discordgo.Message{ChannelID: watchedID, Content: "acme", Author: ana}).ID)
	}
	e.start()
	require.Eventually(t, func() bool { return len(e.sink.all()) == len(ids) }, wait, tick)
	var got []string
	for _, m := range e.sink.all() {
		got = append(got, m.ExternalID)
	}
	assert.Equal(t, ids, got, "in order, each once")
}

// Without the privileged message content intent Discord refuses IDENTIFY
// (4014); the connector says so and goes on with mentions and DMs.
func TestMissingMessageContentIntent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{setup: func(f *discordtest.Server, _ *memStore) {
		f.DisallowIntents(discordgo.IntentsMessageContent)
	}})
	e.start()
	assert.Zero(t, e.fake.Intents()&discordgo.IntentsMessageContent)
	assert.Contains(t, e.logs.String(), "MESSAGE CONTENT privileged intent is not enabled")
	tag, bot := e.botMention()
	kw := e.say(watchedID, "acme without content")
	m := e.say(otherID, tag+" still heard", bot)
	e.waitMention(m.ID)
	assert.Empty(t, e.sink.byID(kw.ID), "content is empty without the intent, so keywords cannot match")
}

func TestRefusedTokenEndsRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	c, err := New(e.cfg, "wrong", e.store, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Run(ctx, e.sink)
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "PARLEY_DISCORD_TOKEN")
}

// Heartbeats flow at the interval HELLO gives, and a stale Disconnect event
// (discordgo sends one per Close) does not break a healthy connection.
func TestHeartbeatAndStaleDisconnect(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{setup: func(f *discordtest.Server, _ *memStore) { f.HeartbeatInterval = 20 * time.Millisecond }})
	e.start()
	require.Eventually(t, func() bool { return e.fake.Heartbeats() >= 5 }, wait, tick)
	signal(e.conn.disconnected)
	time.Sleep(100 * time.Millisecond)
	tag, bot := e.botMention()
	m := e.say(otherID, tag+" still here", bot)
	e.waitMention(m.ID)
	assert.True(t, e.fake.Connected())
	assert.Equal(t, 1, e.fake.Identifies())
	assert.Zero(t, e.fake.Resumes())
	assert.NotContains(t, e.logs.String(), "gateway connection failed")
}
