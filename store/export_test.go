package store

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TraceInbox has s call trace with every query the inbox runs, for the
// query-plan test.
func TraceInbox(s *Store, trace func(query string, args []any)) { s.inboxTrace = trace }

// DigestDraftsQuery is digestDraftsQuery, for the query-plan test.
const DigestDraftsQuery = digestDraftsQuery

// Dump reads every row ingest writes (people, threads, mentions, drafts,
// audit), for comparing two databases in tests.
func Dump(t testing.TB, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT * FROM people ORDER BY id`,
		`SELECT * FROM threads ORDER BY id`,
		`SELECT * FROM mentions ORDER BY id`,
		`SELECT * FROM drafts ORDER BY id`,
		`SELECT * FROM conversations ORDER BY id`,
		`SELECT id, actor, action, draft_id, person_id, detail FROM audit ORDER BY id`,
	} {
		rows, err := s.rdb.Query(q)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, c := range cols {
				fmt.Fprintf(&b, "%s=%v ", c, vals[i])
			}
			b.WriteByte('\n')
		}
		require.NoError(t, rows.Close())
	}
	return b.String()
}

// SessionKeys returns the token column of every session row, as stored.
func SessionKeys(t testing.TB, s *Store) []string {
	t.Helper()
	rows, err := s.rdb.Query(`SELECT token FROM sessions ORDER BY token`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		require.NoError(t, rows.Scan(&k))
		out = append(out, k)
	}
	require.NoError(t, rows.Err())
	return out
}

// MigrateTo creates a database at path with only the first n migrations
// applied: the schema an older Parley left, for upgrade tests.
func MigrateTo(t testing.TB, path string, n int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	ms, err := loadMigrations()
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
	require.NoError(t, err)
	for _, m := range ms[:n] {
		_, err := db.Exec(m.sql)
		require.NoError(t, err, m.name)
		_, err = db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name)
		require.NoError(t, err)
	}
}

// MigrationVersion is the version of the migration whose file name holds
// name.
func MigrationVersion(t testing.TB, name string) int {
	t.Helper()
	ms, err := loadMigrations()
	require.NoError(t, err)
	for _, m := range ms {
		if strings.Contains(m.name, name) {
			return m.version
		}
	}
	t.Fatalf("no migration named like %q", name)
	return 0
}
