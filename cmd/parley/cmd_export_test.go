package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
)

// TestExportCountsMatchStore exports every kind in both formats from the
// demo's database: as many rows as the store counts, CSV that parses back
// with its header, the same rows in a 0600 file as on stdout, and filters
// that split the rows without losing any.
func TestExportCountsMatchStore(t *testing.T) {
	db := demoDB(t)
	s := stats(t, db)
	drafts := 0
	for _, n := range s.Drafts {
		drafts += n
	}
	want := map[string]int{"mentions": s.Mentions, "conversations": s.Threads, "drafts": drafts, "people": s.People}
	for kind, n := range want {
		require.Positive(t, n, kind)
		r := parleyRun(t, "", "export", kind, "--format", "csv", "--db", db)
		require.Equal(t, 0, r.code, r.stderr)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		require.NoError(t, err, "%s CSV parses back", kind)
		require.Len(t, recs, n+1, "%s: a header and one record per row", kind)
		assert.Equal(t, "id", recs[0][0])

		r = parleyRun(t, "", "export", kind, "--format", "jsonl", "--db", db)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, n, jsonLines(t, r.stdout), kind)

		out := filepath.Join(t.TempDir(), kind+".csv")
		f := parleyRun(t, "", "export", kind, "--out", out, "--db", db)
		require.Equal(t, 0, f.code, f.stderr)
		fi, err := os.Stat(out)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "an export holds people's data: owner only")
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, parleyRun(t, "", "export", kind, "--db", db).stdout, string(b), "csv is the default format")

		split := 0
		for _, p := range []string{parley.PlatformMastodon, parley.PlatformDiscord} {
			r = parleyRun(t, "", "export", kind, "--format", "jsonl", "--platform", p, "--db", db)
			require.Equal(t, 0, r.code, r.stderr)
			split += jsonLines(t, r.stdout)
		}
		assert.Equal(t, n, split, "%s: the platforms split the rows", kind)
		r = parleyRun(t, "", "export", kind, "--since", "2999-01-01", "--db", db)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stdout, "\n"), "%s: only the header from the future", kind)
	}
}

// TestExportTimeWindow checks --since and --until split the mentions at a
// mention's own time: those before and those from it add up.
func TestExportTimeWindow(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "export", "mentions", "--format", "jsonl", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var ms []parley.Mention
	for line := range strings.Lines(r.stdout) {
		var m parley.Mention
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		ms = append(ms, m)
	}
	mid := ms[len(ms)/2].CreatedAt.Format("2006-01-02T15:04:05.000Z07:00")
	before := parleyRun(t, "", "export", "mentions", "--format", "jsonl", "--until", mid, "--db", db)
	after := parleyRun(t, "", "export", "mentions", "--format", "jsonl", "--since", mid, "--db", db)
	require.Equal(t, 0, before.code, before.stderr)
	require.Equal(t, 0, after.code, after.stderr)
	nb, na := jsonLines(t, before.stdout), jsonLines(t, after.stdout)
	assert.Positive(t, nb)
	assert.Positive(t, na)
	assert.Equal(t, len(ms), nb+na)
}

func TestExportRefusesBadInput(t *testing.T) {
	db := demoDB(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "threads"}, `cannot export "threads"`},
		{[]string{"export"}, "name one kind"},
		{[]string{"export", "mentions", "--format", "xml"}, `--format "xml"`},
		{[]string{"export", "mentions", "--since", "last tuesday"}, `--since "last tuesday"`},
		{[]string{"export", "mentions", "--since", "2026-12-01", "--until", "2026-11-01"}, "is not before"},
		{[]string{"export", "mentions", "--platform", "myspace"}, `--platform "myspace"`},
		{[]string{"people", "export"}, "one handle"},
		{[]string{"people", "forget", "x"}, "people export HANDLE"},
		{[]string{"people", "erase", "x"}, "--yes"},
	} {
		r := parleyRun(t, "", append(c.args, "--db", db)...)
		assert.Equal(t, 2, r.code, "%v: %s", c.args, r.stderr)
		assert.Contains(t, r.stderr, c.want, c.args)
	}
	r := parleyRun(t, "", "people", "export", "@nobody-at-all", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "nobody-at-all")
	r = parleyRun(t, "", "export", "mentions", "--out", filepath.Join(t.TempDir(), "no", "such", "dir.csv"), "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "--out")
}

// TestPeopleExportHoldsOnlyThem exports one person of the demo: their
// mentions, drafts and notes are all there, and nothing of another
// person (their mentions' text, their notes, their ids).
func TestPeopleExportHoldsOnlyThem(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "export", "people", "--format", "jsonl", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var a, b parley.Person
	for line := range strings.Lines(r.stdout) {
		var p parley.Person
		require.NoError(t, json.Unmarshal([]byte(line), &p))
		if p.Mentions >= 2 && a.ID == 0 {
			a = p
		} else if p.Mentions >= 1 && b.ID == 0 && a.ID != 0 {
			b = p
		}
	}
	require.NotZero(t, a.ID)
	require.NotZero(t, b.ID)

	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	require.NoError(t, err)
	_, err = st.AddNote(ctx, a.ID, "ana", "prefers DMs about orders")
	require.NoError(t, err)
	_, err = st.AddNote(ctx, b.ID, "ana", "secret about the other one")
	require.NoError(t, err)
	require.NoError(t, st.Close())

	r = parleyRun(t, "", "people", "export", "@"+a.Handle, "--platform", a.Platform, "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var got parley.PersonData
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, a.ID, got.Person.ID)
	require.Len(t, got.Mentions, a.Mentions, "every mention of theirs")
	for _, m := range got.Mentions {
		assert.Equal(t, a.ID, m.PersonID)
	}
	for _, d := range got.Drafts {
		assert.Equal(t, a.ID, d.PersonID)
	}
	require.NotEmpty(t, got.Conversations)
	for _, c := range got.Conversations {
		assert.Contains(t, []int64{0, a.ID}, c.PersonID, "a conversation names no one else")
	}
	for _, e := range got.Audit {
		assert.NotEqual(t, b.ID, e.PersonID)
	}
	require.Len(t, got.Notes, 1)
	assert.Equal(t, "prefers DMs about orders", got.Notes[0].Text)
	assert.NotContains(t, r.stdout, "secret about the other one")

	r = parleyRun(t, "", "export", "mentions", "--format", "jsonl", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	theirs := map[string]bool{}
	for _, m := range got.Mentions {
		theirs[m.Text] = true
	}
	personJSON := mustPersonJSON(t, got)
	others := 0
	for line := range strings.Lines(r.stdout) {
		var m parley.Mention
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		if m.PersonID != a.ID && !theirs[m.Text] {
			others++
			text, _ := json.Marshal(m.Text)
			assert.NotContains(t, personJSON, string(text), "another person's mention %d", m.ID)
		}
	}
	assert.Positive(t, others, "the test looked at other people's mentions")

	out := filepath.Join(t.TempDir(), "a.json")
	r = parleyRun(t, "", "people", "export", a.ExternalID, "--platform", a.Platform, "--out", out, "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	fi, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func mustPersonJSON(t *testing.T, d parley.PersonData) string {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	return string(b)
}

// jsonLines counts the lines of a JSON lines stream, each one checked to
// be a JSON object.
func jsonLines(t *testing.T, s string) int {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), "line %d", n+1)
		n++
	}
	require.NoError(t, sc.Err())
	return n
}
