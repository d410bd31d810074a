package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestConversationNotesAreShownAndNeverPosted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "my deck cracked", parley.Negative, 10, 0))
	d := e.draft(ids[0])
	c := e.loggedIn("ana", parley.RoleAgent)
	const note = "Eve is a wholesale customer: call her, do not promise a refund."
	res, body := c.post(path("/threads/%d/notes", d.ThreadID), url.Values{"text": {note}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	res, body = c.post(path("/threads/%d/notes", d.ThreadID), url.Values{"text": {"   "}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)

	_, page := c.get(path("/threads/%d", d.ThreadID))
	assert.Contains(t, page, "wholesale customer: call her")
	assert.Contains(t, page, "staff only, never posted")
	assert.Contains(t, page, "<strong>ana</strong>")

	// Approved and claimed for posting: the note is in nothing that goes out.
	res, body = c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	claimed, err := e.st.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.NotContains(t, claimed[0].Text, "wholesale")
	assert.Equal(t, "Thanks Eve!", claimed[0].Text)
	notes, err := e.st.ConversationNotes(ctx, d.ThreadID)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, "ana", notes[0].Author)

	audit, err := e.st.Audit(ctx, 5)
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	assert.Contains(t, actions, "conversation_note")

	// Without the session's CSRF token, nothing is added.
	res, _ = c.post(path("/threads/%d/notes", d.ThreadID), url.Values{"text": {"forged"}, "csrf_token": {"nope"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = c.post("/threads/999/notes", url.Values{"text": {"nobody"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestConversationTagsAddRemoveApartFromRuleTags(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "my deck cracked", parley.Negative, 10, 0))
	d := e.draft(ids[0])
	c := e.loggedIn("ana", parley.RoleAgent)
	for _, tag := range []string{"#VIP", "wholesale", "vip"} {
		res, body := c.post(path("/threads/%d/tags", d.ThreadID), url.Values{"tag": {tag}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	}
	res, body := c.postJSON(path("/threads/%d/tags", d.ThreadID), url.Values{"tag": {"two words"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, body, "no spaces")
	tags, err := e.st.ConversationTags(ctx, d.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, []string{"vip", "wholesale"}, tags, "lowercased, without #, once")

	_, page := c.get(path("/threads/%d", d.ThreadID))
	assert.Contains(t, page, `<span class="tag tag-manual">#vip</span>`)
	assert.Regexp(t, `From the rules, on its posts: <span class="tag">#negative-tag</span>`, page)

	res, body = c.post(path("/threads/%d/tags", d.ThreadID), url.Values{"tag": {"vip"}, "remove": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	tags, err = e.st.ConversationTags(ctx, d.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, []string{"wholesale"}, tags)
	m, err := e.st.Mention(ctx, d.MentionID)
	require.NoError(t, err)
	assert.Equal(t, []string{"negative-tag"}, m.Tags, "the rules' tags are untouched")

	audit, err := e.st.Audit(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "conversation_untag", audit[0].Action)
	assert.Equal(t, "ana", audit[0].Actor)
	assert.Contains(t, audit[0].Detail, "#vip")
}
