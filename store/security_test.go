package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// The database and its WAL and shared-memory files are private to the
// user running Parley, even in a world-readable folder under umask 022;
// a folder Parley creates is private too.
func TestDatabaseFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()

	open := t.TempDir()
	require.NoError(t, os.Chmod(open, 0o755))
	path := filepath.Join(open, "parley.db")
	s, err := store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Sessions().Commit("tok", []byte("x"), time.Now().Add(time.Hour)))
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		require.NoError(t, err, p)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
	require.NoError(t, s.Close())

	// A database left world-readable (by an older Parley) is made private
	// when it is opened.
	require.NoError(t, os.Chmod(path, 0o644))
	s, err = store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NoError(t, s.Close())

	fresh := filepath.Join(t.TempDir(), "data", "parley.db")
	s, err = store.Open(ctx, fresh, store.Options{})
	require.NoError(t, err)
	defer s.Close()
	fi, err = os.Stat(filepath.Dir(fresh))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "the folder Parley made")
}

// The sessions table holds only a SHA-256 of each token: a copy of the
// database (or a reader of it) cannot replay a session cookie.
func TestSessionTokensStoredHashed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	s := storetest.Open(t, storetest.Path(path))
	ss := s.Sessions()
	require.NoError(t, ss.CommitCtx(ctx, "secret-token", []byte("data"), time.Now().Add(time.Hour)))
	sum := sha256.Sum256([]byte("secret-token"))
	assert.Equal(t, []string{hex.EncodeToString(sum[:])}, store.SessionKeys(t, s))
	b, found, err := ss.FindCtx(ctx, "secret-token")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, "data", string(b))
	_, found, err = ss.FindCtx(ctx, hex.EncodeToString(sum[:]))
	require.NoError(t, err)
	assert.False(t, found, "the stored hash is not a token")
	require.NoError(t, ss.DeleteCtx(ctx, "secret-token"))
	assert.Empty(t, store.SessionKeys(t, s))
}

// Sessions saved in plain text by an older Parley are ended by the
// migration (their owners log in again); nothing else is touched.
func TestPlainSessionsEndedByMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	fresh := storetest.Open(t)
	v, err := fresh.SchemaVersion(ctx)
	require.NoError(t, err)
	require.NoError(t, fresh.Close())

	// The schema before hashed tokens, with a plain session (the
	// migrations after it cannot run twice, so the database is built up
	// to it rather than wound back).
	store.MigrateTo(t, path, store.MigrationVersion(t, "session_token_hashes")-1)
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sessions (token, data, expiry) VALUES ('plain', x'00', ?)`, time.Now().Add(time.Hour).UnixMilli())
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s := storetest.Open(t, storetest.Path(path))
	assert.Empty(t, store.SessionKeys(t, s))
	got, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, v, got)
}

// A backup holds everything the database does: it is private too.
func TestBackupIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	ctx := context.Background()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755))
	src := filepath.Join(dir, "parley.db")
	require.NoError(t, storetest.Open(t, storetest.Path(src)).Close())
	dst := filepath.Join(dir, "backup.db")
	_, err := store.Backup(ctx, src, dst)
	require.NoError(t, err)
	fi, err := os.Stat(dst)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}
