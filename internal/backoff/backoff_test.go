package backoff

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDelayDoublesUpToMax(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute}
	for attempt, want := range map[int]time.Duration{0: time.Second, 1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 6: time.Minute, 100: time.Minute} {
		assert.Equal(t, want, p.Delay(attempt), "attempt %d", attempt)
	}
	assert.Equal(t, 3*time.Second, Policy{Base: 3 * time.Second}.Delay(4), "Max below Base: Base")
}

// The outbox's schedule (moved from bot.TestBackoff: the same figures).
func TestDelayWithJitterStaysNearTheSchedule(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Minute, Jitter: 0.2}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 10: time.Minute} {
		for range 50 {
			got := p.Delay(attempt - 1)
			assert.InDelta(t, float64(want), float64(got), float64(want)*0.21, "attempt %d", attempt)
			assert.LessOrEqual(t, got, want)
		}
	}
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[p.Delay(3)] = true
	}
	assert.Greater(t, len(seen), 1, "jitter spreads the delays")
}

func TestSleepEndsWithTheContext(t *testing.T) {
	assert.NoError(t, Sleep(context.Background(), time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
}
