package store

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
