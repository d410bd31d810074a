package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestBackupWhileAWriterRuns copies the database several times while
// batches keep being written: every copy passes the integrity check, opens,
// and holds whole batches only (a consistent snapshot).
func TestBackupWhileAWriterRuns(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	const perBatch = 20
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for b := 0; ; b++ {
			select {
			case <-stop:
				return
			default:
			}
			batch := make([]*parley.Mention, perBatch)
			for i := range batch {
				id := fmt.Sprint(b*perBatch + i)
				batch[i] = mention(id, "p"+fmt.Sprint(i%7), "text "+id, parley.Neutral, b)
			}
			if _, err := s.IngestBatch(ctx, batch, nil); err != nil {
				t.Errorf("ingest: %v", err)
				return
			}
			written.Add(perBatch)
		}
	}()
	dir := t.TempDir()
	for i := range 5 {
		for written.Load() < int64((i+1)*perBatch*3) {
			time.Sleep(time.Millisecond)
		}
		dst := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		info, err := store.Backup(ctx, s.Path(), dst)
		require.NoError(t, err)
		assert.Positive(t, info.Size)
		assert.Equal(t, store.LatestSchema(), info.SchemaVersion)
		fi, err := os.Stat(dst)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

		c := storetest.Open(t, storetest.Path(dst))
		st, err := c.Stats(ctx)
		require.NoError(t, err)
		c.Close()
		assert.Positive(t, st.Mentions)
		assert.Zero(t, st.Mentions%perBatch, "copy %d holds a partial batch: %d mentions", i, st.Mentions)
	}
	close(stop)
	wg.Wait()
	_, err := store.Backup(ctx, s.Path(), filepath.Join(dir, "b0.db"))
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "an existing file is never overwritten")
}

func TestVerifyRefusesDamagedAndNewerDatabases(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	_, err := s.IngestBatch(ctx, []*parley.Mention{mention("1", "ana", "hello", parley.Neutral, 0)}, nil)
	require.NoError(t, err)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	_, err = store.Backup(ctx, s.Path(), good)
	require.NoError(t, err)

	// Damaged: a page in the middle overwritten.
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	bad := filepath.Join(dir, "bad.db")
	for i := 4096 * 2; i < 4096*3 && i < len(data); i++ {
		data[i] = 0xA5
	}
	require.NoError(t, os.WriteFile(bad, data, 0o600))
	_, err = store.Verify(ctx, bad)
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "%v", err)

	// Not a database at all.
	junk := filepath.Join(dir, "junk.db")
	require.NoError(t, os.WriteFile(junk, []byte("hello, not sqlite"), 0o600))
	_, err = store.Verify(ctx, junk)
	assert.Error(t, err)

	// A newer schema: refused by Verify and by Open (no downgrade).
	newer := filepath.Join(dir, "newer.db")
	_, err = store.Backup(ctx, s.Path(), newer)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", newer)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 0)`, store.LatestSchema()+1)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, err = store.Verify(ctx, newer)
	assert.ErrorContains(t, err, "newer than this parley knows")
	_, err = store.Open(ctx, newer, store.Options{})
	assert.ErrorContains(t, err, "newer than this parley knows")

	// Restore keeps the database it replaces; a bad file changes nothing.
	target := filepath.Join(dir, "live", "parley.db")
	_, _, err = store.Restore(ctx, bad, target, time.Now())
	require.Error(t, err)
	assert.NoFileExists(t, target)
	_, info, err := store.Restore(ctx, good, target, time.Now())
	require.NoError(t, err)
	assert.Equal(t, target, info.Path)
	kept, _, err := store.Restore(ctx, good, target, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, target+".before-restore-20261201T090000Z", kept)
	assert.FileExists(t, kept)
	r := storetest.Open(t, storetest.Path(target))
	st, err := r.Stats(ctx)
	require.NoError(t, err)
	r.Close()
	assert.Equal(t, 1, st.Mentions)
}
