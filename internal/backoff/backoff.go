// Package backoff is Parley's one retry schedule: every loop that retries
// something that failed (the outbox, the pipeline's writer, digest
// delivery, the Discord gateway, Mastodon's API and streams) waits
// Policy.Delay between tries and sleeps with Sleep, so a shutdown cuts the
// wait short.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is an exponential schedule: Base before the first retry, twice
// as long before each next one, never more than Max. Jitter (0 to 1)
// spreads retries of many clients apart: a delay d becomes a random
// value in [d·(1−Jitter), d].
type Policy struct {
	Base, Max time.Duration
	Jitter    float64
}

// Delay returns the wait before retry number attempt, counted from 0.
func (p Policy) Delay(attempt int) time.Duration {
	limit := max(p.Max, p.Base)
	d := p.Base
	for i := 0; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	if d <= 0 {
		return 0
	}
	if j := min(max(p.Jitter, 0), 1); j > 0 {
		d -= time.Duration(rand.Float64() * j * float64(d))
	}
	return d
}

// Sleep waits d, or until ctx ends, and then returns ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
