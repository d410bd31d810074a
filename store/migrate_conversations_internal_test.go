package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConversationsMigration upgrades a database of the schema before
// conversations, holding piles of pending replies, and checks that every
// thread became a conversation and each pile left one pending reply.
func TestConversationsMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	MigrateTo(t, path, MigrationVersion(t, "conversations")-1)
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	for _, q := range []string{
		`INSERT INTO people (id, platform, external_id, handle, first_seen, last_seen, mentions) VALUES
			(1, 'mastodon', 'a', 'ana', 1000, 5000, 4), (2, 'mastodon', 'b', 'ben', 2000, 2000, 1)`,
		`INSERT INTO threads (id, platform, root_key, started_at, last_at, mentions) VALUES
			(1, 'mastodon', 'm1', 1000, 4000, 3), (2, 'mastodon', 'm9', 2000, 2000, 1), (3, 'mastodon', 'm5', 5000, 5000, 1)`,
		`INSERT INTO mentions (id, platform, external_id, person_id, thread_id, text, created_at, received_at, sentiment, ignored) VALUES
			(1, 'mastodon', 'm1', 1, 1, 'broken', 1000, 1000, 'negative', 0),
			(2, 'mastodon', 'm2', 1, 1, 'still broken', 3000, 3000, 'negative', 0),
			(3, 'mastodon', 'm3', 1, 1, 'hello?', 4000, 4000, 'negative', 0),
			(4, 'mastodon', 'm9', 2, 2, 'thanks', 2000, 2000, 'positive', 0),
			(5, 'mastodon', 'm5', 1, 3, 'spam', 5000, 5000, 'neutral', 1)`,
		// Thread 1: a pile of three, the middle one edited by a person.
		// Thread 2: answered (sent) and nothing pending.
		`INSERT INTO drafts (id, kind, state, platform, mention_id, person_id, thread_id, rule, text, original_text,
			created_at, updated_at, sent_at) VALUES
			(1, 'reply', 'pending', 'mastodon', 1, 1, 1, 'r', 'sorry 1', '', 1100, 1100, 0),
			(2, 'reply', 'pending', 'mastodon', 2, 1, 1, 'r', 'sorry ana, by hand', 'sorry 2', 3100, 3100, 0),
			(3, 'reply', 'pending', 'mastodon', 3, 1, 1, 'r', 'sorry 3', '', 4100, 4100, 0),
			(4, 'reply', 'sent', 'mastodon', 4, 2, 2, 'r', 'glad!', '', 2100, 2500, 2500),
			(5, 'prompt', 'pending', 'mastodon', NULL, 2, NULL, 'review', 'a review?', '', 2600, 2600, 0)`,
		`INSERT INTO audit (at, actor, action, draft_id, person_id) VALUES (3200, 'ben', 'edit', 2, 1)`,
	} {
		_, err := db.Exec(q)
		require.NoError(t, err, q)
	}
	require.NoError(t, db.Close())

	s := openForTest(t, path, Options{})

	c1, err := s.Conversation(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, parley.NeedsReply, c1.State)
	assert.Equal(t, int64(3), c1.LastMentionID)
	assert.Equal(t, int64(1000), c1.WaitingSince.UnixMilli())
	assert.Equal(t, int64(2), c1.PendingDraftID, "a person's edit is kept before a newer rule draft")
	c2, err := s.Conversation(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, parley.Waiting, c2.State)
	assert.Equal(t, int64(2500), c2.FirstResponseAt.UnixMilli())
	c3, err := s.Conversation(ctx, 3)
	require.NoError(t, err)
	assert.Equal(t, parley.NeedsReply, c3.State, "every customer post is seen; a person closes what needs no reply")

	for id, want := range map[int64]parley.DraftState{1: parley.DraftSuperseded, 2: parley.DraftPending,
		3: parley.DraftSuperseded, 4: parley.DraftSent, 5: parley.DraftPending} {
		d, err := s.Draft(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, want, d.State, "draft %d", id)
	}
	d2, _ := s.Draft(ctx, 2)
	assert.Equal(t, "ben", d2.WrittenBy)
	entries, err := s.Audit(ctx, 10)
	require.NoError(t, err)
	superseded := 0
	for _, e := range entries {
		if e.Action == "supersede" {
			superseded++
			assert.Contains(t, e.Detail, "superseded by draft 2")
		}
	}
	assert.Equal(t, 2, superseded)
	var pending int
	require.NoError(t, s.rdb.QueryRow(`SELECT pending_drafts FROM people WHERE id = 1`).Scan(&pending))
	assert.Equal(t, 0+1, pending, "the person's pending count follows")

	// The store refuses a second pending reply in a conversation.
	_, err = s.db.Exec(`INSERT INTO drafts (kind, state, platform, person_id, thread_id, text, created_at, updated_at)
		VALUES ('reply', 'pending', 'mastodon', 1, 1, 'x', 1, 1)`)
	require.Error(t, err)
}
