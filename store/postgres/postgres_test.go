package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

func open(t *testing.T) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), storetest.PostgresURL(t), postgres.Options{})
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
	assert.Equal(t, 2, v)
	// A second process opening the same database applies nothing again.
	b, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer b.Close()
	v, err = b.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, v)
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
