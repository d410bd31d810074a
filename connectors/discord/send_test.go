package discord

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// mentionOf is the parley.Mention the listener makes of a fake message.
func (e *env) mentionOf(m *discordgo.Message, thread bool) *parley.Mention {
	pm := &parley.Mention{Platform: "discord", ExternalID: m.ID, Channel: guildID + "/" + m.ChannelID}
	if thread {
		pm.ThreadKey = m.ChannelID
	}
	return pm
}

func TestSendReplyInChannelAndThread(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()

	orig := e.say(watchedID, "acme where is my order")
	d := parley.Draft{ID: 7, Kind: parley.KindReply, Text: "Hi Ana, **checking** now!"}
	id, err := e.conn.Send(ctx, parley.Outgoing{Draft: d, InReplyTo: e.mentionOf(orig, false)})
	require.NoError(t, err)

	posted := e.fake.Message(id)
	require.NotNil(t, posted)
	assert.Equal(t, watchedID, posted.ChannelID)
	assert.Equal(t, "Hi Ana, **checking** now!", posted.Content)
	assert.Equal(t, discordgo.MessageTypeReply, posted.Type)
	require.NotNil(t, posted.MessageReference)
	assert.Equal(t, orig.ID, posted.MessageReference.MessageID)
	assert.Equal(t, "parley-draft-7", e.fake.Nonce(id))

	// In a thread: posted in the thread, as a reply to the message there.
	e.fake.AddChannel(&discordgo.Channel{ID: threadID, GuildID: guildID, ParentID: watchedID, Type: discordgo.ChannelTypeGuildPublicThread}, false)
	inThread := e.say(threadID, "acme thread question")
	id2, err := e.conn.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 8, Text: "answer in thread"}, InReplyTo: e.mentionOf(inThread, true)})
	require.NoError(t, err)
	posted2 := e.fake.Message(id2)
	require.NotNil(t, posted2)
	assert.Equal(t, threadID, posted2.ChannelID)
	assert.Equal(t, inThread.ID, posted2.MessageReference.MessageID)
	assert.Len(t, e.fake.Messages(watchedID), 2, "nothing extra in the parent channel")
}

// Sending the same draft again (a retry after a crash between posting and
// recording) returns the first message and posts nothing new.
func TestSendRetryUsesNonce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	orig := e.say(watchedID, "acme?")
	out := parley.Outgoing{Draft: parley.Draft{ID: 42, Text: "hello"}, InReplyTo: e.mentionOf(orig, false)}
	id1, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	id2, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, id1, id2)
	assert.Len(t, e.fake.Posted(), 1)

	// A different draft is a different message.
	out.Draft.ID = 43
	id3, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.NotEqual(t, id1, id3)
	assert.Len(t, e.fake.Posted(), 2)
}

func TestNonceFitsDiscord(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "parley-draft-123", Nonce(parley.Draft{ID: 123}))
	long := Nonce(parley.Draft{ID: 9223372036854775807})
	assert.Len(t, long, 25)
	assert.True(t, strings.HasPrefix(long, "p"))
	assert.Equal(t, long, Nonce(parley.Draft{ID: 9223372036854775807}), "stable")
	assert.NotEqual(t, long, Nonce(parley.Draft{ID: 9223372036854775806}))
}

func TestSendPromptAsDM(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	id, err := e.conn.Send(context.Background(), parley.Outgoing{
		Draft: parley.Draft{ID: 9, Kind: parley.KindPrompt, Text: "Would you share your story?"},
		To:    parley.Person{Platform: "discord", ExternalID: userID, Handle: "ana"},
	})
	require.NoError(t, err)
	dm := e.fake.DMChannel(userID)
	require.NotEmpty(t, dm, "a DM channel was opened")
	msgs := e.fake.Messages(dm)
	require.Len(t, msgs, 1)
	assert.Equal(t, id, msgs[0].ID)
	assert.Equal(t, "Would you share your story?", msgs[0].Content)
	assert.Nil(t, msgs[0].MessageReference)
}

func TestSendErrorCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	orig := e.say(watchedID, "acme")
	reply := func(id int64, text string) error {
		_, err := e.conn.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: id, Text: text}, InReplyTo: e.mentionOf(orig, false)})
		return err
	}

	// Unknown channel and unknown message: gone.
	_, err := e.conn.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 1, Text: "x"},
		InReplyTo: &parley.Mention{ExternalID: orig.ID, Channel: guildID + "/999"}})
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "%v", err)
	_, err = e.conn.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 2, Text: "x"},
		InReplyTo: &parley.Mention{ExternalID: "12345", Channel: guildID + "/" + watchedID}})
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "%v", err)

	// Refused content, checked before any request.
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(reply(3, strings.Repeat("a", 2001))))
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(reply(4, "  ")))

	// 5xx: retry later. 403: not retried.
	e.fake.FailNext(1, http.StatusInternalServerError)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(reply(5, "x")))
	e.fake.FailNext(1, http.StatusForbidden)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(reply(6, "x")))
	assert.Empty(t, e.fake.Posted(), "nothing posted by failed attempts")

	// The network down: retry later.
	e.fake.Close()
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(reply(7, "x")))
}

// A 429 is waited out and retried: the draft is posted once, not lost.
// Past the retry budget Send says EUNAVAILABLE (the outbox retries later),
// and a storm is logged.
func TestSendRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{opts: []Option{WithRateLimitStorm(3, time.Minute), WithRateLimitRetries(3, 50*time.Millisecond)}})
	ctx := context.Background()
	orig := e.say(watchedID, "acme")
	out := parley.Outgoing{Draft: parley.Draft{ID: 11, Text: "thanks"}, InReplyTo: e.mentionOf(orig, false)}

	e.fake.RateLimitNext(2, 20*time.Millisecond)
	id, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, 2, e.fake.RateLimited())
	assert.Len(t, e.fake.Posted(), 1)
	assert.Equal(t, id, e.fake.Posted()[0].ID)
	assert.NotContains(t, e.logs.String(), "429 storm")

	e.fake.RateLimitNext(10, 10*time.Millisecond)
	out.Draft.ID = 12
	_, err = e.conn.Send(ctx, out)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "%v", err)
	assert.Len(t, e.fake.Posted(), 1)
	assert.Contains(t, e.logs.String(), "429 storm")
	assert.Equal(t, 6, e.conn.RateLimited())

	// Once the storm passes the same draft goes out, once.
	e.fake.RateLimitNext(0, 0)
	_, err = e.conn.Send(ctx, out)
	require.NoError(t, err)
	_, err = e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.Len(t, e.fake.Posted(), 2)
}

func TestPostTextIsIdempotentAndPingsNobody(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	id1, err := e.conn.PostText(ctx, watchedID, "Weekly digest: 12 mentions @everyone", "parley-digest-2026-W46-1")
	require.NoError(t, err)
	id2, err := e.conn.PostText(ctx, watchedID, "Weekly digest: 12 mentions @everyone", "parley-digest-2026-W46-1")
	require.NoError(t, err)
	assert.Equal(t, id1, id2)
	require.Len(t, e.fake.Posted(), 1)
	_, err = e.conn.PostText(ctx, watchedID, strings.Repeat("x", MaxMessageLen+1), "k2")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}
