package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestConformance runs the suite every store passes on SQLite.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), store.Options{})
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}
