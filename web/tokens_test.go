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

var shownToken = regexpMust(`<code class="secret-value">(pk_[A-Za-z0-9_-]+)</code>`)

func TestTokensPageMakesShowsOnceAndRevokes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.loggedIn("ana", parley.RoleAdmin)
	_, page := admin.get("/")
	assert.Contains(t, page, `href="/tokens"`, "admins find the page in the nav")

	res, _ := admin.post("/tokens", url.Values{"name": {"crm"}, "role": {"agent"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, page = admin.get("/tokens")
	require.Equal(t, http.StatusOK, res.StatusCode)
	m := shownToken.FindStringSubmatch(page)
	require.NotNil(t, m, "the new token is shown: %s", page)
	secret := m[1]
	tok, err := e.st.TokenByHash(ctx, parley.TokenHash(secret))
	require.NoError(t, err, "the store knows the token shown by its hash")
	assert.Equal(t, parley.RoleAgent, tok.Role)
	assert.Equal(t, "ana", tok.CreatedBy)

	_, page = admin.get("/tokens")
	assert.NotContains(t, page, secret, "shown once")
	assert.Contains(t, page, "crm")
	assert.Contains(t, page, "never", "not used yet")

	res, _ = admin.post("/tokens", url.Values{"name": {"CRM"}, "role": {"agent"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode, "names are unique")

	manager := e.loggedIn("bo", parley.RoleManager)
	res, _ = manager.get("/tokens")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "admins only")
	res, _ = manager.post("/tokens", url.Values{"name": {"mine"}, "role": {"admin"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	res, _ = admin.post("/tokens/crm/revoke", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, err = e.st.TokenByHash(ctx, parley.TokenHash(secret))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	for _, action := range []string{"token_add", "token_revoke"} {
		entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Action: action, Actor: "ana"})
		require.NoError(t, err)
		assert.Len(t, entries, 1, action)
	}
}
