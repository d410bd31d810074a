package store

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// derivedTables are rebuilt from the others (by triggers or the full-text
// index), so a copy to another store leaves them out.
var derivedTables = []string{"schema_migrations", "conversation_counts"}

// TestTablesListsEveryTable: a table a migration adds and Tables forgets
// would be left behind by `parley migrate-store` (whose test then checks
// that PostgreSQL's import takes every table of Tables).
func TestTablesListsEveryTable(t *testing.T) {
	ctx := context.Background()
	s := openForTest(t, "", Options{})
	rows, err := s.rdb.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		if strings.HasPrefix(name, "sqlite_") || strings.HasPrefix(name, "mentions_fts") || slices.Contains(derivedTables, name) {
			continue
		}
		n++
		assert.Contains(t, Tables, name, "store.Tables (and store/postgres's import list) must name table %s", name)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, len(Tables), n, "store.Tables names a table the schema lacks")
}
