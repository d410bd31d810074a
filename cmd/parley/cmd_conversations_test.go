package main

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestConversationsCommands works the demo's conversations from the CLI:
// the list, one conversation, a reply to a chosen message, close, search.
func TestConversationsCommands(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "conversations", "list", "--json", "--view", "all", "--limit", "1000", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var all []parley.Conversation
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &all))
	s := stats(t, db)
	assert.Len(t, all, s.Threads, "every thread is a conversation")
	msgs := 0
	var multi parley.Conversation
	for _, c := range all {
		msgs += c.Messages
		if c.Messages > 1 && multi.ID == 0 {
			multi = c
		}
	}
	assert.Equal(t, s.Mentions, msgs, "every customer message is in a conversation")
	require.NotZero(t, multi.ID)

	r = parleyRun(t, "", "conversations", "show", fmt.Sprint(multi.ID), "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var shown struct {
		Messages []parley.Mention
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &shown))
	require.Len(t, shown.Messages, multi.Messages)
	first := shown.Messages[0]

	r = parleyRun(t, "", "conversations", "reply", fmt.Sprint(multi.ID), "--to", fmt.Sprint(first.ID), "--text", "Thanks, on it!",
		"--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("answering mention %d", first.ID))
	r = parleyRun(t, "", "conversations", "reply", fmt.Sprint(multi.ID), "--to", "99999", "--text", "x", "--db", db)
	assert.Equal(t, 1, r.code)
	r = parleyRun(t, "", "conversations", "reply", fmt.Sprint(multi.ID), "--text", "", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "empty")
	r = parleyRun(t, "", "conversations", "show", fmt.Sprint(multi.ID), "--json", "--db", db)
	var after struct {
		Conversation parley.Conversation
		Drafts       []parley.Draft
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &after))
	pending := 0
	for _, d := range after.Drafts {
		if d.State == parley.DraftPending && d.Kind == parley.KindReply {
			pending++
			assert.Equal(t, first.ID, d.MentionID, "the reply answers the chosen message")
			assert.Equal(t, "ana", d.WrittenBy)
		}
	}
	assert.Equal(t, 1, pending, "one pending reply per conversation")

	r = parleyRun(t, "", "conversations", "close", fmt.Sprint(multi.ID), "--reason", "handled", "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "is closed")
	r = parleyRun(t, "", "conversations", "list", "--view", "closed", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf(`"id":%d`, multi.ID))
	r = parleyRun(t, "", "conversations", "snooze", fmt.Sprint(multi.ID), "--until", "4h", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "snoozed until")

	r = parleyRun(t, "", "conversations", "search", "@"+first.Author.Handle, "--json", "--limit", "500", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var found []searchResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &found))
	hit := false
	for _, f := range found {
		if f.MentionID == first.ID {
			hit = true
			assert.Equal(t, first.ExternalID, f.ExternalID)
			assert.Equal(t, multi.ID, f.ConversationID)
		}
	}
	assert.True(t, hit, "the message is found by its author")
	r = parleyRun(t, "", "conversations", "search", "--db", db)
	assert.Equal(t, 1, r.code)
}

// TestConversationsSearchFilters: search takes the web inbox's filters as
// flags and then lists conversations.
func TestConversationsSearchFilters(t *testing.T) {
	db := demoDB(t)
	search := func(args ...string) []convResult {
		t.Helper()
		r := parleyRun(t, "", append([]string{"conversations", "search", "--json", "--limit", "500", "--db", db}, args...)...)
		require.Equal(t, 0, r.code, r.stderr)
		var out []convResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
		return out
	}
	all := search("--view", "all")
	require.NotEmpty(t, all)
	neg := search("--sentiment", "negative")
	require.NotEmpty(t, neg)
	assert.Less(t, len(neg), len(all))
	for _, c := range neg {
		assert.Equal(t, parley.Negative, c.Sentiment)
	}
	for _, c := range search("--platform", "discord") {
		assert.Equal(t, parley.PlatformDiscord, c.Platform)
	}
	needs := search("--view", "needs-reply")
	for _, c := range needs {
		assert.Equal(t, parley.NeedsReply, c.State)
	}
	overdue := search("--overdue", "1h")
	assert.LessOrEqual(t, len(overdue), len(needs), "only those needing a reply can be overdue")
	for _, c := range overdue {
		assert.False(t, c.WaitingSince.IsZero())
	}
	// Words and a filter together: the words' conversations, narrowed.
	handle := all[0].Author
	byHandle := search("@"+handle, "--view", "all")
	require.NotEmpty(t, byHandle)
	assert.Empty(t, search("@"+handle, "--assignee", "nobody-by-that-name"))

	r := parleyRun(t, "", "conversations", "search", "--sentiment", "grumpy", "--db", db)
	assert.Equal(t, 2, r.code, "a usage error")
	assert.Contains(t, r.stderr, "--sentiment")
}
