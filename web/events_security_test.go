package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/web"
)

// openStream opens /events for c and returns a channel closed when the
// server ends the stream.
func (c *client) openStream(ctx context.Context) (*http.Response, <-chan struct{}) {
	c.e.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.e.url+"/events", nil)
	require.NoError(c.e.t, err)
	req.Header.Set("Accept", "text/event-stream")
	hc := &http.Client{Jar: c.c.Jar} // no timeout: the stream lives on
	res, err := hc.Do(req)
	require.NoError(c.e.t, err)
	ended := make(chan struct{})
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		close(ended)
		return res, ended
	}
	go func() {
		defer close(ended)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
		}
	}()
	return res, ended
}

func waitEnded(t *testing.T, ended <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(within):
		t.Fatalf("the live stream did not end: %s", what)
	}
}

func stillOpen(t *testing.T, ended <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ended:
		t.Fatalf("the live stream ended: %s", what)
	case <-time.After(300 * time.Millisecond):
	}
}

// A live stream ends when its session does: logging out, being removed by
// an admin (or by 'parley user remove' in another process), a password
// reset. Each user may hold only a few streams.
func TestLiveStreamsEndWithTheSession(t *testing.T) {
	e := newEnv(t, func(_ *web.Config, o *web.Options) { o.PollInterval = 20 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	admin := e.loggedIn("root", parley.RoleAdmin)

	// Logging out ends the streams of that session at once, not others.
	ana := e.loggedIn("ana", parley.RoleAgent)
	ana2 := e.client()
	ana2.login("ana", "password-ana")
	_, s1 := ana.openStream(ctx)
	_, s2 := ana2.openStream(ctx)
	res, _ := ana.post("/logout", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	waitEnded(t, s1, time.Second, "after logout")
	stillOpen(t, s2, "another session of the same user")

	// An admin removing the user ends the rest.
	admin.get("/users")
	res, _ = admin.post("/users/ana/delete", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	waitEnded(t, s2, time.Second, "after the user was removed")

	// Removed from another process: the stream sees it at its next poll.
	bo := e.loggedIn("bo", parley.RoleAgent)
	_, s3 := bo.openStream(ctx)
	stillOpen(t, s3, "a valid session")
	require.NoError(t, e.st.DeleteUser(context.Background(), "bo"))
	waitEnded(t, s3, 2*time.Second, "after the user was removed elsewhere")

	// A password reset by an admin.
	cy := e.loggedIn("cy", parley.RoleAgent)
	_, s4 := cy.openStream(ctx)
	admin.get("/users")
	res, _ = admin.post("/users/cy/password", url.Values{})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	waitEnded(t, s4, time.Second, "after a password reset")

	// The cap per user.
	dee := e.loggedIn("dee", parley.RoleAgent)
	var open []<-chan struct{}
	for range web.MaxStreamsPerUser {
		res, ended := dee.openStream(ctx)
		require.Equal(t, http.StatusOK, res.StatusCode)
		open = append(open, ended)
	}
	res, _ = dee.openStream(ctx)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "one stream too many")
	_, other := admin.openStream(ctx)
	stillOpen(t, other, "another user's stream is not affected by dee's cap")
	for _, ended := range open {
		stillOpen(t, ended, "the streams within the cap stay")
		break
	}
}
