package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// graceEnv is a web server whose decision service holds approvals for
// grace, on a store whose clock the test moves.
func graceEnv(t *testing.T, grace time.Duration, opts ...envOption) (*testEnv, *time.Time) {
	t.Helper()
	now := time.Now().UTC()
	clock := &now
	st := storetest.Open(t, storetest.Clock(func() time.Time { return *clock }))
	opts = append([]envOption{func(_ *web.Config, o *web.Options) {
		o.Decider = bot.NewDecisions(st, bot.DecisionsOptions{Grace: grace})
		o.Now = func() time.Time { return *clock }
	}}, opts...)
	return newEnvOn(t, st, opts...), clock
}

func TestUndoWithinTheGracePeriodReturnsTheDraftToPending(t *testing.T) {
	e, _ := graceEnv(t, 10*time.Second)
	ids := e.ingest(mention("1", "ana", "my board snapped", parley.Negative, 10, 1))
	c := e.loggedIn("ana", parley.RoleAgent)

	res, body := c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var approved struct {
		State  parley.DraftState `json:"state"`
		Undo   string            `json:"undo"`
		UndoMS int64             `json:"undo_ms"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &approved))
	assert.Equal(t, parley.DraftApproved, approved.State)
	assert.Equal(t, path("/drafts/%d/undo", ids[0]), approved.Undo)
	assert.InDelta(t, 10000, approved.UndoMS, 1000)

	// The conversation shows the approved reply with its Undo form.
	_, page := c.get(path("/threads/%d", e.draft(ids[0]).ThreadID))
	assert.Contains(t, page, `action="/drafts/`+itoa(ids[0])+`/undo"`)

	res, body = c.postJSON(approved.Undo, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	d := e.draft(ids[0])
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Empty(t, d.DecidedBy)
	audit, err := e.st.Audit(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "undo", audit[0].Action)
	assert.Equal(t, "ana", audit[0].Actor)

	// Nothing is claimed for posting, however late.
	claimed, err := e.st.ClaimDrafts(context.Background(), 10, time.Now().Add(time.Hour))
	require.NoError(t, err)
	assert.Empty(t, claimed)
}

func TestUndoAfterTheGracePeriodIsAConflict(t *testing.T) {
	e, clock := graceEnv(t, 10*time.Second)
	ids := e.ingest(mention("1", "ana", "my board snapped", parley.Negative, 10, 1))
	c := e.loggedIn("ana", parley.RoleAgent)
	res, body := c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	*clock = clock.Add(11 * time.Second)

	_, page := c.get(path("/threads/%d", e.draft(ids[0]).ThreadID))
	assert.NotContains(t, page, "/undo\"", "no Undo once the grace period is over")
	res, body = c.postJSON(path("/drafts/%d/undo", ids[0]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, body)
	assert.Contains(t, body, "can no longer be undone")
	assert.Equal(t, parley.DraftApproved, e.draft(ids[0]).State)
}

func TestUndoWithoutGraceIsNotOffered(t *testing.T) {
	e, _ := graceEnv(t, 0)
	ids := e.ingest(mention("1", "ana", "my board snapped", parley.Negative, 10, 1))
	c := e.loggedIn("ana", parley.RoleAgent)
	res, body := c.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.NotContains(t, body, `"undo"`)
	res, body = c.postJSON(path("/drafts/%d/undo", ids[0]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, body)
}

func TestUndoWithoutJavaScriptRedirectsBack(t *testing.T) {
	e, _ := graceEnv(t, 10*time.Second)
	ids := e.ingest(mention("1", "ana", "my board snapped", parley.Negative, 10, 1))
	c := e.loggedIn("ana", parley.RoleAgent)
	res, _ := c.post(path("/drafts/%d/approve", ids[0]), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = c.post(path("/drafts/%d/undo", ids[0]), url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, parley.DraftPending, e.draft(ids[0]).State)
	// Without a CSRF token nothing is undone.
	_, _ = c.post(path("/drafts/%d/approve", ids[0]), nil)
	res, _ = c.post(path("/drafts/%d/undo", ids[0]), url.Values{"csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, parley.DraftApproved, e.draft(ids[0]).State)
}

func TestDraftEditorShowsThePlatformsLimit(t *testing.T) {
	e, _ := graceEnv(t, 0, func(_ *web.Config, o *web.Options) {
		o.TextLimit = func(p string) int { return map[string]int{parley.PlatformMastodon: 640}[p] }
	})
	ids := e.ingest(mention("1", "ana", "my board snapped", parley.Negative, 10, 1))
	c := e.loggedIn("ana", parley.RoleAgent)
	_, page := c.get("/")
	assert.Contains(t, page, `data-platform="mastodon" data-limit="640"`)
	_, page = c.get(path("/threads/%d", e.draft(ids[0]).ThreadID))
	assert.Contains(t, page, `data-platform="mastodon" data-limit="640"`)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
