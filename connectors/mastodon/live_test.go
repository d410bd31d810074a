package mastodon

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	gomastodon "github.com/mattn/go-mastodon"
	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLiveServer runs against a real Mastodon-API server when
// PARLEY_MASTODON_TEST_SERVER (base URL) and PARLEY_MASTODON_TEST_TOKEN
// are set; it is skipped otherwise. It reads only, unless
// PARLEY_MASTODON_TEST_POST=1: then it also posts one direct message to the
// account itself (twice with the same Idempotency-Key) and deletes it.
func TestLiveServer(t *testing.T) {
	server, token := os.Getenv("PARLEY_MASTODON_TEST_SERVER"), os.Getenv("PARLEY_MASTODON_TEST_TOKEN")
	if server == "" || token == "" {
		t.Skip("set PARLEY_MASTODON_TEST_SERVER and PARLEY_MASTODON_TEST_TOKEN to run against a real server")
	}
	logs := &syncBuf{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cursors := newMemCursors()
	c, err := New(Config{Server: server}, token, cursors, logger, WithPollInterval(2*time.Second))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	me, err := c.Verify(ctx)
	require.NoError(t, err)
	t.Logf("account %s (%s)", me.Handle, me.ExternalID)
	assert.Contains(t, me.Handle, "@")

	inst, err := c.instance(ctx)
	require.NoError(t, err)
	t.Logf("domain %s, max characters %d, streaming %q", inst.Domain, inst.MaxChars, inst.StreamingURL)
	assert.Positive(t, inst.MaxChars)
	require.Error(t, c.CheckDraft(ctx, parley.Draft{ID: 1, Text: strings.Repeat("a", inst.MaxChars+1)}))

	// Listen for a few seconds: the first poll reads the newest page.
	sink := &recSink{}
	tr := &tracer{}
	c.trace = tr.record
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx, sink) }()
	require.Eventually(t, func() bool { return tr.count("mentions poll_done") >= 1 }, 30*time.Second, 50*time.Millisecond, "logs:\n%s", logs.String())
	time.Sleep(3 * time.Second)
	stop()
	require.NoError(t, <-done)
	t.Logf("delivered %d mentions; stream ready %d times", len(sink.all()), tr.count("mentions stream_ready"))

	if os.Getenv("PARLEY_MASTODON_TEST_POST") != "1" {
		return
	}
	out := parley.Outgoing{
		Draft: parley.Draft{ID: time.Now().UnixNano(), Kind: parley.KindPrompt, Text: "Parley live test, please ignore."},
		To:    me,
	}
	id1, err := c.Send(ctx, out)
	require.NoError(t, err)
	id2, err := c.Send(ctx, out)
	require.NoError(t, err)
	assert.Equal(t, id1, id2, "same Idempotency-Key, same status")
	require.NoError(t, c.api.mc.DeleteStatus(ctx, gomastodonID(id1)))
}

func gomastodonID(s string) gomastodon.ID { return gomastodon.ID(s) }
