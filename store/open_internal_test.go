package store

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// openForTest is storetest.Open for the tests inside this package, which
// cannot import storetest (it imports this package): a store at path, or a
// fresh one when path is empty, closed when the test ends.
func openForTest(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "parley.db")
	}
	s, err := Open(context.Background(), path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}
