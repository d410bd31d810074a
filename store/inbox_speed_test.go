package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestConversationCountsFollowChanges: the counts per state the inbox
// reads for "all" and "closed" (kept by triggers) equal the
// conversations' own after ingest (new threads and replies), a close, a
// snooze, a reopen and an erasure.
func TestConversationCountsFollowChanges(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	check := func(what string) {
		t.Helper()
		read := func(q string) map[string]int {
			rows, err := db.Query(q)
			require.NoError(t, err)
			defer rows.Close()
			out := map[string]int{}
			for rows.Next() {
				var k string
				var n int
				require.NoError(t, rows.Scan(&k, &n))
				if n != 0 {
					out[k] = n
				}
			}
			require.NoError(t, rows.Err())
			return out
		}
		want := read(`SELECT state, count(*) FROM conversations GROUP BY state`)
		assert.Equal(t, want, read(`SELECT state, n FROM conversation_counts`), what)
	}
	m := func(id, author string, reply string) *parley.Mention {
		return &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: id, InReplyTo: reply, Text: "hello " + id,
			Author: parley.Person{ExternalID: author, Handle: author + "@skate.social"}, CreatedAt: time.Now().UTC(),
			Sentiment: parley.Sentiment{Label: parley.Neutral}}
	}
	a, b := m("1", "ana", ""), m("2", "bo", "")
	_, err = s.IngestBatch(ctx, []*parley.Mention{a, b, m("3", "cy", ""), m("4", "bo", "2")}, nil)
	require.NoError(t, err)
	check("after ingest")
	_, err = s.SetConversationState(ctx, a.ThreadID, "ana", parley.Closed, time.Time{}, "")
	require.NoError(t, err)
	check("after a close")
	_, err = s.SetConversationState(ctx, b.ThreadID, "ana", parley.Snoozed, time.Now().Add(time.Hour), "")
	require.NoError(t, err)
	check("after a snooze")
	_, err = s.SetConversationState(ctx, a.ThreadID, "ana", parley.NeedsReply, time.Time{}, "")
	require.NoError(t, err)
	check("after a reopen")
	_, err = s.IngestBatch(ctx, []*parley.Mention{m("5", "ana", "1")}, nil)
	require.NoError(t, err)
	check("after a reply")
	_, err = s.ErasePerson(ctx, b.PersonID, "ana", false)
	require.NoError(t, err)
	check("after an erasure")
}

// TestInboxQueriesUseIndexes: no query of the inbox (its list, its counts,
// a search's match set) walks all the mentions or all the conversations,
// for each view and each kind of search and filter: EXPLAIN QUERY PLAN of
// each query the store runs names no full SCAN of them.
func TestInboxQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	_, err := s.IngestBatch(ctx, []*parley.Mention{{Platform: parley.PlatformMastodon, ExternalID: "1",
		Text: "my #support wheels broke", Author: parley.Person{ExternalID: "j", Handle: "jules@skate.social"},
		CreatedAt: time.Now().UTC(), Sentiment: parley.Sentiment{Label: parley.Negative}}}, nil)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", "file:"+s.Path()+"?mode=ro")
	require.NoError(t, err)
	defer db.Close()
	queries := []parley.InboxQuery{
		{Text: "wheels"}, {Text: "refund broken"}, {Text: "@jules"}, {Text: "#support"}, {Text: "@jules wheels"},
		{Since: time.Now().Add(-time.Hour)}, {Sentiment: parley.Negative, Platform: parley.PlatformMastodon},
		{Overdue: time.Hour}, {Assignee: "-"}, {Tag: "damage"}, {},
	}
	for _, view := range parley.InboxViews {
		for _, q := range queries {
			q.View, q.User = view, "ana"
			var ran []string
			var mu sync.Mutex // the page counts on a second reader while it lists
			store.TraceInbox(s, func(query string, args []any) {
				mu.Lock()
				defer mu.Unlock()
				rows, err := db.Query(`EXPLAIN QUERY PLAN `+query, args...)
				require.NoError(t, err)
				defer rows.Close()
				var plan []string
				for rows.Next() {
					var id, parent, unused int
					var detail string
					require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
					plan = append(plan, detail)
				}
				require.NoError(t, rows.Err())
				// Mentions are never walked; conversations and threads only
				// in order with a LIMIT, which stops the walk (not when the
				// rows are sorted after it).
				bounded := strings.Contains(query, "LIMIT") && !strings.Contains(strings.Join(plan, "\n"), "TEMP B-TREE")
				for _, step := range plan {
					for _, table := range []string{"mentions", "x", "m", "conversations", "c", "threads", "t"} {
						full := step == "SCAN "+table || strings.HasPrefix(step, "SCAN "+table+" ")
						if full && (!bounded || table == "mentions" || table == "x" || table == "m") {
							t.Errorf("%s %+v: a full scan (%s) in\n%s\n%s", view, q, step, query, strings.Join(plan, "\n"))
						}
					}
				}
				ran = append(ran, fmt.Sprint(len(plan)))
			})
			_, err := s.InboxPage(ctx, q)
			require.NoError(t, err)
			assert.NotEmpty(t, ran, "%s %+v: the trace saw the queries", view, q)
		}
	}
}
