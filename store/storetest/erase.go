package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// EraseSecret is a word only the erased person wrote, for tests that
// look for it in the database afterwards.
const EraseSecret = "zanzibarquokka"

// SeedErasure stores a person ("eve") with two mentions holding
// EraseSecret, a draft to her, a note about her and a webhook event
// about her, beside another person ("bob") who stays. It returns eve's id.
func SeedErasure(t *testing.T, st Store) int64 {
	t.Helper()
	ctx := context.Background()
	eve1 := mention("e1", "eve", "my "+EraseSecret+" order is broken", 0)
	eve2 := mention("e2", "eve", "still waiting on the "+EraseSecret, 5)
	eve2.InReplyTo = "e1"
	bob := mention("b1", "bob", "great service", 2)
	ingest(t, st, replyRule, eve1, eve2, bob)
	bobReply := mention("b2", "bob", "me too", 6)
	bobReply.InReplyTo = "e1"
	ingest(t, st, nil, bobReply)
	_, err := st.AddNote(ctx, eve1.PersonID, "ana", "called her about the "+EraseSecret)
	require.NoError(t, err)
	_, err = st.AddWebhook(ctx, parley.Webhook{URL: "https://hooks.example/in", Secret: "0123456789abcdef", Events: []string{"*"}})
	require.NoError(t, err)
	data, _ := json.Marshal(map[string]string{"text": eve1.Text})
	_, err = st.EnqueueEvents(ctx, 0, parley.Event{ID: "evt_eve", Type: parley.EventMentionCreated, CreatedAt: t0,
		PersonID: eve1.PersonID, Data: data})
	require.NoError(t, err)
	_, err = st.AddAudit(ctx, parley.AuditEntry{Actor: "ana", Action: "note", PersonID: eve1.PersonID, Detail: "about " + EraseSecret})
	require.NoError(t, err)
	return eve1.PersonID
}

func testErasePerson(t *testing.T, st Store) {
	ctx := context.Background()
	eve := SeedErasure(t, st)
	_, _, err := st.RaiseAlert(ctx, parley.Alert{Kind: parley.AlertLargeReach, Key: "person:eve", At: t0, PersonID: eve,
		Title: "Negative post by @eve@example.social", Detail: "my " + EraseSecret}, time.Hour)
	require.NoError(t, err)
	before, err := st.Stats(ctx)
	require.NoError(t, err)
	_, err = st.ErasePerson(ctx, eve, " ", false)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "who erased is recorded")
	_, err = st.ErasePerson(ctx, 999999, "ana", false)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	e, err := st.ErasePerson(ctx, eve, "ana", true)
	require.NoError(t, err)
	assert.Equal(t, 2, e.Mentions)
	assert.Equal(t, 2, e.Drafts)
	assert.GreaterOrEqual(t, e.Deleted, 2, "the note and the webhook event")
	assert.True(t, e.Blocked)

	p, err := st.Person(ctx, eve)
	require.NoError(t, err)
	assert.NotContains(t, p.Handle, "eve")
	assert.Empty(t, p.Name)
	assert.Equal(t, 2, p.Mentions, "counts stay, anonymous")
	_, err = st.FindPerson(ctx, "mastodon", "eve@example.social")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "the handle is gone")
	ms, err := st.PersonMentions(ctx, eve, 10)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	for _, m := range ms {
		assert.Empty(t, m.Text)
		assert.True(t, strings.HasPrefix(m.ExternalID, "erased:"), "the platform id is replaced: %s", m.ExternalID)
		assert.Empty(t, m.InReplyTo)
	}
	after, err := st.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, before.Mentions, after.Mentions, "the digest's counts hold")
	assert.Equal(t, before.Sentiment, after.Sentiment)

	found, err := st.SearchMentions(ctx, parley.MentionQuery{Text: EraseSecret})
	require.NoError(t, err)
	assert.Empty(t, found, "the search index forgot the words")
	notes, err := st.Notes(ctx, eve)
	require.NoError(t, err)
	assert.Empty(t, notes)
	drafts, err := st.Drafts(ctx, parley.DraftFilter{PersonID: eve})
	require.NoError(t, err)
	for _, d := range drafts {
		assert.Empty(t, d.Text)
		assert.NotContains(t, []parley.DraftState{parley.DraftPending, parley.DraftApproved}, d.State, "nothing is sent to them")
	}
	hooks, err := st.Webhooks(ctx)
	require.NoError(t, err)
	ds, err := st.WebhookDeliveries(ctx, hooks[0].ID, 10)
	require.NoError(t, err)
	assert.Empty(t, ds, "events about them go")
	bob, err := st.FindPerson(ctx, "mastodon", "bob@example.social")
	require.NoError(t, err, "others stay")
	bobs, err := st.PersonMentions(ctx, bob.ID, 10)
	require.NoError(t, err)
	assert.Len(t, bobs, 2)

	audit, err := st.AuditEntries(ctx, parley.AuditFilter{Action: "erase"})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, "ana", audit[0].Actor)
	assert.Equal(t, eve, audit[0].PersonID)
	all, err := st.AuditEntries(ctx, parley.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	for _, a := range all {
		assert.NotContains(t, strings.ToLower(a.Detail), EraseSecret)
		assert.NotContains(t, a.Detail, "eve@")
	}
	alerts, err := st.Alerts(ctx, parley.AlertFilter{})
	require.NoError(t, err)
	require.Len(t, alerts, 1, "the alert stays counted")
	assert.NotContains(t, alerts[0].Title, "eve")
	assert.Empty(t, alerts[0].Detail)
	keys, err := st.Tombstones(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{parley.TombstoneKey("mastodon", "eve")}, keys)
}
