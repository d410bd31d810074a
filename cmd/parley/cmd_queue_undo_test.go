package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueueUndoReturnsAnApprovalToPending(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db, "--limit", "1")
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	id := fmt.Sprint(list[0].ID)

	r = parleyRun(t, "", "queue", "approve", id, "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "parley queue undo "+id)
	r = parleyRun(t, "", "queue", "undo", id, "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "pending again")
	r = parleyRun(t, "", "queue", "list", "--state", "pending", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf(`{"id":%s,`, id))
	r = parleyRun(t, "", "queue", "undo", id, "--db", db, "--as", "ana")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no approval to undo")
}
