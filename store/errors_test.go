package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleybot/parley"
)

// TestTransientErrorIsUnavailable makes a real SQLITE_BUSY: another
// connection holds the write lock past the busy timeout. The store
// reports it as EUNAVAILABLE (retry later) by the driver's code, through
// dbError and notFound alike, never as an internal error or "not found".
func TestTransientErrorIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s := openForTest(t, path, Options{BusyTimeout: 50 * time.Millisecond})

	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(50)")
	require.NoError(t, err)
	defer other.Close()
	conn, err := other.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.ExecContext(ctx, `BEGIN IMMEDIATE`)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `INSERT INTO people (platform, external_id, handle, first_seen, last_seen) VALUES ('x', '1', 'h', 0, 0)`)
	require.NoError(t, err)

	_, busy := s.db.ExecContext(ctx, `INSERT INTO people (platform, external_id, handle, first_seen, last_seen) VALUES ('x', '2', 'h', 0, 0)`)
	require.Error(t, busy)
	code, ok := sqliteCode(busy)
	require.True(t, ok, "a driver error: %v", busy)
	assert.Equal(t, sqlite3.SQLITE_BUSY, primary(code))
	for _, err := range []error{dbError("write", busy), notFound(busy, "person %d not found", 2)} {
		assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(err), "%v", err)
		assert.Contains(t, err.Error(), "locked by another process")
		assert.ErrorIs(t, err, busy, "the cause stays in the chain")
	}
	_, err = conn.ExecContext(ctx, `ROLLBACK`)
	require.NoError(t, err)

	_, err = s.Mention(ctx, 12345)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

func TestUniqueViolationByCode(t *testing.T) {
	ctx := context.Background()
	s := openForTest(t, "", Options{})
	_, err := s.db.ExecContext(ctx, `CREATE TABLE t (k TEXT UNIQUE)`)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO t VALUES ('a')`)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO t VALUES ('a')`)
	assert.True(t, isUniqueViolation(err), "%v", err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO nosuch VALUES ('a')`)
	assert.False(t, isUniqueViolation(err))
	assert.NotEqual(t, parley.EUNAVAILABLE, parley.ErrorCode(dbError("insert", err)), "a bad query is not transient")
}
