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

func (e *testEnv) sessionRows() int {
	e.t.Helper()
	all, err := e.st.Sessions().AllCtx(context.Background())
	require.NoError(e.t, err)
	return len(all)
}

// A visitor who has not logged in writes no session: thousands of
// requests without a cookie cannot fill the disk. The login form is
// still protected against cross-site posts (a signed double-submit
// cookie instead of a session).
func TestAnonymousVisitorsWriteNoSessions(t *testing.T) {
	e := newEnv(t)
	e.addUser("ana", parley.RoleAgent, "password-ana")
	for i := range 200 {
		for _, p := range []string{"/login", "/login?next=/people", "/", "/no-such-page", "/people/1"} {
			res, err := http.Get(e.url + p) // no cookie jar: a fresh visitor each time
			require.NoError(t, err)
			res.Body.Close()
			if i == 0 {
				assert.Less(t, res.StatusCode, 500, p)
			}
		}
	}
	c := e.client()
	c.get("/login")
	res, _ := c.post("/login", url.Values{"name": {"ana"}, "password": {"wrong"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Zero(t, e.sessionRows(), "no session before a successful login")

	// The login form needs its token, and the token is bound to the
	// visitor's cookie.
	other := e.client()
	other.get("/login")
	res, body := c.post("/login", url.Values{"name": {"ana"}, "password": {"password-ana"}, "csrf_token": {other.csrf}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, body)
	res, _ = c.post("/login", url.Values{"name": {"ana"}, "password": {"password-ana"}, "csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	fresh := e.client() // a token without its cookie
	res, _ = fresh.post("/login", url.Values{"name": {"ana"}, "password": {"password-ana"}, "csrf_token": {c.csrf}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Zero(t, e.sessionRows())

	c.login("ana", "password-ana")
	assert.Equal(t, 1, e.sessionRows(), "a login makes the one session")
}
