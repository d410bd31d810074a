package discord

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestStatusReportsTheGatewayAndRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpt{})
	st := e.conn.Status()
	assert.False(t, st.Connected, "not running yet")
	assert.Equal(t, -1, st.RateLimit.Remaining, "no answer seen yet")

	e.start()
	require.Eventually(t, func() bool { return e.conn.Status().Connected }, wait, tick)
	st = e.conn.Status()
	assert.Equal(t, parley.PlatformDiscord, st.Platform)
	assert.Equal(t, parley.ModeStreaming, st.Mode)
	assert.Equal(t, "gateway connected", st.Detail)

	// A REST answer's X-RateLimit headers are kept; a 429 counts.
	e.fake.RateLimitNext(1, 20*time.Millisecond)
	lines, _ := e.conn.Check(context.Background()) // the harness's server has no @everyone role: channels fail
	require.NotEmpty(t, lines)
	st = e.conn.Status()
	assert.Equal(t, 4, st.RateLimit.Remaining)
	assert.Equal(t, 5, st.RateLimit.Limit)
	assert.WithinDuration(t, time.Now().Add(time.Second), st.RateLimit.Reset, 5*time.Second)
	assert.Equal(t, 1, st.RateLimit.Hits)
	assert.False(t, st.RateLimit.HeldUntil.IsZero())
}
