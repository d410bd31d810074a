package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConversationsNoteAndTag(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "conversations", "list", "--json", "--db", db, "--limit", "1")
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	id := fmt.Sprint(list[0].ID)

	r = parleyRun(t, "", "conversations", "note", id, "Called", "her", "--as", "ana", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "never posted")
	r = parleyRun(t, "", "conversations", "tag", id, "VIP", "#wholesale", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "tags: vip, wholesale")
	r = parleyRun(t, "", "conversations", "untag", id, "vip", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "tags: wholesale")
	r = parleyRun(t, "", "conversations", "tag", id, "two words", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no spaces")
}
