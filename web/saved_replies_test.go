package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/web"
)

// withTemplates gives the server the rules' template engine for brand.
func withTemplates(t *testing.T, brand string) envOption {
	set, probs := rules.Load("test.yaml", nil, brand)
	require.Empty(t, probs)
	return func(_ *web.Config, o *web.Options) { o.Templates = set }
}

func TestSavedRepliesCRUD(t *testing.T) {
	e := newEnv(t, withTemplates(t, "Tidewater"))
	m := e.loggedIn("maya", parley.RoleManager)
	m.get("/saved-replies")

	res, body := m.post("/saved-replies", url.Values{"title": {"Shipping times"},
		"text": {"Hi {{first .Person}}! {{.Brand}} ships within 2 days."}, "platform": {""}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	list, err := e.st.SavedReplies(context.Background(), "", "")
	require.NoError(t, err)
	require.Len(t, list, 1)
	id := list[0].ID
	assert.Equal(t, "maya", list[0].CreatedBy)

	_, page := m.get("/saved-replies")
	assert.Contains(t, page, "Shipping times")
	assert.Contains(t, page, "{{first .Person}}", "the page shows the template as written")

	res, body = m.post(path("/saved-replies/%d", id), url.Values{"title": {"Shipping"},
		"text": {"Hi {{first .Person}}, within 2 days."}, "platform": {"discord"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	got, err := e.st.SavedReply(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "Shipping", got.Title)
	assert.Equal(t, parley.PlatformDiscord, got.Platform)
	assert.Equal(t, "maya", got.UpdatedBy)

	_, page = m.get("/saved-replies?q=nothing-like-it")
	assert.NotContains(t, page, "within 2 days")

	res, body = m.post(path("/saved-replies/%d/delete", id), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	_, err = e.st.SavedReply(context.Background(), id)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	audit, err := e.st.Audit(context.Background(), 3)
	require.NoError(t, err)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
	}
	assert.Equal(t, []string{"saved_reply_delete", "saved_reply_edit", "saved_reply_add"}, actions)
}

func TestSavedReplyWithABadVariableIsRefusedNamingIt(t *testing.T) {
	e := newEnv(t, withTemplates(t, "Tidewater"))
	m := e.loggedIn("maya", parley.RoleManager)
	res, body := m.postJSON("/saved-replies", url.Values{"title": {"Oops"}, "text": {"Hi {{.Person.Nmae}}!"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)
	assert.Contains(t, body, ".Person.Nmae")
	assert.Contains(t, body, "no field or method Nmae")
	list, err := e.st.SavedReplies(context.Background(), "", "")
	require.NoError(t, err)
	assert.Empty(t, list, "nothing saved")
}

func TestAgentsReadSavedRepliesButOnlyManagersKeepThem(t *testing.T) {
	e := newEnv(t, withTemplates(t, "Tidewater"))
	a := e.loggedIn("ana", parley.RoleAgent)
	res, _ := a.get("/saved-replies")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = a.post("/saved-replies", url.Values{"title": {"Mine"}, "text": {"Hello"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	list, err := e.st.SavedReplies(context.Background(), "", "")
	require.NoError(t, err)
	assert.Empty(t, list)
	// Without a session's CSRF token, not even a manager saves one.
	m := e.loggedIn("maya", parley.RoleManager)
	res, _ = m.post("/saved-replies", url.Values{"title": {"X"}, "text": {"Y"}, "csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestSavedReplyPickedIsRenderedAndItsUseCounted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, withTemplates(t, "Tidewater"))
	ids := e.ingest(mention("1", "ana", "how long does shipping take?", parley.Neutral, 10, 1),
		mention("2", "bo", "and to Spain?", parley.Neutral, 10, 2))
	sr, err := e.st.SaveReply(ctx, "maya", parley.SavedReply{Title: "Shipping times", Text: "Hi {{first .Person}}! {{.Brand}} ships within 2 days."})
	require.NoError(t, err)
	_, err = e.st.SaveReply(ctx, "maya", parley.SavedReply{Title: "Discord only", Text: "Hey", Platform: parley.PlatformDiscord})
	require.NoError(t, err)
	c := e.loggedIn("ana", parley.RoleAgent)

	d := e.draft(ids[0])
	res, body := c.get(path("/saved-replies/pick?mention_id=%d&q=ship", d.MentionID))
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var picked struct {
		Replies []struct {
			ID    int64
			Title string
			Text  string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &picked))
	require.Len(t, picked.Replies, 1, "the Mastodon message is not offered the Discord-only reply")
	assert.Equal(t, "Hi Ana! Tidewater ships within 2 days.", picked.Replies[0].Text)

	// Edited with it and saved: pending, not counted yet.
	res, body = c.postJSON(path("/drafts/%d/edit", ids[0]), url.Values{"text": {picked.Replies[0].Text},
		"saved_reply_id": {itoa(sr.ID)}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	got, err := e.st.SavedReply(ctx, sr.ID)
	require.NoError(t, err)
	assert.Zero(t, got.Uses)
	// Approved: counted.
	res, body = c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	// Approved straight from the editor with it: counted too.
	res, body = c.postJSON(path("/drafts/%d/approve", ids[1]), url.Values{"text": {"Hi Bo! Tidewater ships within 2 days."},
		"saved_reply_id": {itoa(sr.ID)}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	got, err = e.st.SavedReply(ctx, sr.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Uses)
	_, page := c.get("/saved-replies")
	assert.Regexp(t, `Shipping times</th>[\s\S]*?<td>2</td>`, page)
}
