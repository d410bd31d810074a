package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// withStatus serves a status page made of the store's outbox and one
// connector as a running parley reports it.
func withStatus(st *store.Store) envOption {
	return func(_ *web.Config, o *web.Options) {
		o.Status = func(ctx context.Context) (parley.Status, error) {
			out, err := st.OutboxStatus(ctx, 50)
			return parley.Status{At: time.Now(), Live: true, Outbox: out, Connectors: []parley.ConnectorStatus{{
				Name: "mastodon:fake.example", Platform: "mastodon", State: "running", Connected: true,
				Mode: parley.ModeStreaming, LastError: "poll mentions: 502 Bad Gateway",
				RateLimit: parley.RateLimit{Remaining: 287, Limit: 300, Hits: 2},
				Cursors:   []parley.Cursor{{Key: "mastodon:fake.example:1:notifications", Value: "1234"}},
			}}}, err
		}
	}
}

// failDraft approves a draft, lets the outbox claim it, and fails it.
func failDraft(t *testing.T, e *testEnv, id int64, why string) {
	ctx := context.Background()
	_, err := e.st.ApproveDraft(ctx, id, "ana", "")
	require.NoError(t, err)
	claimed, err := e.st.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, e.st.MarkFailed(ctx, id, why, time.Time{}))
}

func TestStatusPageForAdmins(t *testing.T) {
	st := storetest.Open(t)
	e := newEnvOn(t, st, withStatus(st))
	ids := e.ingest(mention("1", "ana", "my wheels broke", parley.Negative, 10, 1))
	failDraft(t, e, ids[0], "422 Validation failed: Text character limit of 500 exceeded")

	agent := e.loggedIn("bo", parley.RoleManager)
	res, _ := agent.get("/status")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a manager is not an admin")
	res, _ = agent.get("/status.json")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	admin := e.loggedIn("root", parley.RoleAdmin)
	res, body := admin.get("/status")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, body, `href="/status" aria-current="page"`)
	assert.Contains(t, body, "mastodon:fake.example")
	assert.Contains(t, body, "streaming")
	assert.Contains(t, body, "287 of 300 left")
	assert.Contains(t, body, "poll mentions: 502 Bad Gateway")
	assert.Contains(t, body, "mastodon:fake.example:1:notifications")
	assert.Contains(t, body, "Text character limit of 500 exceeded")
	assert.Contains(t, body, path(`action="/status/drafts/%d/retry"`, ids[0]))
	assert.Contains(t, body, `id="leases"`)

	// Retry needs the CSRF token, goes through the decision service and
	// is audited under the admin's name.
	res, _ = admin.post(path("/status/drafts/%d/retry", ids[0]), url.Values{"csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Equal(t, parley.DraftFailed, e.draft(ids[0]).State)
	res, _ = agent.post(path("/status/drafts/%d/retry", ids[0]), nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, body = admin.post(path("/status/drafts/%d/retry", ids[0]), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, parley.DraftApproved, e.draft(ids[0]).State)
	audit, err := st.Audit(context.Background(), 1)
	require.NoError(t, err)
	assert.Equal(t, "retry", audit[0].Action)
	assert.Equal(t, "root", audit[0].Actor)
	// It waits for the outbox, shown as retrying with its last error.
	res, body = admin.get("/status")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "(1 retrying after an error)")
	assert.Contains(t, body, ">retrying</span>")

	// A draft waiting for approval is not the outbox's to retry.
	pending := e.ingest(mention("2", "cy", "where is my order?", parley.Neutral, 10, 2))
	res, body = admin.postJSON(path("/status/drafts/%d/retry", pending[0]), nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, body)
	assert.Equal(t, parley.DraftPending, e.draft(pending[0]).State)

	// Once sent, nothing fails.
	claimed, err := st.ClaimDrafts(context.Background(), 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, st.MarkSent(context.Background(), ids[0], "109", time.Now()))
	res, body = admin.get("/status")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Nothing is failing.")
}

func TestStatusJSONWithTheMetricsToken(t *testing.T) {
	st := storetest.Open(t)
	e := newEnvOn(t, st, withStatus(st))
	get := func(auth string) (*http.Response, parley.Status) {
		req, err := http.NewRequest(http.MethodGet, e.url+"/status.json", nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var s parley.Status
		if res.StatusCode == http.StatusOK {
			require.NoError(t, json.NewDecoder(res.Body).Decode(&s))
		}
		return res, s
	}
	res, s := get("Bearer " + testMetricsToken)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, s.Live)
	require.Len(t, s.Connectors, 1)
	assert.Equal(t, 287, s.Connectors[0].RateLimit.Remaining)
	res, _ = get("Bearer wrong")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = get("")
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "no session: log in")
}

func TestStatusPageWithoutAStatusSource(t *testing.T) {
	e := newEnv(t)
	admin := e.loggedIn("root", parley.RoleAdmin)
	res, _ := admin.get("/status")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}
