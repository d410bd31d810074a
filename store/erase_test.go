package store_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/store/storetest"
)

// filesContain reports which of the database's files hold needle.
func filesContain(t *testing.T, path, needle string) []string {
	t.Helper()
	var in []string
	for _, p := range []string{path, path + "-wal", path + "-journal"} {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		if bytes.Contains(b, []byte(needle)) {
			in = append(in, filepath.Base(p))
		}
	}
	return in
}

// After an erasure the person's text and handle are nowhere in the
// database file or its write-ahead log: not in the table, not in the
// full-text index, not in a free page.
func TestEraseLeavesNoTraceInTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	st := storetest.Open(t, storetest.Path(path))
	eve := storetest.SeedErasure(t, st)
	for _, needle := range []string{storetest.EraseSecret, "eve@example.social"} {
		assert.NotEmpty(t, filesContain(t, path, needle), "the test could fail: %s is stored before", needle)
	}

	_, err := st.ErasePerson(context.Background(), eve, "ana", false)
	require.NoError(t, err)
	for _, needle := range []string{storetest.EraseSecret, "eve@example.social"} {
		assert.Empty(t, filesContain(t, path, needle), "%s after the erasure", needle)
	}
	assert.NotEmpty(t, filesContain(t, path, "great service"), "bob's post stays")

	require.NoError(t, st.Close())
	for _, needle := range []string{storetest.EraseSecret, "eve@example.social"} {
		assert.Empty(t, filesContain(t, path, needle), "%s after closing", needle)
	}
}
