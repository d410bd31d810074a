package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

// TestQueueRoughEdges: an explicitly empty --text is refused like a blank
// one (rather than approving the original draft), --json gives the author
// once and in full, and the pending queue is ordered as the web inbox.
func TestQueueRoughEdges(t *testing.T) {
	ctx := context.Background()
	db := demoDB(t)
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db, "--limit", "20")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "0001-01-01", "no zeroed times")
	var list []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 20)
	var ids []int64
	for _, v := range list {
		var mention map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(v["mention"], &mention))
		assert.NotContains(t, mention, "author", "the author is the draft's person, given once")
		var person parley.Person
		require.NoError(t, json.Unmarshal(v["person"], &person))
		assert.False(t, person.FirstSeen.IsZero())
		assert.NotEmpty(t, person.Handle)
		var id int64
		require.NoError(t, json.Unmarshal(v["id"], &id))
		ids = append(ids, id)
	}

	st := storetest.Open(t, storetest.Path(db))
	items, err := st.InboxItems(ctx, parley.InboxFilter{})
	require.NoError(t, err)
	require.NoError(t, st.Close())
	web.RankItems(items, time.Now())
	var want []int64
	for _, it := range items[:20] {
		want = append(want, it.Draft.ID)
	}
	assert.Equal(t, want, ids, "the queue is ordered as the web inbox")

	id := fmt.Sprint(ids[0])
	r = parleyRun(t, "", "queue", "approve", id, "--text", "", "--db", db, "--as", "ana")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "text is empty")
	r = parleyRun(t, "", "queue", "approve", id, "--text", "   ", "--db", db, "--as", "ana")
	assert.Equal(t, 1, r.code)
	r = parleyRun(t, "", "queue", "show", id, "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"state":"pending"`, "nothing was approved")
}
