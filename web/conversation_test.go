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

// oneConversation stores one customer post and returns its conversation id.
func (e *testEnv) oneConversation() int64 {
	e.t.Helper()
	m := mention("500", "eve", "where is my order?", parley.Neutral, 10, 0)
	e.ingest(m)
	require.NotZero(e.t, m.ThreadID)
	return m.ThreadID
}

func (e *testEnv) conversation(id int64) parley.Conversation {
	e.t.Helper()
	c, err := e.st.Conversation(context.Background(), id)
	require.NoError(e.t, err)
	return c
}

// auditActions lists the audit log's actions by actor, oldest first,
// logins left out.
func (e *testEnv) auditActions(actor string) []string {
	e.t.Helper()
	entries, err := e.st.AuditEntries(context.Background(), parley.AuditFilter{Actor: actor})
	require.NoError(e.t, err)
	var out []string
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i].Action != "login" {
			out = append(out, entries[i].Action)
		}
	}
	return out
}

func TestConversationCloseReopen(t *testing.T) {
	e := newEnv(t)
	id := e.oneConversation()
	c := e.loggedIn("ana", parley.RoleAgent)
	_, page := c.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-state="needs_reply"`)
	assert.Contains(t, page, path(`action="/threads/%d/close"`, id))

	res, body := c.post(path("/threads/%d/close", id), url.Values{"reason": {"answered by email"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, path("/threads/%d", id), res.Header.Get("Location"))
	assert.Equal(t, parley.Closed, e.conversation(id).State)
	_, page = c.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-state="closed"`)
	assert.Contains(t, page, "Closed: a new message")
	assert.Contains(t, page, path(`action="/threads/%d/reopen"`, id))
	assert.NotContains(t, page, path(`action="/threads/%d/close"`, id), "a closed conversation offers no Close")

	res, body = c.post(path("/threads/%d/reopen", id), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, parley.NeedsReply, e.conversation(id).State)
	_, page = c.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-state="needs_reply"`)
	assert.NotContains(t, page, `data-conv-state="closed"`)

	// The decision service wrote each action to the audit log, once.
	assert.Equal(t, []string{"close", "reopen"}, e.auditActions("ana"))

	res, _ = c.post("/threads/9999/close", nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}

func TestConversationSnooze(t *testing.T) {
	e := newEnv(t)
	id := e.oneConversation()
	c := e.loggedIn("ana", parley.RoleAgent)
	c.get(path("/threads/%d", id))

	before := time.Now()
	res, body := c.postJSON(path("/threads/%d/snooze", id), url.Values{"for": {"4h"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	got := e.conversation(id)
	assert.Equal(t, parley.Snoozed, got.State)
	assert.WithinDuration(t, before.Add(4*time.Hour), got.SnoozedUntil, time.Minute)

	until := time.Now().UTC().Add(72 * time.Hour).Truncate(time.Minute)
	res, body = c.post(path("/threads/%d/snooze", id), url.Values{"for": {"until"}, "until": {until.Format("2006-01-02T15:04")}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	got = e.conversation(id)
	assert.Equal(t, parley.Snoozed, got.State)
	assert.True(t, until.Equal(got.SnoozedUntil), "snoozed until %s, want %s", got.SnoozedUntil, until)
	_, page := c.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-state="snoozed"`)
	assert.Contains(t, page, until.Format("2 Jan 2006 15:04 UTC"))

	res, _ = c.post(path("/threads/%d/snooze", id), url.Values{"for": {"until"}, "until": {"2001-01-01T09:00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "a snooze must end in the future")
	res, _ = c.post(path("/threads/%d/snooze", id), url.Values{"for": {"forever"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.True(t, until.Equal(e.conversation(id).SnoozedUntil), "refused snoozes change nothing")
	assert.Equal(t, []string{"snooze", "snooze"}, e.auditActions("ana"))
}

func TestConversationAssign(t *testing.T) {
	e := newEnv(t)
	id := e.oneConversation()
	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)

	_, page := manager.get(path("/threads/%d", id))
	assert.Contains(t, page, `<option value="ag">ag</option>`, "managers pick whom to assign")
	res, body := manager.post(path("/threads/%d/assign", id), url.Values{"user": {"ag"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, "ag", e.conversation(id).Assignee)
	_, page = manager.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-assignee="ag"`)
	assert.Contains(t, page, "assigned to ag")
	_, page = agent.get(path("/threads/%d", id))
	assert.Contains(t, page, "assigned to you")
	assert.NotContains(t, page, `id="assign-user"`, "agents get no assign-to-anyone form")

	res, _ = manager.post(path("/threads/%d/assign", id), url.Values{"user": {"nobody"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	assert.Equal(t, []string{"assign"}, e.auditActions("ma"))
}

func TestConversationAgentTakesButCannotAssign(t *testing.T) {
	e := newEnv(t)
	id := e.oneConversation()
	e.addUser("ma", parley.RoleManager, "password-ma")
	agent := e.loggedIn("ag", parley.RoleAgent)
	agent.get(path("/threads/%d", id))

	res, _ := agent.post(path("/threads/%d/assign", id), url.Values{"user": {"ma"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Empty(t, e.conversation(id).Assignee)

	res, body := agent.post(path("/threads/%d/assign", id), url.Values{"user": {"me"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, "ag", e.conversation(id).Assignee)
	_, page := agent.get(path("/threads/%d", id))
	assert.Contains(t, page, `data-conv-assignee="ag"`)
	assert.Equal(t, []string{"assign"}, e.auditActions("ag"), "the refused assignment is not in the log")
}

func TestConversationActionsNeedCSRF(t *testing.T) {
	e := newEnv(t)
	id := e.oneConversation()
	c := e.loggedIn("ana", parley.RoleManager)
	c.get(path("/threads/%d", id))
	for _, action := range []string{"close", "snooze", "assign"} {
		res, _ := c.post(path("/threads/%d/%s", id, action), url.Values{"csrf_token": {""}, "for": {"1h"}, "user": {"ana"}})
		assert.Equal(t, http.StatusForbidden, res.StatusCode, action)
	}
	got := e.conversation(id)
	assert.Equal(t, parley.NeedsReply, got.State)
	assert.Empty(t, got.Assignee)
	assert.Empty(t, e.auditActions("ana"))
}
