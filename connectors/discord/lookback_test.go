package discord

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// A reply Discord accepted just before a crash is not posted again on a
// retry after Discord forgot its nonce (minutes later): the connector
// first looks in the channel's recent messages for ours.
func TestRetryAfterNonceExpiredPostsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	orig := e.say(watchedID, "acme? my board snapped")
	other := e.say(watchedID, "acme rocks")
	out := parley.Outgoing{Draft: parley.Draft{ID: 42, Text: "Sorry! DM us your order.", Attempts: 1}, InReplyTo: e.mentionOf(orig, false)}
	id1, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	// The same words answering someone else, and chatter since.
	_, err = e.conn.Send(ctx, parley.Outgoing{Draft: parley.Draft{ID: 43, Text: "Sorry! DM us your order.", Attempts: 1}, InReplyTo: e.mentionOf(other, false)})
	require.NoError(t, err)
	for range 5 {
		e.say(watchedID, "chatter")
	}

	e.fake.ExpireNonces()
	out.Draft.Attempts = 2
	id2, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, id1, id2, "the first message is found")
	assert.Len(t, e.fake.Posted(), 2, "nothing posted again")

	// A draft that never went out is posted on its retry.
	out.Draft.ID, out.Draft.Text = 44, "Thanks for writing!"
	id3, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.NotEqual(t, id1, id3)
	assert.Len(t, e.fake.Posted(), 3)
}

// The same for a prompt sent as a direct message.
func TestPromptRetryAfterNonceExpiredPostsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	out := parley.Outgoing{Draft: parley.Draft{ID: 9, Kind: parley.KindPrompt, Text: "Would you share your story?", Attempts: 1},
		To: parley.Person{Platform: "discord", ExternalID: userID, Handle: "ana"}}
	id1, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	e.fake.ExpireNonces()
	out.Draft.Attempts = 3
	id2, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, id1, id2)
	assert.Len(t, e.fake.Messages(e.fake.DMChannel(userID)), 1)
}
