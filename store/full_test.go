package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestFullDatabase fills the database to a page limit (SQLite's
// max_page_count on the ingest connection, the way a full disk looks to
// it): ingest fails with an EUNAVAILABLE error that says the disk is full,
// writes nothing of the failed batch, leaves the file intact, and works
// again once there is room.
func TestFullDatabase(t *testing.T) {
	ctx := context.Background()
	s := openForTest(t, "", Options{})
	batch := func(from int) []*parley.Mention {
		var ms []*parley.Mention
		for i := from; i < from+200; i++ {
			ms = append(ms, &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprint(i),
				Author: parley.Person{ExternalID: fmt.Sprint(i % 50)}, Text: strings.Repeat("words ", 40),
				CreatedAt: time.Unix(1_800_000_000+int64(i), 0)})
		}
		return ms
	}
	decide := func(m *parley.Mention, h parley.History) []parley.Draft { return []parley.Draft{{Text: "thanks"}} }
	_, err := s.IngestBatch(ctx, batch(0), decide)
	require.NoError(t, err)
	var pages int
	require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages))
	_, err = s.idb.ExecContext(ctx, fmt.Sprintf(`PRAGMA max_page_count = %d`, pages+30))
	require.NoError(t, err)

	stored := 200
	var full error
	for from := 200; from < 20_000 && full == nil; from += 200 {
		if _, full = s.IngestBatch(ctx, batch(from), decide); full == nil {
			stored += 200
		}
	}
	require.Error(t, full, "the database filled up")
	assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(full))
	assert.Contains(t, full.Error(), "the disk is full; free space and retry (nothing was written)")
	st, err := s.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, stored, st.Mentions, "nothing of the failed batch")
	assert.Equal(t, stored, st.Drafts[parley.DraftPending])
	var ok string
	require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok))
	assert.Equal(t, "ok", ok)

	// Room again: the same batch goes in.
	_, err = s.idb.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`)
	require.NoError(t, err)
	res, err := s.IngestBatch(ctx, batch(stored), decide)
	require.NoError(t, err)
	assert.Equal(t, 200, res.Stored)
}
