package digest_test

import (
	"context"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/store/storetest"
)

// counter is a Discord poster that counts the digests it posts, by week.
type counter struct{ n atomic.Int32 }

func (c *counter) PostDigest(context.Context, digest.Target, *digest.Digest) error {
	c.n.Add(1)
	return nil
}

func newScheduler(t *testing.T, path string, cfg digest.Config, now func() time.Time, posts *counter) *digest.Scheduler {
	t.Helper()
	st := storetest.Open(t, storetest.Path(path))
	svc, err := digest.NewService(st, cfg, digest.ServiceOptions{
		Brand: "Tidewater Skates", Now: now, Posters: map[string]digest.Poster{digest.TargetDiscord: posts},
	})
	require.NoError(t, err)
	sch, err := digest.NewScheduler(svc)
	require.NoError(t, err)
	return sch
}

// run starts sch.Run and returns a function that stops it and checks it
// returned promptly and cleanly.
func run(t *testing.T, sch *digest.Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sch.Run(ctx) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	}
}

func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, time.Minute, 10*time.Millisecond, msg)
}

var berlinConfig = digest.Config{
	Schedule: "0 9 * * MON", TimeZone: "Europe/Berlin",
	Targets: []digest.Target{{Type: digest.TargetDiscord, Channel: "42"}},
}

// TestSchedulerOncePerWeekAcrossRestarts: Parley runs on a Friday (the
// scheduler remembers it started), is down over Monday 09:00, comes back
// at 09:30 and sends the missed digest once; restarted again, and with two
// processes at once, it never sends that week again.
func TestSchedulerOncePerWeekAcrossRestarts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	posts := &counter{}

	friday := func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, berlin) }
	stop := run(t, newScheduler(t, path, berlinConfig, friday, posts))
	time.Sleep(100 * time.Millisecond)
	stop()
	assert.Equal(t, int32(0), posts.n.Load(), "nothing was due since the first start")

	monday := func() time.Time { return time.Date(2026, 11, 23, 9, 30, 0, 0, berlin) }
	stop = run(t, newScheduler(t, path, berlinConfig, monday, posts))
	eventually(t, func() bool { return posts.n.Load() == 1 }, "the missed digest is sent on start")
	stop()

	st := storetest.Open(t, storetest.Path(path))
	rec, err := st.Digest(context.Background(), "2026-W47")
	require.NoError(t, err)
	assert.Equal(t, parley.DigestSent, rec.Status)
	st.Close()

	// Two processes start at 10:00, each with its own connection.
	later := func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, berlin) }
	stopA := run(t, newScheduler(t, path, berlinConfig, later, posts))
	stopB := run(t, newScheduler(t, path, berlinConfig, later, posts))
	time.Sleep(300 * time.Millisecond)
	stopA()
	stopB()
	assert.Equal(t, int32(1), posts.n.Load(), "never twice for the same week")
}

// TestSchedulerFirstStartSendsNothingOld: a brand-new install does not
// send the digest that was due before it ever ran.
func TestSchedulerFirstStartSendsNothingOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	posts := &counter{}
	monday := func() time.Time { return time.Date(2026, 11, 23, 9, 30, 0, 0, berlin) }
	stop := run(t, newScheduler(t, path, berlinConfig, monday, posts))
	time.Sleep(200 * time.Millisecond)
	stop()
	assert.Equal(t, int32(0), posts.n.Load())
}

// TestSchedulerFires runs two schedulers on the real clock with a
// one-second schedule against one database: the week goes out once.
func TestSchedulerFires(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	posts := &counter{}
	cfg := berlinConfig
	cfg.Schedule = "@every 1s"
	a, b := newScheduler(t, path, cfg, nil, posts), newScheduler(t, path, cfg, nil, posts)
	// Counted after the stores opened: their own goroutines (connections,
	// background checkpoints) end when they close, with the test.
	before := runtime.NumGoroutine()
	stopA, stopB := run(t, a), run(t, b)
	eventually(t, func() bool { return posts.n.Load() >= 1 }, "the schedule fires")
	time.Sleep(2200 * time.Millisecond) // two more ticks each
	stopA()
	stopB()
	assert.Equal(t, int32(1), posts.n.Load())
	// Run left nothing running (the stores' own connections aside, which
	// close with the test).
	eventually(t, func() bool { return runtime.NumGoroutine() <= before+8 }, "goroutines end with Run")
}

func TestSchedulerNextAcrossDST(t *testing.T) {
	st := storetest.Open(t)
	svc, err := digest.NewService(st, digest.Config{TimeZone: "Europe/Berlin"}, digest.ServiceOptions{})
	require.NoError(t, err)
	sch, err := digest.NewScheduler(svc)
	require.NoError(t, err)
	// Monday 09:00 in Berlin is 07:00 UTC in summer and 08:00 in winter.
	assert.Equal(t, time.Date(2026, 10, 19, 7, 0, 0, 0, time.UTC), sch.Next(time.Date(2026, 10, 17, 12, 0, 0, 0, time.UTC)).UTC())
	assert.Equal(t, time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC), sch.Next(time.Date(2026, 10, 24, 12, 0, 0, 0, time.UTC)).UTC())
	assert.Equal(t, time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), sch.Next(time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)).UTC())

	off, err := digest.NewService(st, digest.Config{Schedule: "off"}, digest.ServiceOptions{})
	require.NoError(t, err)
	sch, err = digest.NewScheduler(off)
	require.NoError(t, err)
	assert.NoError(t, sch.Run(context.Background()), "an off schedule returns at once")

	_, err = digest.NewService(st, digest.Config{Schedule: "61 * * * *"}, digest.ServiceOptions{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

// TestLastWeek: LAST is the last complete week, unless it is empty and
// the data is elsewhere (a replayed sample).
func TestLastWeek(t *testing.T) {
	st := fixtureStore(t)
	cases := []struct {
		now      time.Time
		want     digest.Week
		fellBack bool
	}{
		{time.Date(2026, 11, 23, 9, 0, 0, 0, berlin), digest.Week{Year: 2026, Num: 47}, false}, // W47 has mentions
		{time.Date(2026, 12, 10, 9, 0, 0, 0, berlin), digest.Week{Year: 2026, Num: 47}, true},  // W49 is empty
		{time.Date(2026, 3, 10, 9, 0, 0, 0, berlin), digest.Week{Year: 2026, Num: 47}, true},   // the data is in the future
		{time.Date(2026, 11, 24, 9, 0, 0, 0, berlin), digest.Week{Year: 2026, Num: 47}, false}, // later in W48: still W47
	}
	for _, c := range cases {
		svc, err := digest.NewService(st, digest.Config{TimeZone: "Europe/Berlin"}, digest.ServiceOptions{Now: func() time.Time { return c.now }})
		require.NoError(t, err)
		w, fellBack, err := svc.LastWeek(context.Background())
		require.NoError(t, err)
		assert.Equal(t, c.want, w, c.now.String())
		assert.Equal(t, c.fellBack, fellBack, c.now.String())
	}
}
