package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
)

func TestBotStopsPartsInReverseOrder(t *testing.T) {
	b := bot.New()
	var mu sync.Mutex
	var stopped []string
	record := func(name string) {
		mu.Lock()
		defer mu.Unlock()
		stopped = append(stopped, name)
	}
	ctx := context.Background()
	b.Go(ctx, "outbox", func(ctx context.Context) error { <-ctx.Done(); record("outbox"); return nil })
	b.OnStop("pipeline", func(context.Context) error { record("pipeline"); return nil })
	b.Go(ctx, "source", func(ctx context.Context) error { <-ctx.Done(); record("source"); return ctx.Err() })
	require.NoError(t, b.Close(ctx), "a part ending with its own context's cancellation is no error")
	assert.Equal(t, []string{"source", "pipeline", "outbox"}, stopped)
	require.NoError(t, b.Close(ctx), "Close twice is harmless")
}

func TestBotReportsAPartThatDidNotStopInTime(t *testing.T) {
	b := bot.New()
	release := make(chan struct{})
	defer close(release)
	var laterStopped bool
	b.OnStop("first", func(context.Context) error { laterStopped = true; return nil })
	b.Go(context.Background(), "connector mastodon", func(ctx context.Context) error { <-release; return nil })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := b.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connector mastodon did not stop in time")
	assert.True(t, laterStopped, "the other parts are still stopped")
}

func TestBotReportsARunError(t *testing.T) {
	b := bot.New()
	boom := errors.New("outbox: claim drafts: disk I/O error")
	b.Go(context.Background(), "the outbox", func(ctx context.Context) error { return boom })
	err := b.Close(context.Background())
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "the outbox:")
}
