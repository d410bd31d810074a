package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// The Alerts page lists the alerts for every user (agents too), newest
// first, with kind, when, what and a link to the conversation or person,
// filtered by kind; what people wrote is escaped.
func TestAlertsPage(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	e := newEnvOn(t, st, func(_ *web.Config, o *web.Options) { o.Alerts = st })
	ids := e.ingest(mention("1", "bigangry", "<b>awful</b>", parley.Negative, 52000, 1))
	d := e.draft(ids[0])
	now := time.Now()
	for _, a := range []parley.Alert{
		{Kind: parley.AlertMentionSpike, Key: "all", At: now.Add(-2 * time.Hour), Title: "41 mentions in the last hour; usually 5.0 at this hour of the week",
			Detail: "threshold 11.7", Count: 41, Threshold: 11.7},
		{Kind: parley.AlertLargeReach, Key: fmt.Sprint("person:", d.PersonID), At: now.Add(-time.Minute), ConversationID: d.ThreadID,
			PersonID: d.PersonID, Title: "Negative post by @bigangry (52000 followers) on mastodon", Detail: "<b>awful</b>"},
	} {
		_, ok, err := st.RaiseAlert(ctx, a, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}

	agent := e.loggedIn("bo", parley.RoleAgent)
	res, body := agent.get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<a href="/alerts">Alerts</a>`, "the menu links to it")
	res, body = agent.get("/alerts")
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	assert.Contains(t, body, `href="/alerts" aria-current="page"`)
	assert.Contains(t, body, "Large-reach negative post")
	assert.Contains(t, body, "Negative post by @bigangry (52000 followers)")
	assert.Contains(t, body, "&lt;b&gt;awful&lt;/b&gt;")
	assert.NotContains(t, body, "<b>awful</b>")
	assert.Contains(t, body, fmt.Sprintf(`<a href="/threads/%d">Conversation</a>`, d.ThreadID))
	assert.Contains(t, body, fmt.Sprintf(`<a href="/people/%d">Person</a>`, d.PersonID))
	assert.Contains(t, body, "41 mentions in the last hour")
	assert.Less(t, strings.Index(body, "Negative post by"), strings.Index(body, "41 mentions"), "newest first")

	res, body = agent.get("/alerts?kind=" + parley.AlertMentionSpike)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "41 mentions in the last hour")
	assert.NotContains(t, body, "Negative post by")

	res, _ = e.client().get("/alerts")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "signed-out people go to the login")
}
