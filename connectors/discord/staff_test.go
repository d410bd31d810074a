package discord

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/discord/discordtest"
)

var (
	staffMember = &discordgo.Member{User: &discordgo.User{ID: "100000000000000040", Username: "maria"}, Roles: []string{staffRoleID}}
	plainMember = &discordgo.Member{User: &discordgo.User{ID: "100000000000000041", Username: "troll"}, Roles: []string{botRoleID}}
)

// staffEnv has a person with some history, the mention a draft answers, and
// the pending draft.
type staffFixture struct {
	person  parley.Person
	mention parley.Mention
	draft   parley.Draft
}

func newStaffEnv(t *testing.T, opts ...Option) (*env, staffFixture) {
	var f staffFixture
	e := newEnv(t, envOpt{staff: true, opts: opts, setup: func(_ *discordtest.Server, st *memStore) {
		f.person = st.addPerson(parley.Person{Platform: "discord", ExternalID: userID, Handle: "ana", Name: "Ana P",
			Mentions: 3, LastSentiment: parley.Negative})
		st.addMention(parley.Mention{Platform: "discord", ExternalID: "1", PersonID: f.person.ID, Text: "earlier: skates squeak",
			CreatedAt: time.Now().Add(-48 * time.Hour), Sentiment: parley.Sentiment{Label: parley.Neutral}})
		f.mention = st.addMention(parley.Mention{Platform: "discord", ExternalID: "2", PersonID: f.person.ID,
			Text: "my acme rocket skates exploded", URL: "https://discord.com/channels/1/2/3", CreatedAt: time.Now(),
			Sentiment: parley.Sentiment{Label: parley.Negative, Score: -0.7}})
		f.draft = st.addDraft(parley.Draft{Kind: parley.KindReply, Platform: "discord", MentionID: f.mention.ID,
			PersonID: f.person.ID, Rule: "complaint", Text: "So sorry, Ana! We will replace them."})
	}})
	return e, f
}

// staffMessage waits for the draft's staff message and returns it.
func (e *env) staffMessage(draftID int64) *discordgo.Message {
	e.t.Helper()
	var rec staffRecord
	require.Eventually(e.t, func() bool {
		var ok bool
		rec, ok = parseStaffRecord(e.store.cursor(StaffCursorKey(draftID)))
		return ok
	}, wait, tick, "draft %d never reached the staff channel; logs:\n%s", draftID, e.logs.String())
	assert.Equal(e.t, staffID, rec.channelID)
	m := e.fake.Message(rec.messageID)
	require.NotNil(e.t, m)
	return m
}

func buttons(m *discordgo.Message) []string {
	var ids []string
	for _, c := range m.Components {
		if row, ok := c.(*discordgo.ActionsRow); ok {
			for _, b := range row.Components {
				if btn, ok := b.(*discordgo.Button); ok {
					ids = append(ids, btn.CustomID)
				}
			}
		}
	}
	return ids
}

func (e *env) draft(id int64) parley.Draft {
	d, err := e.store.Draft(context.Background(), id)
	require.NoError(e.t, err)
	return d
}

func TestStaffMessageShowsDraftWithHistory(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	id := strconv.FormatInt(f.draft.ID, 10)
	assert.Equal(t, []string{"parley:approve:" + id, "parley:edit:" + id, "parley:reject:" + id}, buttons(m))
	assert.Contains(t, m.Content, "Draft #"+id)
	assert.Contains(t, m.Content, "rule `complaint`")
	require.Len(t, m.Embeds, 1)
	em := m.Embeds[0]
	assert.Equal(t, "So sorry, Ana! We will replace them.", em.Description)
	assert.Equal(t, "Reply to Ana P (@ana)", em.Title)
	fields := map[string]string{}
	for _, fl := range em.Fields {
		fields[fl.Name] = fl.Value
	}
	assert.Contains(t, fields["Original message"], "> my acme rocket skates exploded")
	assert.Equal(t, "negative (-0.70)", fields["Sentiment"])
	assert.Equal(t, "3 mentions · last sentiment negative", fields["Person"])
	assert.Contains(t, fields["Earlier messages"], "neutral: earlier: skates squeak")
	assert.NotContains(t, fields["Earlier messages"], "exploded", "the current message is not history")

	// Posted once, even though the mirror polls every 20ms.
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, e.fake.Messages(staffID), 1)
}

