package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestChangesAcrossConnectionsAndReconnects: a change committed through
// another pool (another node) is told to the feed's readers; when the
// server kills the feed's connection the feed gets it back, tells its
// readers to look again, and later changes arrive; closing the store
// closes the readers' channels.
func TestChangesAcrossConnectionsAndReconnects(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	reader, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	writer, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer writer.Close()
	admin, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer admin.Close(ctx)
	// listener is the backend of the feed's connection, 0 for none.
	listener := func() (pid int) {
		err := admin.QueryRow(ctx, `SELECT pid FROM pg_stat_activity
			WHERE datname = current_database() AND query = 'LISTEN parley_changes'`).Scan(&pid)
		if !errors.Is(err, pgx.ErrNoRows) {
			require.NoError(t, err)
		}
		return pid
	}

	ch := reader.Changes(ctx)
	wait := func(what string) {
		t.Helper()
		select {
		case _, ok := <-ch:
			require.True(t, ok, "%s: the channel closed", what)
		case <-time.After(time.Minute):
			t.Fatalf("%s: no change told", what)
		}
	}
	drain := func() {
		for {
			select {
			case <-ch:
			case <-time.After(200 * time.Millisecond):
				return
			}
		}
	}
	wait("connected") // told once on connecting
	ingest := func(id string) {
		t.Helper()
		m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: id, Text: "hello " + id,
			Author: parley.Person{ExternalID: "p1", Handle: "eve@skate.social"}, CreatedAt: time.Now().UTC(),
			Sentiment: parley.Sentiment{Label: parley.Neutral}}
		_, err := writer.IngestBatch(ctx, []*parley.Mention{m}, nil)
		require.NoError(t, err)
	}
	drain()
	ingest("1")
	wait("a mention stored through another pool")

	// The server ends the LISTEN connection (a restart, a failover).
	drain()
	old := listener()
	require.NotZero(t, old, "the feed listens")
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, old)
	require.NoError(t, err)
	wait("connection lost: look again")
	require.Eventually(t, func() bool { pid := listener(); return pid != 0 && pid != old }, time.Minute, 20*time.Millisecond,
		"the feed listens again on a new connection")
	drain()
	ingest("2")
	wait("a change after the reconnection")

	require.NoError(t, reader.Close())
	for range ch { //nolint:revive // drain until closed
	}
	_, ok := <-reader.Changes(ctx)
	assert.False(t, ok, "a closed store's feed is closed")
}
