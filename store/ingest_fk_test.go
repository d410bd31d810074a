package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestIngestReferences: ingest writes on a connection without foreign-key
// checks (it assigns every id itself). Every reference it writes must
// still hold, also around a batch that failed half way, and the writer
// every other write uses keeps its checks.
func TestIngestReferences(t *testing.T) {
	ctx := context.Background()
	s := openForTest(t, "", Options{})
	base := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	batch := func(from, n int) []*parley.Mention {
		var ms []*parley.Mention
		for i := from; i < from+n; i++ {
			m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprint(i),
				Author: parley.Person{ExternalID: fmt.Sprint(i % 7)}, Text: "text",
				CreatedAt: base.Add(time.Duration(i) * time.Minute)}
			if i%3 == 0 {
				m.InReplyTo = fmt.Sprint(i + 1) // a post that arrives later
			} else if i%4 == 0 {
				m.InReplyTo = fmt.Sprint(i - 2)
			}
			ms = append(ms, m)
		}
		return ms
	}
	decide := func(m *parley.Mention, h parley.History) []parley.Draft {
		if h.RepliesInThread > 0 {
			return nil
		}
		return []parley.Draft{{Text: "thanks"}}
	}
	foreignKeysOn := func() bool {
		t.Helper()
		var on, ingest int
		require.NoError(t, s.db.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&on))
		require.NoError(t, s.idb.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&ingest))
		require.Zero(t, ingest, "ingest's connection checks references")
		return on == 1
	}
	res, err := s.IngestBatch(ctx, batch(0, 50), decide)
	require.NoError(t, err)
	require.Positive(t, res.Drafts)
	_, err = s.IngestBatchConcurrent(ctx, batch(50, 300), decide, parley.DecideOptions{Workers: 4, ExpectDrafts: true})
	require.NoError(t, err)
	assert.True(t, foreignKeysOn())

	// A batch that fails after the checks were turned off.
	cctx, cancel := context.WithCancel(ctx)
	_, err = s.IngestBatch(cctx, batch(350, 50), func(m *parley.Mention, h parley.History) []parley.Draft {
		cancel()
		return nil
	})
	require.Error(t, err)
	assert.True(t, foreignKeysOn())

	rows, err := s.db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	require.NoError(t, err)
	var broken []string
	for rows.Next() {
		var table, parent string
		var rowid, fk any
		require.NoError(t, rows.Scan(&table, &rowid, &parent, &fk))
		broken = append(broken, fmt.Sprintf("%s row %v -> %s", table, rowid, parent))
	}
	require.NoError(t, rows.Err())
	rows.Close()
	assert.Empty(t, broken)

	// The checks work on the writer connection.
	_, err = s.db.ExecContext(ctx, `INSERT INTO drafts (kind, state, platform, person_id, text, created_at, updated_at)
		VALUES ('reply', 'pending', 'mastodon', 999999, 'x', 0, 0)`)
	require.ErrorContains(t, err, "FOREIGN KEY")
	var mentions, drafts int
	require.NoError(t, s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM mentions), (SELECT count(*) FROM drafts)`).Scan(&mentions, &drafts))
	assert.Equal(t, 350, mentions)
	assert.Positive(t, drafts)
}
