package discord

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// pipelineSink stands in for bot.Pipeline: it stores each mention with its
// author and queues a reply draft.
type pipelineSink struct{ st *memStore }

func (p pipelineSink) Submit(_ context.Context, m parley.Mention) error {
	person, err := p.st.FindPerson(context.Background(), m.Platform, m.Author.ExternalID)
	if err != nil {
		person = p.st.addPerson(m.Author)
	}
	m.PersonID = person.ID
	stored := p.st.addMention(m)
	p.st.addDraft(parley.Draft{Kind: parley.KindReply, Platform: m.Platform, MentionID: stored.ID, PersonID: person.ID,
		Text: "Thanks " + person.DisplayName() + "!"})
	return nil
}

// The whole path of the "done when": a mention becomes a draft in
// the staff channel, an Approve click approves it, and the outbox's Send,
// even retried, posts the reply exactly once.
func TestMentionToApprovedReplyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{staff: true})
	e.sink = nil
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.conn.Run(ctx, pipelineSink{e.store}) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	require.Eventually(t, e.fake.Connected, wait, tick)

	tag, bot := e.botMention()
	orig := e.say(watchedID, tag+" my acme order is late", bot)

	var draft parley.Draft
	require.Eventually(t, func() bool {
		ds, _ := e.store.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
		if len(ds) == 1 {
			draft = ds[0]
		}
		return len(ds) == 1
	}, wait, tick)
	staffMsg := e.staffMessage(draft.ID)
	assert.Contains(t, staffMsg.Embeds[0].Fields[0].Value, "> @Parley my acme order is late")
	_, err := e.fake.Click(staffMsg.ID, customApprove+strconv.FormatInt(draft.ID, 10), staffMember)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.draft(draft.ID).State == parley.DraftApproved }, wait, tick)

	// The outbox: Send, "crash" before recording, Send again, record.
	d := e.draft(draft.ID)
	m, err := e.store.Mention(ctx, d.MentionID)
	require.NoError(t, err)
	out := parley.Outgoing{Draft: d, InReplyTo: &m}
	id1, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	id2, err := e.conn.Send(ctx, out)
	require.NoError(t, err)
	require.Equal(t, id1, id2)
	require.NoError(t, e.store.MarkSent(ctx, d.ID, id1, d.UpdatedAt))

	var replies int
	for _, msg := range e.fake.Messages(watchedID) {
		if msg.MessageReference != nil && msg.MessageReference.MessageID == orig.ID {
			replies++
			assert.Equal(t, "Thanks Ana P!", msg.Content)
		}
	}
	assert.Equal(t, 1, replies, "exactly one reply")
	require.Eventually(t, func() bool { return strings.Contains(e.fake.Message(staffMsg.ID).Content, "· sent") }, wait, tick)
	assert.Contains(t, e.fake.Message(staffMsg.ID).Content, "approved by discord:maria")
	// The bot's own reply came back on the gateway and was not taken for a mention.
	ds, _ := e.store.Drafts(ctx, parley.DraftFilter{})
	assert.Len(t, ds, 1)
}