func TestStaffApproveButton(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	in, err := e.fake.Click(m.ID, customApprove+strconv.FormatInt(f.draft.ID, 10), staffMember)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return e.draft(f.draft.ID).State == parley.DraftApproved }, wait, tick)
	d := e.draft(f.draft.ID)
	assert.Equal(t, "discord:maria", d.DecidedBy)
	assert.Equal(t, f.draft.Text, d.Text)
	require.Eventually(t, func() bool { return len(buttons(e.fake.Message(m.ID))) == 0 }, wait, tick)
	updated := e.fake.Message(m.ID)
	assert.Contains(t, updated.Content, "approved by discord:maria")
	assert.Empty(t, in.Ephemeral())
	require.Len(t, in.Responses(), 1)
	assert.Equal(t, discordgo.InteractionResponseDeferredMessageUpdate, in.Responses()[0].Type)

	// The buttons are gone: a second click is impossible.
	_, err = e.fake.Click(m.ID, customApprove+strconv.FormatInt(f.draft.ID, 10), staffMember)
	assert.Error(t, err)

	// Sent later by the outbox: the message says so, once.
	require.NoError(t, e.store.MarkSent(context.Background(), f.draft.ID, "999", time.Now()))
	require.Eventually(t, func() bool { return strings.Contains(e.fake.Message(m.ID).Content, "· sent") }, wait, tick)
	assert.Len(t, e.fake.Messages(staffID), 1)
}

func TestStaffRejectButton(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	_, err := e.fake.Click(m.ID, customReject+strconv.FormatInt(f.draft.ID, 10), staffMember)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.draft(f.draft.ID).State == parley.DraftRejected }, wait, tick)
	assert.Equal(t, "discord:maria", e.draft(f.draft.ID).DecidedBy)
	require.Eventually(t, func() bool { return len(buttons(e.fake.Message(m.ID))) == 0 }, wait, tick)
	assert.Contains(t, e.fake.Message(m.ID).Content, "rejected by discord:maria")
}

func TestStaffEditModalThenApprove(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	id := strconv.FormatInt(f.draft.ID, 10)
	click, err := e.fake.Click(m.ID, customEdit+id, staffMember)
	require.NoError(t, err)

	require.Eventually(t, func() bool { return len(click.Responses()) == 1 }, wait, tick)
	resp := click.Responses()[0]
	require.Equal(t, discordgo.InteractionResponseModal, resp.Type)
	assert.Equal(t, customEditModal+id, resp.Data.CustomID)
	row := resp.Data.Components[0].(*discordgo.ActionsRow)
	input := row.Components[0].(*discordgo.TextInput)
	assert.Equal(t, discordgo.TextInputParagraph, input.Style)
	assert.Equal(t, f.draft.Text, input.Value, "the modal holds the draft text")
	assert.Equal(t, parley.DraftPending, e.draft(f.draft.ID).State, "opening the modal changes nothing")

	_, err = e.fake.SubmitModal(click, map[string]string{editInputID: "So sorry, Ana! A new pair ships today."}, staffMember)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.draft(f.draft.ID).State == parley.DraftApproved }, wait, tick)
	d := e.draft(f.draft.ID)
	assert.Equal(t, "So sorry, Ana! A new pair ships today.", d.Text)
	assert.Equal(t, f.draft.Text, d.OriginalText)
	assert.Equal(t, "discord:maria", d.DecidedBy)
	require.Eventually(t, func() bool { return len(buttons(e.fake.Message(m.ID))) == 0 }, wait, tick)
	updated := e.fake.Message(m.ID)
	assert.Contains(t, updated.Content, "edited and approved by discord:maria")
	assert.Equal(t, "So sorry, Ana! A new pair ships today.", updated.Embeds[0].Description)
}

