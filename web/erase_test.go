package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// A manager erases a person from their page after typing the handle;
// agents cannot.
func TestErasePersonFromTheirPage(t *testing.T) {
	e := newEnv(t)
	e.ingest(mention("1", "eve", "my quokkaberry board snapped", parley.Negative, 10, 0),
		mention("2", "bob", "nice wheels", parley.Positive, 10, 1))
	eve, err := e.st.FindPerson(context.Background(), parley.PlatformMastodon, "eve@skate.social")
	require.NoError(t, err)

	agent := e.loggedIn("al", parley.RoleAgent)
	_, body := agent.get(path("/people/%d", eve.ID))
	assert.NotContains(t, body, "/erase", "agents do not see it")
	res, _ := agent.post(path("/people/%d/erase", eve.ID), url.Values{"confirm": {"eve@skate.social"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	mgr := e.loggedIn("mia", parley.RoleManager)
	_, body = mgr.get(path("/people/%d", eve.ID))
	assert.Contains(t, body, path("/people/%d/erase", eve.ID))
	res, _ = mgr.post(path("/people/%d/erase", eve.ID), url.Values{"confirm": {"bob@skate.social"}})
	assert.NotEqual(t, http.StatusSeeOther, res.StatusCode, "the wrong handle does not confirm")
	m, err := e.st.PersonMentions(context.Background(), eve.ID, 10)
	require.NoError(t, err)
	require.Equal(t, "my quokkaberry board snapped", m[0].Text, "nothing erased yet")

	res, _ = mgr.post(path("/people/%d/erase", eve.ID), url.Values{"confirm": {"@eve@skate.social"}, "block": {"1"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = mgr.get(path("/people/%d", eve.ID))
	assert.Contains(t, body, "Erased: 1 posts anonymised")
	assert.NotContains(t, body, "quokkaberry")
	assert.NotContains(t, body, "eve@skate.social")
	keys, err := e.st.Tombstones(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{parley.TombstoneKey(parley.PlatformMastodon, "a-eve")}, keys)
	audit, err := e.st.AuditEntries(context.Background(), parley.AuditFilter{Action: "erase"})
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, "mia", audit[0].Actor)
}
