package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/webhook"
)

func TestSignAndVerify(t *testing.T) {
	at := time.Unix(1764000000, 0)
	body := []byte(`{"id":"evt_1","type":"draft.sent","data":{}}`)
	h := webhook.Sign("secret-secret-secret", at, body)
	// The scheme is Stripe's: HMAC-SHA256 over "t.body", hex.
	assert.Equal(t, "t=1764000000,v1=", h[:16])
	require.NoError(t, webhook.Verify("secret-secret-secret", h, body, at.Add(time.Minute), 0))

	assert.ErrorContains(t, webhook.Verify("another-secret-here", h, body, at, 0), "does not match")
	assert.ErrorContains(t, webhook.Verify("secret-secret-secret", h, append(body, ' '), at, 0), "does not match")
	assert.ErrorContains(t, webhook.Verify("secret-secret-secret", h, body, at.Add(time.Hour), 0), "too old")
	assert.ErrorContains(t, webhook.Verify("secret-secret-secret", "v1=00", body, at, 0), "no timestamp")
	// A rotated secret: either signature may match.
	two := h + ",v1=" + strings.Repeat("0", 64)
	require.NoError(t, webhook.Verify("secret-secret-secret", two, body, at, 0))
}

func delivery(url string) parley.WebhookDelivery {
	return parley.WebhookDelivery{URL: url, Secret: "secret-secret-secret", Body: []byte(`{}`), EventID: "evt_1", EventType: "webhook.test"}
}

func TestClientRefusesPrivateAddressesUnlessAllowed(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		assert.Equal(t, "evt_1", r.Header.Get(webhook.EventIDHeader))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ctx := context.Background()

	strict := webhook.NewClient(webhook.Options{})
	for _, u := range []string{srv.URL, "http://localhost:9/x", "http://10.1.2.3/x", "http://[::1]:9/", "http://169.254.169.254/latest"} {
		_, _, err := strict.Post(ctx, delivery(u), time.Now())
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), u)
		assert.ErrorContains(t, err, "allow_private", u)
	}
	_, _, err := strict.Post(ctx, delivery("ftp://example.com/x"), time.Now())
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	assert.Zero(t, hits, "nothing reached the private receiver")

	open := webhook.NewClient(webhook.Options{AllowPrivate: true})
	status, _, err := open.Post(ctx, delivery(srv.URL), time.Now())
	require.NoError(t, err)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, 1, hits)
}

func TestClientReportsStatusAndDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
			return
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := webhook.NewClient(webhook.Options{AllowPrivate: true})
	status, _, err := c.Post(context.Background(), delivery(srv.URL+"/moved?token=abc"), time.Now())
	assert.Equal(t, http.StatusFound, status)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err))
	assert.NotContains(t, err.Error(), "token=abc", "a query may hold a token")
	status, _, err = c.Post(context.Background(), delivery(srv.URL), time.Now())
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "retried")
}
