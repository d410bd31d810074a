package postgres_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

func open(t testing.TB) *postgres.Store {
	t.Helper()
	return openURL(t, storetest.PostgresURL(t))
}

func openURL(t testing.TB, url string) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestConformance runs the suite every store passes on a fresh PostgreSQL
// database per test.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

func TestMigrationsRunOnceAndInOrder(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer a.Close()
	v, err := a.SchemaVersion(ctx)
	require.NoError(t, err)
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	assert.Equal(t, len(files), v, "every migration file, once")
	// A second process opening the same database applies nothing again.
	b, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer b.Close()
	v, err = b.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, len(files), v)
	require.NoError(t, b.Check(ctx))
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	ctx := context.Background()
	_, err := postgres.Open(ctx, "postgres://parley:secret@127.0.0.1:1/none?connect_timeout=2", postgres.Options{})
	require.Error(t, err)
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "%v", err)
	assert.NotContains(t, err.Error(), "secret", "the password is never shown")
	_, err = postgres.Open(ctx, "postgres://a b c:::", postgres.Options{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "%v", err)
}

func TestLeaseOneHolderAtATime(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	l, ok, err := st.TakeLease(ctx, "connector:mastodon", "node-a", 2*time.Second)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, int64(1), l.Epoch)
	l, ok, err = st.TakeLease(ctx, "connector:mastodon", "node-b", 2*time.Second)
	require.NoError(t, err)
	assert.False(t, ok, "held by another")
	assert.Equal(t, "node-a", l.Holder)
	l, ok, err = st.TakeLease(ctx, "connector:mastodon", "node-a", 2*time.Second)
	require.NoError(t, err)
	assert.True(t, ok, "the holder renews it")
	assert.Equal(t, int64(1), l.Epoch, "same holder, same epoch")
	_, ok, err = st.TakeLease(ctx, "digest", "node-b", 2*time.Second)
	require.NoError(t, err)
	assert.True(t, ok, "leases are per name")

	// node-a dies: its lease runs out and node-b takes over.
	require.Eventually(t, func() bool {
		l, ok, err = st.TakeLease(ctx, "connector:mastodon", "node-b", 2*time.Second)
		return err == nil && ok
	}, 5*time.Second, 100*time.Millisecond)
	assert.Equal(t, int64(2), l.Epoch, "a new holder, a new epoch")
	require.NoError(t, st.ReleaseLease(ctx, "connector:mastodon", "node-b"))
	l, ok, err = st.TakeLease(ctx, "connector:mastodon", "node-a", 2*time.Second)
	require.NoError(t, err)
	assert.True(t, ok, "released: taken at once")
	assert.Equal(t, int64(3), l.Epoch)
	_, _, err = st.TakeLease(ctx, "", "node-a", time.Second)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}
