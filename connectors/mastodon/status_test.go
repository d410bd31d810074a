package mastodon

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

func TestStatusStreamingThenPolling(t *testing.T) {
	srv := mastodontest.NewServer(t)
	h := newHarness(t, srv, hopts{cfg: Config{Hashtags: []string{"acme"}}})
	assert.False(t, h.c.Status().Connected, "not running yet")
	h.start()
	h.waitReady("mentions", 1)
	h.waitReady("tag:acme", 1)

	st := h.c.Status()
	assert.Equal(t, parley.PlatformMastodon, st.Platform)
	assert.True(t, st.Connected)
	assert.Equal(t, parley.ModeStreaming, st.Mode)
	assert.Equal(t, "2 of 2 streams connected", st.Detail)
	assert.Empty(t, st.LastError)
	assert.Equal(t, 300, st.RateLimit.Limit, "the server's X-RateLimit-Limit")
	assert.Equal(t, 299, st.RateLimit.Remaining)
	assert.WithinDuration(t, time.Now().Add(5*time.Minute), st.RateLimit.Reset, time.Minute)

	// The stream goes away: the connector polls, and says why.
	srv.SetStreaming(false)
	srv.DropStreams()
	require.Eventually(t, func() bool { return h.c.Status().Mode == parley.ModePolling }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool { return h.c.Status().LastError != "" }, 5*time.Second, 5*time.Millisecond)
	st = h.c.Status()
	assert.True(t, st.Connected, "polls still answer")
	assert.Contains(t, st.LastError, "stream ")
	assert.False(t, st.LastErrorAt.IsZero())
}
