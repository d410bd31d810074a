package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/postgres"
	"github.com/parleybot/parley/store/storetest"
)

// TestMigrateStoreCopiesAndVerifies copies a SQLite installation into
// PostgreSQL twice (the second run adds nothing) and goes on working
// there: the copied rows read back, new rows get fresh ids.
func TestMigrateStoreCopiesAndVerifies(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "parley.db")
	src, err := store.Open(ctx, db, store.Options{})
	require.NoError(t, err)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	ms := []*parley.Mention{
		{Platform: "mastodon", ExternalID: "1", Text: "my board snapped", CreatedAt: at,
			Author: parley.Person{ExternalID: "a", Handle: "ana@x.social", NoBot: true}},
		{Platform: "mastodon", ExternalID: "2", Text: "still waiting", CreatedAt: at.Add(time.Minute), InReplyTo: "1",
			Author: parley.Person{ExternalID: "a", Handle: "ana@x.social", NoBot: true}},
	}
	res, err := src.IngestBatch(ctx, ms, func(m *parley.Mention, _ parley.History) []parley.Draft {
		return []parley.Draft{{Rule: "sorry", Text: "Sorry about that", AutoApprove: true}}
	})
	require.NoError(t, err)
	_, err = src.ApproveDraft(ctx, res.DraftIDs[1], "bo", "")
	require.NoError(t, err)
	_, err = src.CreateUser(ctx, "bo", parley.RoleManager, "hash")
	require.NoError(t, err)
	require.NoError(t, src.Sessions().CommitCtx(ctx, "tok", []byte{0, 1, 2}, time.Now().Add(time.Hour)))
	require.NoError(t, src.SetCursor(ctx, "mastodon:home", "42"))
	_, raised, err := src.RaiseAlert(ctx, parley.Alert{Kind: "spike", Key: "mentions", At: at, Title: "a spike", Count: 40, Threshold: 12.5}, time.Hour)
	require.NoError(t, err)
	require.True(t, raised)
	require.NoError(t, src.Close())

	url := storetest.PostgresURL(t)
	for i, want := range []string{"mentions                       2 rows,         2 new  ok", "mentions                       2 rows,         0 new  ok"} {
		r := parleyRun(t, "", "migrate-store", "--from", db, "--to", url)
		require.Equal(t, 0, r.code, "run %d: %s", i, r.stderr)
		assert.Contains(t, r.stdout, want)
		assert.Contains(t, r.stdout, "every count matches")
	}

	dst, err := postgres.Open(ctx, url, postgres.Options{})
	require.NoError(t, err)
	defer dst.Close()
	m, err := dst.Mention(ctx, ms[1].ID)
	require.NoError(t, err)
	assert.Equal(t, "still waiting", m.Text)
	assert.True(t, m.Author.NoBot, "booleans survive")
	d, err := dst.Draft(ctx, res.DraftIDs[1])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "bo", d.DecidedBy)
	u, err := dst.User(ctx, "BO")
	require.NoError(t, err)
	assert.Equal(t, parley.RoleManager, u.Role)
	_, found, err := dst.Sessions().FindCtx(ctx, "tok")
	require.NoError(t, err)
	assert.True(t, found, "logged-in people stay logged in")
	v, err := dst.Cursor(ctx, "mastodon:home")
	require.NoError(t, err)
	assert.Equal(t, "42", v)
	alerts, err := dst.Alerts(ctx, parley.AlertFilter{})
	require.NoError(t, err)
	require.Len(t, alerts, 1, "alerts are copied")
	assert.Equal(t, "a spike", alerts[0].Title)
	assert.InDelta(t, 12.5, alerts[0].Threshold, 0.001)
	found2, err := dst.SearchMentions(ctx, parley.MentionQuery{Text: "snapped"})
	require.NoError(t, err)
	assert.Len(t, found2, 1, "copied mentions are searchable")

	more, err := dst.IngestBatch(ctx, []*parley.Mention{{Platform: "mastodon", ExternalID: "3", Text: "hello", CreatedAt: at,
		Author: parley.Person{ExternalID: "c"}}}, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, more.Stored)
	got, err := dst.AddAudit(ctx, parley.AuditEntry{Actor: "bo", Action: "login"})
	require.NoError(t, err, "the id sequences moved past the copied ids")
	assert.Positive(t, got.ID)

	r := parleyRun(t, "", "migrate-store", "--from", db)
	assert.Equal(t, 2, r.code, "usage: no --to")
}
