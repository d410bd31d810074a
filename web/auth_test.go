package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

func sessionCookie(t *testing.T, res *http.Response) *http.Cookie {
	t.Helper()
	return cookieNamed(t, res, "parley_session")
}

func cookieNamed(t *testing.T, res *http.Response, name string) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", name, res.Header.Values("Set-Cookie"))
	return nil
}

func TestRedirectsWhenLoggedOut(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for _, p := range []string{"/", "/people/1", "/threads/3?x=1", "/activity", "/users"} {
		res, _ := c.get(p)
		assert.Equal(t, http.StatusSeeOther, res.StatusCode, p)
		assert.Equal(t, "/login?next="+url.QueryEscape(p), res.Header.Get("Location"), p)
	}
	// Fetches and streams get 401, not a login page.
	req, _ := http.NewRequest(http.MethodGet, e.url+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	// A state change without a session is refused before anything else.
	res, body := c.post("/drafts/1/approve", nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.Contains(t, body, "session has expired")

	// The login page itself and the static files need no login.
	res, body = c.get("/login")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Log in to Parley")
	res, _ = c.get("/static/app.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
}

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	e.addUser("ana", parley.RoleManager, "correct horse battery")
	c := e.client()

	// A visitor gets no session before logging in, only the login form's
	// CSRF cookie; a session id planted in the browser is not taken up.
	planted := &http.Cookie{Name: "parley_session", Value: "planted-by-someone-else"}
	c.c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{planted})
	res, _ := c.get("/login?next=/people")
	anon := cookieNamed(t, res, "parley_login_csrf")
	assert.True(t, anon.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, anon.SameSite)
	assert.False(t, anon.Secure, "plain http on 127.0.0.1: not Secure unless configured")
	for _, ck := range res.Cookies() {
		assert.NotEqual(t, "parley_session", ck.Name, "no session for a visitor")
	}

	res, body := c.post("/login", url.Values{"name": {"ana"}, "password": {"wrong password"}, "next": {"/people"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, body, "do not match")
	res, body = c.post("/login", url.Values{"name": {"nobody"}, "password": {"whatever it is"}})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.Contains(t, body, "do not match", "the same answer whether or not the name exists")

	res, _ = c.post("/login", url.Values{"name": {"ANA"}, "password": {"correct horse battery"}, "next": {"/people"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/people", res.Header.Get("Location"))
	logged := sessionCookie(t, res)
	assert.NotEqual(t, planted.Value, logged.Value, "the session token is made at login")
	assert.True(t, logged.HttpOnly)

	res, body = c.get("/")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `href="/account"`)

	u, err := e.st.User(context.Background(), "ana")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), u.LastLoginAt, time.Minute)
	entries, err := e.st.AuditEntries(context.Background(), parley.AuditFilter{})
	require.NoError(t, err)
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Actor+":"+en.Action)
	}
	// A name that is no user is recorded as a hash, not as typed.
	require.Len(t, actions, 3)
	assert.Equal(t, "ana:login", actions[0])
	assert.Regexp(t, `^unknown name #[0-9a-f]{8}:login_failed$`, actions[1])
	assert.Equal(t, "ana:login_failed", actions[2])

	// A next= pointing elsewhere is ignored.
	c2 := e.client()
	c2.get("/login")
	res, _ = c2.post("/login", url.Values{"name": {"ana"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
	assert.Equal(t, "/", res.Header.Get("Location"))

	res, _ = c.post("/logout", nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = c.get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "logged out")

	// The old session token is dead even if replayed.
	old := e.client()
	old.c.Jar.SetCookies(mustURL(t, e.url), []*http.Cookie{{Name: "parley_session", Value: logged.Value}})
	res, _ = old.get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func mustURL(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}

func TestSecureCookies(t *testing.T) {
	t.Run("configured", func(t *testing.T) {
		e := newEnv(t, func(c *web.Config, _ *web.Options) { c.SecureCookies = true })
		res, _ := e.client().get("/login")
		assert.True(t, cookieNamed(t, res, "parley_login_csrf").Secure)
		e.addUser("ana", parley.RoleAgent, "password-ana")
		c := e.client()
		c.get("/login")
		res, _ = c.post("/login", url.Values{"name": {"ana"}, "password": {"password-ana"}})
		assert.True(t, sessionCookie(t, res).Secure)
	})
	t.Run("TLS request", func(t *testing.T) {
		e := newEnv(t)
		ts := httptest.NewTLSServer(e.srv.Handler())
		defer ts.Close()
		res, err := ts.Client().Get(ts.URL + "/login")
		require.NoError(t, err)
		res.Body.Close()
		assert.True(t, cookieNamed(t, res, "parley_login_csrf").Secure)
		assert.NotEmpty(t, res.Header.Get("Strict-Transport-Security"))
	})
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "my wheels broke", parley.Negative, 10, 0))
	c := e.loggedIn("ana", parley.RoleManager)
	approve := path("/drafts/%d/approve", ids[0])

	res, _ := c.post(approve, url.Values{"csrf_token": {""}}, "Accept", "application/json")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "no token")
	res, body := c.post(approve, url.Values{"csrf_token": {"forged"}}, "Accept", "application/json")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "wrong token")
	assert.Contains(t, body, "security token")
	res, _ = c.post(approve, nil, "Accept", "application/json", "Sec-Fetch-Site", "cross-site")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a cross-site request is refused even with the token")
	res, _ = c.post(approve, nil, "Accept", "application/json", "Origin", "https://evil.example")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "a foreign Origin is refused")
	assert.Equal(t, parley.DraftPending, e.draft(ids[0]).State, "nothing happened")

	// Another user's token does not work in this session.
	other := e.loggedIn("bo", parley.RoleManager)
	res, _ = c.post(approve, url.Values{"csrf_token": {other.csrf}}, "Accept", "application/json")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	res, _ = c.post(approve, nil, "Accept", "application/json", "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, parley.DraftApproved, e.draft(ids[0]).State)

	// Logging out needs the token too.
	res, _ = c.post("/logout", url.Values{"csrf_token": {"x"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, func(_ *web.Config, o *web.Options) {
		o.LoginLimit = web.LoginLimit{PerUser: 3, PerIP: 6, Window: time.Hour}
	})
	e.addUser("ana", parley.RoleAgent, "the right password")
	e.addUser("bo", parley.RoleAgent, "the right password")
	c := e.client()
	c.get("/login")
	try := func(name, pw string) *http.Response {
		res, _ := c.post("/login", url.Values{"name": {name}, "password": {pw}})
		return res
	}
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, try("ana", "wrong").StatusCode)
	}
	res := try("ana", "the right password")
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the name waits after 3 failures from this address, even with the right password")
	assert.NotEmpty(t, res.Header.Get("Retry-After"))

	// bo can still log in from this IP, until the IP's budget of failures
	// (6) is spent; the success does not count.
	assert.Equal(t, http.StatusSeeOther, try("bo", "the right password").StatusCode)
	c.get("/") // the token changes at login
	for range 3 {
		assert.Equal(t, http.StatusUnauthorized, try("bo", "wrong").StatusCode)
	}
	assert.Equal(t, http.StatusTooManyRequests, try("bo", "the right password").StatusCode, "6 failures from one IP")

	m := e.metrics()
	assert.Equal(t, "2", m[`parley_logins_total{result="limited"}`])
	assert.Equal(t, "6", m[`parley_logins_total{result="failed"}`])
	assert.Equal(t, "1", m[`parley_logins_total{result="ok"}`])
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	ids := e.ingest(mention("1", "eve", "hello", parley.Neutral, 10, 0))
	agent := e.loggedIn("ag", parley.RoleAgent)
	manager := e.loggedIn("ma", parley.RoleManager)
	admin := e.loggedIn("ad", parley.RoleAdmin)

	for _, p := range []string{"/users", "/activity"} {
		res, body := agent.get(p)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, p)
		assert.Contains(t, body, "needs the")
	}
	res, _ := agent.post("/users", url.Values{"name": {"mallory"}, "role": {"admin"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "an agent cannot add users")
	res, _ = agent.post("/users/ad/delete", nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = agent.post("/people/1/optout", url.Values{"optout": {"1"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	_, err := e.st.User(context.Background(), "mallory")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	res, _ = manager.get("/users")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "managers do not manage users")
	res, _ = manager.get("/activity")
	assert.Equal(t, http.StatusOK, res.StatusCode)

	res, _ = admin.get("/users")
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// Agents work the inbox.
	res, body := agent.postJSON(path("/drafts/%d/approve", ids[0]), nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, body)

	// The nav shows what the role may open.
	_, page := agent.get("/")
	assert.NotContains(t, page, `href="/users"`)
	assert.NotContains(t, page, `href="/activity"`)
	_, page = admin.get("/")
	assert.Contains(t, page, `href="/users"`)
}

func TestUsersAdmin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	admin := e.loggedIn("ad", parley.RoleAdmin)

	res, body := admin.post("/users", url.Values{"name": {"bo"}, "role": {"agent"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	_, page := admin.get("/users")
	pw := regexp1(t, `<code class="secret-value">([^<]+)</code>`, page)
	assert.Len(t, pw, 20)
	_, page = admin.get("/users")
	assert.NotContains(t, page, pw, "a generated password is shown once")

	bo := e.client()
	bo.login("bo", pw)

	res, _ = admin.post("/users", url.Values{"name": {"cy"}, "role": {"owner"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res, _ = admin.post("/users", url.Values{"name": {"cy"}, "role": {"agent"}, "password": {"short"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	res, _ = admin.post("/users", url.Values{"name": {"BO"}, "role": {"agent"}})
	assert.Equal(t, http.StatusConflict, res.StatusCode)

	res, _ = admin.post("/users/bo/role", url.Values{"role": {"manager"}})
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	u, err := e.st.User(ctx, "bo")
	require.NoError(t, err)
	assert.Equal(t, parley.RoleManager, u.Role)
	res, _ = admin.post("/users/ad/role", url.Values{"role": {"agent"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "an admin cannot demote themselves")

	// A reset ends bo's sessions.
	time.Sleep(2 * time.Millisecond)
	res, _ = admin.post("/users/bo/password", nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = bo.get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "logged out by the reset")
	_, page = admin.get("/users")
	newPW := regexp1(t, `<code class="secret-value">([^<]+)</code>`, page)
	assert.NotEqual(t, pw, newPW)
	bo.login("bo", newPW)

	res, _ = admin.post("/users/ad/delete", nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "no removing oneself")
	res, _ = admin.post("/users/bo/delete", nil)
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = bo.get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "a removed user's session ends")

	entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Actor: "ad"})
	require.NoError(t, err)
	var actions []string
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	assert.Subset(t, actions, []string{"user_add", "user_role", "user_password", "user_remove"})
}

func TestChangeOwnPassword(t *testing.T) {
	e := newEnv(t)
	c := e.loggedIn("ana", parley.RoleAgent)
	other := e.client()
	other.login("ana", "password-ana")

	c.get("/account")
	res, _ := c.post("/account/password", url.Values{"current": {"nope"}, "password": {"a new long password"}, "confirm": {"a new long password"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	time.Sleep(2 * time.Millisecond)
	res, _ = c.post("/account/password", url.Values{"current": {"password-ana"}, "password": {"a new long password"}, "confirm": {"a new long password"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = c.get("/")
	assert.Equal(t, http.StatusOK, res.StatusCode, "this session goes on")
	res, _ = other.get("/")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "the other session ended")
	fresh := e.client()
	fresh.login("ana", "a new long password")
}

func TestEnsureDemoUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	pw, err := web.EnsureDemoUser(ctx, e.st, "demo")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(pw), web.MinPasswordLength)
	pw2, err := web.EnsureDemoUser(ctx, e.st, "demo")
	require.NoError(t, err)
	assert.NotEqual(t, pw, pw2, "each demo run prints a fresh password")
	c := e.client()
	c.login("demo", pw2)
	u, err := e.st.User(ctx, "demo")
	require.NoError(t, err)
	assert.Equal(t, parley.RoleAdmin, u.Role)

	_, err = web.AddUser(ctx, e.st, "weak", parley.RoleAgent, "short")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	gen, err := web.AddUser(ctx, e.st, "gen", parley.RoleAgent, "")
	require.NoError(t, err)
	e.client().login("gen", gen)
}

func regexp1(t *testing.T, expr, s string) string {
	t.Helper()
	i := strings.Index(expr, "(")
	require.GreaterOrEqual(t, i, 0)
	m := regexpMust(expr).FindStringSubmatch(s)
	require.NotNil(t, m, "no match for %s", expr)
	return m[1]
}
