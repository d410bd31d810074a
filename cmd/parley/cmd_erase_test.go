package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// parley people erase leaves none of the person's texts in the database
// file, and the audit log says who erased whom without them.
func TestPeopleEraseLeavesNoTextInTheFile(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "export", "mentions", "--format", "jsonl", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	byPerson := map[int64][]parley.Mention{}
	for line := range strings.Lines(r.stdout) {
		var m parley.Mention
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		byPerson[m.PersonID] = append(byPerson[m.PersonID], m)
	}
	// Someone with two posts whose texts no one else wrote.
	var victim []parley.Mention
	for id, ms := range byPerson {
		if len(ms) >= 2 && uniqueTexts(byPerson, id) && (victim == nil || id < victim[0].PersonID) {
			victim = ms
		}
	}
	require.NotNil(t, victim)
	handle, platform := victim[0].Author.Handle, victim[0].Platform
	raw, err := os.ReadFile(db)
	require.NoError(t, err)
	require.Contains(t, string(raw), victim[0].Text, "the test could fail")

	r = parleyRun(t, "", "people", "erase", "@"+handle, "--platform", platform, "--db", db)
	assert.Equal(t, 2, r.code, "needs --yes")
	r = parleyRun(t, "", "people", "erase", "@"+handle, "--platform", platform, "--yes", "--block", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mentions anonymised")
	assert.Contains(t, r.stdout, "future posts blocked")

	for _, f := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		for _, m := range victim {
			assert.False(t, bytes.Contains(b, []byte(m.Text)), "%s still holds %q", f, m.Text)
		}
		assert.False(t, bytes.Contains(b, []byte("@"+handle+"\x00")) || bytes.Contains(b, []byte(handle)),
			"%s still holds the handle %s", f, handle)
	}
	r = parleyRun(t, "", "people", "export", "@"+handle, "--platform", platform, "--db", db)
	assert.Equal(t, 1, r.code, "the handle is gone")
}

func uniqueTexts(byPerson map[int64][]parley.Mention, id int64) bool {
	for other, ms := range byPerson {
		if other == id {
			continue
		}
		for _, m := range ms {
			for _, v := range byPerson[id] {
				if strings.Contains(m.Text, v.Text) || strings.Contains(m.Text, v.Author.Handle) {
					return false
				}
			}
		}
	}
	return true
}
