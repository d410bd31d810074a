package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/web"
	"github.com/parleybot/parley/webhook"
)

// An admin adds a webhook, sees its secret once, sends a test that the
// receiver verifies with that secret, and reads the delivery log.
func TestWebhooksPageAddTestAndLog(t *testing.T) {
	got := make(chan error, 1)
	var secret string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	var hooks *bot.Webhooks
	e := newEnv(t, func(_ *web.Config, o *web.Options) {
		hooks = bot.NewWebhooks(o.Store, webhook.NewClient(webhook.Options{AllowPrivate: true}), bot.WebhooksOptions{})
		o.Webhooks = hooks
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hooks.Run(ctx) }()
	defer func() { cancel(); assert.NoError(t, <-done) }()

	admin := e.loggedIn("ada", parley.RoleAdmin)
	res, body := admin.get("/webhooks")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "No webhooks yet")
	res, _ = admin.post("/webhooks", url.Values{"url": {rcv.URL + "/in"}, "events": {parley.EventDraftSent, parley.EventAlertRaised}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	_, body = admin.get("/webhooks")
	m := regexp.MustCompile(`<code class="secret-value">(whsec_[0-9a-f]+)</code>`).FindStringSubmatch(body)
	require.NotNil(t, m, "the secret is shown once")
	secret = m[1]
	assert.Contains(t, body, "draft.sent, alert.raised")
	_, body = admin.get("/webhooks")
	assert.NotContains(t, body, secret, "and never again")

	list, err := e.st.Webhooks(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 1)
	id := list[0].ID
	res, _ = admin.post(path("/webhooks/%d/test", id), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	select {
	case err := <-got:
		require.NoError(t, err, "the receiver verifies the signature with the secret shown")
	case <-time.After(30 * time.Second):
		t.Fatal("the test event never arrived")
	}
	require.Eventually(t, func() bool {
		_, body = admin.get(path("/webhooks/%d", id))
		return regexp.MustCompile(`webhook\.test</td>\s*<td class="delivery-delivered">delivered`).MatchString(body)
	}, 30*time.Second, 20*time.Millisecond)
	assert.Contains(t, body, "HTTP 204")

	agent := e.loggedIn("al", parley.RoleManager)
	res, _ = agent.get("/webhooks")
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "admins only")

	res, _ = admin.post("/webhooks", url.Values{"url": {"ftp://example.com"}, "events": {"*"}})
	assert.NotEqual(t, http.StatusSeeOther, res.StatusCode, "only http(s)")
	res, _ = admin.post(path("/webhooks/%d/delete", id), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	list, err = e.st.Webhooks(context.Background())
	require.NoError(t, err)
	assert.Empty(t, list)
	entries, err := e.st.AuditEntries(context.Background(), parley.AuditFilter{Actor: "ada"})
	require.NoError(t, err)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
	}
	assert.Subset(t, actions, []string{"webhook_add", "webhook_remove"})
}