func TestStaffButtonRefusedWithoutRole(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	id := strconv.FormatInt(f.draft.ID, 10)
	for _, action := range []string{customApprove, customReject, customEdit} {
		in, err := e.fake.Click(m.ID, action+id, plainMember)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return len(in.Ephemeral()) == 1 }, wait, tick, action)
		assert.Contains(t, in.Ephemeral()[0], "You need one of the staff roles (<@&"+staffRoleID+">)")
	}
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, parley.DraftPending, e.draft(f.draft.ID).State)
	assert.Len(t, buttons(e.fake.Message(m.ID)), 3, "the message still offers the buttons")
	audit, _ := e.store.Audit(context.Background(), 10)
	assert.Empty(t, audit)
}

func TestStaffMessageFollowsDecisionsElsewhere(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t)
	e.start()
	m := e.staffMessage(f.draft.ID)
	ctx := context.Background()

	// Edited in the web inbox: the text follows, the buttons stay.
	_, err := e.store.EditDraft(ctx, f.draft.ID, "web:bob", "Edited on the web")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return e.fake.Message(m.ID).Embeds[0].Description == "Edited on the web" }, wait, tick)
	assert.Len(t, buttons(e.fake.Message(m.ID)), 3)

	// Approved from the CLI: the message says who, the buttons go.
	_, err = e.store.ApproveDraft(ctx, f.draft.ID, "cli:bob", "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(buttons(e.fake.Message(m.ID))) == 0 }, wait, tick)
	assert.Contains(t, e.fake.Message(m.ID).Content, "approved by cli:bob")

	// A draft queued while running appears too.
	d2 := e.store.addDraft(parley.Draft{Kind: parley.KindPrompt, Platform: "discord", PersonID: f.person.ID, Text: "Tell your story?"})
	m2 := e.staffMessage(d2.ID)
	assert.Equal(t, "Prompt to Ana P (@ana)", m2.Embeds[0].Title)
	assert.Len(t, buttons(m2), 3)
}

// A click racing a decision made elsewhere: the store says who won, the
// clicker is told privately, and the message catches up.
func TestStaffConflictShownToClicker(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t, WithStaffPollInterval(time.Hour))
	e.start()
	m := e.staffMessage(f.draft.ID)
	_, err := e.store.ApproveDraft(context.Background(), f.draft.ID, "cli:bob", "")
	require.NoError(t, err)

	in, err := e.fake.Click(m.ID, customReject+strconv.FormatInt(f.draft.ID, 10), staffMember)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(in.Ephemeral()) == 1 }, wait, tick)
	assert.Equal(t, "draft "+strconv.FormatInt(f.draft.ID, 10)+" is already approved by cli:bob", in.Ephemeral()[0])
	assert.Equal(t, parley.DraftApproved, e.draft(f.draft.ID).State)
	require.Eventually(t, func() bool { return len(buttons(e.fake.Message(m.ID))) == 0 }, wait, tick)
	assert.Contains(t, e.fake.Message(m.ID).Content, "approved by cli:bob")
}

// A 429 while posting to the staff channel is retried; the draft is not
// lost and not posted twice.
func TestStaffSurvivesRateLimit(t *testing.T) {
	t.Parallel()
	e, f := newStaffEnv(t, WithRateLimitRetries(1, 10*time.Millisecond))
	e.fake.RateLimitNext(3, 5*time.Millisecond)
	e.start()
	m := e.staffMessage(f.draft.ID)
	assert.Len(t, buttons(m), 3)
	assert.GreaterOrEqual(t, e.fake.RateLimited(), 3)
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, e.fake.Messages(staffID), 1)
}
