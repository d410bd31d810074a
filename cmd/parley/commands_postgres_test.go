package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestCommandsOnPostgres runs the commands around the store against a
// fresh PostgreSQL database, selected by --db, by PARLEY_DATABASE_URL and
// by the config's store: section: ingest, stats, queue, conversations,
// search, export, people, user, rules apply, sentiment, advocates, digest
// and status --offline all work there; backup and restore (a SQLite file)
// refuse saying what to use instead.
func TestCommandsOnPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	cfg := exampleConfig(t)
	sample := writeFile(t, "sample.jsonl", string(replay.Sample()))
	r := parleyRun(t, "", "ingest", "--config", cfg, "--db", url, "--progress", "never", sample)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "mentions stored")

	s := stats(t, url)
	assert.Greater(t, s.Mentions, 300)
	assert.Greater(t, s.Drafts[parley.DraftPending], 0)

	id, handle := pgQueue(t, url)
	pgConversations(t, url)
	pgExport(t, url, s, handle)
	pgUsersAndRules(t, url, cfg)
	pgSentiment(t, url, cfg)

	r = parleyRun(t, "", "status", "--offline", "--json", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	var st parley.Status
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
	assert.Equal(t, 1, st.Outbox.Approved, "the approved draft %d waits in the outbox: %s", id, r.stdout)

	r = parleyRun(t, "", "digest", "--db", url, "--format", "md")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "## Sentiment")

	r = parleyRun(t, "", "advocates", "list", "--state", "all", "--json", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "@", "the ingest's rescore found people to list")

	// PARLEY_DATABASE_URL and the config's store: section select it too.
	env := map[string]string{"USER": "tester", "PARLEY_DATABASE_URL": url}
	r = parleyEnv(t, env, "stats", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf(`"mentions":%d`, s.Mentions))
	pgCfg := writeFile(t, "pg.yaml", "brand: {name: Tidewater Skates}\nstore: {driver: postgres, dsn_env: PARLEY_TEST_DB}\n")
	r = parleyEnv(t, map[string]string{"PARLEY_TEST_DB": url}, "queue", "list", "--config", pgCfg, "--limit", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotEmpty(t, r.stdout)

	for _, args := range [][]string{{"backup", "x.db"}, {"restore", "x.db"}, {"demo", "--serve=false"}} {
		r = parleyEnv(t, env, args...)
		assert.Equal(t, 1, r.code, "%v", args)
		assert.Contains(t, r.stderr, "works on a SQLite database file only, and PostgreSQL is selected", "%v", args)
	}
}

// pgQueue lists, shows, edits and approves a draft; a second approval is
// told who approved. It returns the approved draft and its person's handle.
func pgQueue(t *testing.T, url string) (int64, string) {
	r := parleyRun(t, "", "queue", "list", "--json", "--db", url, "--limit", "3")
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct {
		ID     int64
		Person struct{ Handle string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 3)
	id := fmt.Sprint(list[0].ID)
	r = parleyRun(t, "", "queue", "show", id, "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Person   @"+list[0].Person.Handle)
	r = parleyRun(t, "Thanks! DM us your order number.\n", "queue", "edit", id, "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "queue", "approve", id, "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "queue", "approve", id, "--db", url, "--as", "bo")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already approved by ana")
	r = parleyRun(t, "", "queue", "reject", fmt.Sprint(list[1].ID), "--reason", "off-brand", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	s := stats(t, url)
	assert.Equal(t, 1, s.Drafts[parley.DraftApproved])
	assert.Equal(t, 1, s.Drafts[parley.DraftRejected])
	return list[0].ID, list[0].Person.Handle
}

// pgConversations lists, shows, notes and searches conversations.
func pgConversations(t *testing.T, url string) {
	r := parleyRun(t, "", "conversations", "list", "--view", "all", "--json", "--db", url, "--limit", "2")
	require.Equal(t, 0, r.code, r.stderr)
	var convs []parley.Conversation
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &convs))
	require.Len(t, convs, 2)
	c := fmt.Sprint(convs[0].ID)
	r = parleyRun(t, "", "conversations", "note", c, "called them back", "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "conversations", "show", c, "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("Conversation %d on %s", convs[0].ID, convs[0].Platform))
	st, err := postgres.Open(context.Background(), url, postgres.Options{})
	require.NoError(t, err)
	defer st.Close()
	notes, err := st.ConversationNotes(context.Background(), convs[0].ID)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, "called them back", notes[0].Text)
	r = parleyRun(t, "", "conversations", "search", "wheels", "--json", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, strings.ToLower(r.stdout), "wheel", "full-text search finds the word")
	r = parleyRun(t, "", "conversations", "search", "--sentiment", "negative", "--json", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotEqual(t, "[]\n", r.stdout)
}

// pgExport exports every mention as CSV and one person's data as JSON.
func pgExport(t *testing.T, url string, s parley.Stats, handle string) {
	r := parleyRun(t, "", "export", "mentions", "--format", "csv", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	assert.Len(t, rows, s.Mentions+1, "a header and one row per mention")
	for _, kind := range []string{"conversations", "drafts", "people"} {
		r = parleyRun(t, "", "export", kind, "--format", "jsonl", "--db", url)
		require.Equal(t, 0, r.code, "%s: %s", kind, r.stderr)
		assert.NotEmpty(t, r.stdout, kind)
	}
	out := filepath.Join(t.TempDir(), "person.json")
	r = parleyRun(t, "", "people", "export", "@"+handle, "--out", out, "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	var d parley.PersonData
	require.NoError(t, json.Unmarshal(b, &d))
	assert.Equal(t, handle, d.Person.Handle)
	assert.NotEmpty(t, d.Mentions)
	assert.NotEmpty(t, d.Drafts)
	assert.NotEmpty(t, d.Audit, "the approval names a draft to them")
}

// pgUsersAndRules adds and lists a user and runs the rules again.
func pgUsersAndRules(t *testing.T, url, cfg string) {
	r := parleyRun(t, "correct horse battery\n", "user", "add", "cleo", "--role", "agent", "--password-stdin", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "user", "list", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "cleo")
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--since", "2000-01-01", "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	before := stats(t, url)
	r = parleyRun(t, "", "rules", "apply", "--config", cfg, "--since", "2000-01-01", "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, before.Drafts, stats(t, url).Drafts, "running the rules twice queues nothing twice")
}

// pgSentiment corrects a mention's sentiment and exports the corrections.
func pgSentiment(t *testing.T, url, cfg string) {
	r := parleyRun(t, "", "conversations", "search", "wheels", "--json", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	var hits []searchResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &hits), r.stdout)
	require.NotEmpty(t, hits)
	m := fmt.Sprint(hits[0].MentionID)
	r = parleyRun(t, "", "sentiment", "correct", m, "positive", "--as", "ana", "--config", cfg, "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "sentiment", "export-corrections", "--db", url)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"positive"`)
}
