package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

// applyMentions: a thread of two messages by one person (an order problem,
// then a complaint), a question in another thread, and small talk.
const applyMentions = `{"platform":"mastodon","id":"1","author":{"id":"4","handle":"ana@example.social"},"text":"where is my order? it never arrived","created_at":"2026-11-02T10:00:00Z"}
{"platform":"mastodon","id":"2","in_reply_to":"1","author":{"id":"4","handle":"ana@example.social"},"text":"still nothing, this is terrible and I am angry","created_at":"2026-11-02T11:00:00Z"}
{"platform":"mastodon","id":"3","author":{"id":"5","handle":"bo@example.social"},"text":"do you ship to Canada?","created_at":"2026-11-03T09:00:00Z"}
{"platform":"mastodon","id":"4","author":{"id":"6","handle":"cy@example.social"},"text":"the bus leaves at 5pm","created_at":"2026-11-03T09:30:00Z"}
`

func pendingDrafts(t *testing.T, db string) []parley.Draft {
	t.Helper()
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var ds []parley.Draft
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ds), r.stdout)
	return ds
}

func TestRulesApplyAfterIngestWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	r := parleyRun(t, "", "init", "--dir", dir, "--brand", "Acme", "--keywords", "acme")
	require.Equal(t, 0, r.code, r.stderr)
	cfg := filepath.Join(dir, "parley.yaml")
	db := filepath.Join(dir, "p.db")
	r = parleyRun(t, applyMentions, "ingest", "--quiet", "--rescore=false", "--db", db, "-")
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, pendingDrafts(t, db))

	// Bad input says what is wrong.
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "apply needs --since")
	r = parleyRun(t, "", "rules", "apply", "--since", "30d", "--db", db)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "give --config FILE")
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "last tuesday")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--since "last tuesday"`)

	// A dry run says what would change and writes nothing.
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "2026-11-01", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mention 1 (@ana@example.social): ")
	assert.Contains(t, r.stdout, "queues a draft by rule order-problem (pending)")
	assert.Regexp(t, `mention 2 \(@ana@example.social\): .*supersedes draft \d+ \(rule order-problem\)`, r.stdout)
	assert.Contains(t, r.stdout, "queues a draft by rule question (pending)")
	assert.NotContains(t, r.stdout, "mention 4 ")
	assert.Contains(t, r.stdout, "rules applied to 4 mentions since 2026-11-01 00:00: 3 would change, 3 drafts queued (0 auto-approved), 1 draft superseded")
	assert.Contains(t, r.stdout, "dry run: nothing was written")
	assert.Empty(t, pendingDrafts(t, db))

	// The real run queues one pending reply per conversation.
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "2026-11-01", "--as", "ops")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rules applied to 4 mentions since 2026-11-01 00:00: 3 changed, 3 drafts queued (0 auto-approved), 1 draft superseded")
	ds := pendingDrafts(t, db)
	require.Len(t, ds, 2, "one pending reply for each of the two conversations that need one")
	threads := map[int64]bool{}
	for _, d := range ds {
		assert.False(t, threads[d.ThreadID], "two pending replies in thread %d", d.ThreadID)
		threads[d.ThreadID] = true
	}
	assert.ElementsMatch(t, []string{"complaint", "question"}, []string{ds[0].Rule, ds[1].Rule})
	st := storetest.Open(t, storetest.Path(db))
	audit, err := st.Audit(t.Context(), 10)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	var actions []string
	for _, a := range audit {
		assert.Equal(t, "ops", a.Actor)
		assert.Contains(t, a.Detail, "rules applied again to mention")
		actions = append(actions, a.Action)
	}
	assert.ElementsMatch(t, []string{"redecide", "redecide", "redecide", "supersede"}, actions)

	// Running it again changes nothing and queues nothing twice.
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "2026-11-01", "--progress", "always")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "0 changed, 0 drafts queued (0 auto-approved), 0 drafts superseded")
	assert.Len(t, pendingDrafts(t, db), 2)

	// A reply a person approved stays, and nothing is queued beside it.
	var question parley.Draft
	for _, d := range ds {
		if d.Rule == "question" {
			question = d
		}
	}
	r = parleyRun(t, "", "queue", "approve", "--db", db, "--as", "ana", jsonID(question.ID))
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "2026-11-03")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rules applied to 2 mentions")
	assert.Contains(t, r.stdout, "0 drafts queued")
	assert.Len(t, pendingDrafts(t, db), 1)

	// A date after every mention applies to none.
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--db", db, "--since", "0s")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rules applied to 0 mentions")
}

func jsonID(id int64) string { b, _ := json.Marshal(id); return string(b) }
