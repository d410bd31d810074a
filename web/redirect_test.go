package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// next= is followed only to a path on this site: anything a browser could
// read as another host (after stripping tabs and newlines, or taking a
// backslash for a slash) or another scheme goes to the inbox instead.
func TestLocalPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/drafts/12", "/drafts/12"},
		{"/?state=pending&sort=urgency", "/?state=pending&sort=urgency"},
		{"/people/4#notes", "/people/4"},
		{"/search?q=%2F%2Fevil", "/search?q=%2F%2Fevil"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"\t//evil.example", "/"},
		{" //evil.example", "/"},
		{"//evil.example", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"/%5Cevil.example", "/"},
		{"/%2F/evil.example", "/"},
		{"/%09/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"http://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"JavaScript:alert(1)", "/"},
		{"data:text/html,hi", "/"},
		{"evil.example", "/"},
		{"drafts", "/"},
		{"//user@evil.example/", "/"},
		{"/%zz", "/"},
	} {
		assert.Equal(t, tc.want, web.LocalPath(tc.in), "localPath(%q)", tc.in)
	}
}

// The login page and the login form never send a browser elsewhere.
func TestLoginNextStaysOnSite(t *testing.T) {
	e := newEnv(t)
	e.addUser("ana", parley.RoleAdmin, "password-ana")
	c := e.client()
	c.get("/login")
	res, body := c.post("/login", url.Values{"name": {"ana"}, "password": {"password-ana"}, "next": {"/\t/evil.example"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	assert.Equal(t, "/", res.Header.Get("Location"))
	res, _ = c.get("/login?next=/%09/evil.example")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, "/", res.Header.Get("Location"))
	res, _ = c.get("/login?next=" + url.QueryEscape("/drafts?state=sent"))
	assert.Equal(t, "/drafts?state=sent", res.Header.Get("Location"))
}
