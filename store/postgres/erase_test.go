package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/store/storetest"
)

// rowsContaining counts, per table, the rows whose text form holds needle.
func rowsContaining(t *testing.T, url, needle string) map[string]int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer func() { _ = conn.Close(ctx) }()
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	require.NoError(t, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Contains(t, tables, "mentions")
	out := map[string]int{}
	for _, table := range tables {
		var n int
		q := `SELECT count(*) FROM ` + pgx.Identifier{table}.Sanitize() + ` x WHERE strpos(x::text, $1) > 0`
		require.NoError(t, conn.QueryRow(ctx, q, needle).Scan(&n))
		if n > 0 {
			out[table] = n
		}
	}
	return out
}

// After an erasure no row of any table holds the person's text or handle.
func TestEraseLeavesNoRowWithTheText(t *testing.T) {
	url := storetest.PostgresURL(t)
	st := openURL(t, url)
	eve := storetest.SeedErasure(t, st)
	for _, needle := range []string{storetest.EraseSecret, "eve@example.social"} {
		assert.NotEmpty(t, rowsContaining(t, url, needle), "the test could fail: %s is stored before", needle)
	}
	_, err := st.ErasePerson(context.Background(), eve, "ana", true)
	require.NoError(t, err)
	for _, needle := range []string{storetest.EraseSecret, "eve@example.social"} {
		assert.Empty(t, rowsContaining(t, url, needle), "%s after the erasure", needle)
	}
	assert.NotEmpty(t, rowsContaining(t, url, "great service"), "bob's post stays")
}
