package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
)

// TestChangesFromAnotherProcess: a mention stored through another store
// on the same file (another process, say parley ingest) is told to the
// feed's readers, and so is one stored through the store itself; a
// reader's channel closes when its context ends, and every channel when
// the store closes.
func TestChangesFromAnotherProcess(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	reader, err := store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	writer, err := store.Open(ctx, path, store.Options{})
	require.NoError(t, err)
	defer writer.Close()

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
			case <-time.After(300 * time.Millisecond):
				return
			}
		}
	}
	ingest := func(st *store.Store, id string) {
		t.Helper()
		m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: id, Text: "hello " + id,
			Author: parley.Person{ExternalID: "p1", Handle: "eve@skate.social"}, CreatedAt: time.Now().UTC(),
			Sentiment: parley.Sentiment{Label: parley.Neutral}}
		_, err := st.IngestBatch(ctx, []*parley.Mention{m}, nil)
		require.NoError(t, err)
	}
	drain()
	ingest(writer, "1")
	wait("a mention stored through another store")
	drain()
	ingest(reader, "2")
	wait("a mention stored through the store itself")

	short, cancel := context.WithCancel(ctx)
	other := reader.Changes(short)
	cancel()
	for range other { //nolint:revive // drain until closed
	}

	require.NoError(t, reader.Close())
	for range ch { //nolint:revive // drain until closed
	}
	_, ok := <-reader.Changes(ctx)
	assert.False(t, ok, "a closed store's feed is closed")
}
