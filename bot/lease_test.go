package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestRunLeasedOneAtATimeAndTakeover runs one job on two "processes"
// sharing a PostgreSQL store: one runs it; when it stops, the other takes
// over at once. (A holder that dies without releasing is replaced when its
// lease runs out: store/postgres TestLeaseOneHolderAtATime.)
func TestRunLeasedOneAtATimeAndTakeover(t *testing.T) {
	st, err := postgres.Open(context.Background(), storetest.PostgresURL(t), postgres.Options{})
	require.NoError(t, err)
	defer st.Close()
	var mu sync.Mutex
	running := map[string]bool{}
	job := func(who string) func(context.Context) error {
		return func(ctx context.Context) error {
			mu.Lock()
			running[who] = true
			mu.Unlock()
			<-ctx.Done()
			mu.Lock()
			running[who] = false
			mu.Unlock()
			return nil
		}
	}
	who := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for k, v := range running {
			if v {
				out = append(out, k)
			}
		}
		return out
	}
	o := bot.LeaseOptions{TTL: 2 * time.Second}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneA := make(chan error, 1)
	go func() { doneA <- bot.RunLeased(ctxA, st, "connector:x", "a", o, job("a")) }()
	require.Eventually(t, func() bool { return len(who()) == 1 }, 5*time.Second, 10*time.Millisecond)
	go func() { _ = bot.RunLeased(ctxB, st, "connector:x", "b", o, job("b")) }()
	time.Sleep(1500 * time.Millisecond) // b asks several times meanwhile
	assert.Equal(t, []string{"a"}, who(), "one holder at a time")

	stopA()
	assert.NoError(t, <-doneA, "stopped by its context: nothing to report")
	require.Eventually(t, func() bool { w := who(); return len(w) == 1 && w[0] == "b" }, 5*time.Second, 10*time.Millisecond,
		"a released the lease: b takes over")

	// b renews its lease: nobody else gets it.
	time.Sleep(2500 * time.Millisecond)
	_, ok, err := st.TakeLease(context.Background(), "connector:x", "a", time.Second)
	require.NoError(t, err)
	assert.False(t, ok)
}
