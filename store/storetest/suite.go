// Package storetest holds what store tests share: the conformance suite
// every store implementation passes (Run), and the test databases it runs
// on (a SQLite file in t.TempDir(), a fresh PostgreSQL database).
package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// Store is what the conformance suite checks: the root interfaces the
// rest of Parley reaches a store through.
type Store interface {
	parley.Store
	parley.WebStore
	parley.UndoStore
	parley.ConversationStore
	parley.MentionSearcher
	parley.Inbox
	parley.WebhookStore
	parley.EraseStore
	parley.AlertStore
}

// Run runs the conformance suite: the same tests against whatever store
// open returns. open is called once per test and must return a fresh,
// empty store (closed by open's own cleanup).
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, st Store)
	}{
		{"IngestStoresOnce", testIngestStoresOnce},
		{"IngestHistory", testIngestHistory},
		{"FindPersonRefusesToGuess", testFindPersonRefusesToGuess},
		{"OnePendingReplyPerConversation", testOnePendingReply},
		{"EditedReplyIsKept", testEditedReplyIsKept},
		{"DecisionStateChecks", testDecisionStateChecks},
		{"ConcurrentApprovalsOneWins", testConcurrentApprovals},
		{"OutboxClaimsOnce", testOutboxClaimsOnce},
		{"SentReplyStopsTheClock", testSentReplyStopsTheClock},
		{"WriteReplySupersedes", testWriteReplySupersedes},
		{"Search", testSearch},
		{"UsersAndSessions", testUsersAndSessions},
		{"Cursors", testCursors},
		{"InboxAndAssign", testInboxAndAssign},
		{"InboxPages", testInboxPages},
		{"InboxSearchAndCountCaps", testInboxCaps},
		{"UndoWithinGrace", testUndoWithinGrace},
		{"NotesTagsSavedReplies", testNotesTagsSavedReplies},
		{"WebhookDeliveries", testWebhookDeliveries},
		{"ErasePerson", testErasePerson},
		{"Alerts", testAlerts},
		{"AlertSignals", testAlertSignals},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// mention is a Mastodon post by author at t0 + minutes.
func mention(id, author, text string, minutes int) *parley.Mention {
	return &parley.Mention{Platform: "mastodon", ExternalID: id, Text: text,
		Author:    parley.Person{ExternalID: author, Handle: author + "@example.social", Name: strings.ToUpper(author)},
		CreatedAt: t0.Add(time.Duration(minutes) * time.Minute)}
}

// replyRule drafts one pending reply for every mention.
func replyRule(m *parley.Mention, _ parley.History) []parley.Draft {
	return []parley.Draft{{Rule: "thanks", Text: "Thanks, " + m.Author.Handle}}
}

func ingest(t *testing.T, st Store, decide parley.DecideFunc, ms ...*parley.Mention) parley.IngestResult {
	t.Helper()
	res, err := st.IngestBatch(context.Background(), ms, decide)
	require.NoError(t, err)
	return res
}

func testIngestStoresOnce(t *testing.T, st Store) {
	ctx := context.Background()
	a, b := mention("1", "ana", "hello #parley", 0), mention("2", "ana", "again", 1)
	res := ingest(t, st, nil, a, b, mention("1", "ana", "hello #parley", 0))
	assert.Equal(t, 2, res.Stored)
	assert.Equal(t, 1, res.Duplicates, "a mention repeated within the batch")
	require.NotZero(t, a.ID)
	assert.Equal(t, a.PersonID, b.PersonID, "one author, one person")
	assert.NotEqual(t, a.ThreadID, b.ThreadID, "two top-level posts, two threads")

	res = ingest(t, st, nil, mention("1", "ana", "hello #parley", 0), mention("2", "ana", "again", 1))
	assert.Equal(t, parley.IngestResult{Duplicates: 2}, res, "re-reading a stream changes nothing")

	got, err := st.Mention(ctx, a.ID)
	require.NoError(t, err)
	assert.Equal(t, "hello #parley", got.Text)
	assert.Equal(t, "ana@example.social", got.Author.Handle)
	assert.True(t, got.CreatedAt.Equal(a.CreatedAt))
	p, err := st.Person(ctx, a.PersonID)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Mentions)
	found, err := st.FindPerson(ctx, "mastodon", "@ana@example.social")
	require.NoError(t, err)
	assert.Equal(t, p.ID, found.ID)
	stats, err := st.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, stats.Mentions)
	assert.Equal(t, 1, stats.People)

	_, err = st.Mention(ctx, 999999)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

// testFindPersonRefusesToGuess: a handle two people share is a conflict
// naming both (erase or export must never act on a guess); an exact match
// beats one that differs only in case, and the platform or the platform id
// picks one.
func testFindPersonRefusesToGuess(t *testing.T, st Store) {
	ctx := context.Background()
	onDiscord := mention("d1", "sam", "hi from discord", 0)
	onDiscord.Platform = "discord"
	onDiscord.Author = parley.Person{ExternalID: "4242", Handle: "sam", Name: "Sam D"}
	onMastodon := mention("m1", "sam", "hi from mastodon", 1)
	onMastodon.Author = parley.Person{ExternalID: "109", Handle: "sam", Name: "Sam M"}
	upper := mention("m2", "Kim", "hello", 2)
	upper.Author = parley.Person{ExternalID: "110", Handle: "Kim", Name: "Kim"}
	lower := mention("m3", "kim", "hello too", 3)
	lower.Author = parley.Person{ExternalID: "111", Handle: "kim", Name: "kim"}
	ingest(t, st, nil, onDiscord, onMastodon, upper, lower)

	_, err := st.FindPerson(ctx, "", "@sam")
	require.Error(t, err)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, err.Error(), "discord @sam (id 4242)")
	assert.Contains(t, err.Error(), "mastodon @sam (id 109)")

	p, err := st.FindPerson(ctx, "discord", "sam")
	require.NoError(t, err)
	assert.Equal(t, onDiscord.PersonID, p.ID)
	p, err = st.FindPerson(ctx, "", "109")
	require.NoError(t, err, "the platform id names one person")
	assert.Equal(t, onMastodon.PersonID, p.ID)

	p, err = st.FindPerson(ctx, "mastodon", "kim")
	require.NoError(t, err)
	assert.Equal(t, lower.PersonID, p.ID, "the exact handle wins over one in another case")
	_, err = st.FindPerson(ctx, "mastodon", "KIM")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "two handles equal but for case: no guess")
	p, err = st.FindPerson(ctx, "mastodon", "@ANA") // nobody
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "%+v", p)
}

func testIngestHistory(t *testing.T, st Store) {
	ctx := context.Background()
	var seen []parley.History
	record := func(m *parley.Mention, h parley.History) []parley.Draft {
		seen = append(seen, h)
		return replyRule(m, h)
	}
	root := mention("10", "bo", "my order is late", 0)
	reply := mention("11", "bo", "still waiting", 5)
	reply.InReplyTo = "10"
	ingest(t, st, record, root)
	ingest(t, st, record, reply)
	require.Len(t, seen, 2)
	assert.True(t, seen[0].FirstTime())
	assert.Equal(t, 1, seen[1].Person.Mentions, "the second mention sees the first")
	assert.Equal(t, 1, seen[1].ThreadMentions)
	assert.Equal(t, 1, seen[1].PendingDrafts, "the first mention's draft waits")
	assert.Equal(t, root.ThreadID, reply.ThreadID, "a reply joins the thread of the post it answers")
	assert.Equal(t, parley.NeedsReply, seen[1].Conversation.State)

	ms, err := st.ThreadMentions(ctx, root.ThreadID)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, root.ID, ms[0].ID, "oldest first")
	ms, err = st.PersonMentions(ctx, root.PersonID, 10)
	require.NoError(t, err)
	require.Len(t, ms, 2)
	assert.Equal(t, reply.ID, ms[0].ID, "newest first")
}

func testOnePendingReply(t *testing.T, st Store) {
	ctx := context.Background()
	a := mention("20", "cy", "is this thing on?", 0)
	b := mention("21", "cy", "hello??", 2)
	b.InReplyTo = "20"
	c := mention("22", "cy", "anyone?", 4)
	c.InReplyTo = "21"
	res := ingest(t, st, replyRule, a, b)
	require.Len(t, res.DraftIDs, 2)
	res2 := ingest(t, st, replyRule, c)
	require.Len(t, res2.DraftIDs, 1)

	ids := append(res.DraftIDs, res2.DraftIDs...)
	var states []parley.DraftState
	for _, id := range ids {
		d, err := st.Draft(ctx, id)
		require.NoError(t, err)
		states = append(states, d.State)
	}
	assert.Equal(t, []parley.DraftState{parley.DraftSuperseded, parley.DraftSuperseded, parley.DraftPending}, states,
		"a newer reply supersedes the rule's pending one, within a batch and across batches")
	conv, err := st.Conversation(ctx, a.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, ids[2], conv.PendingDraftID)
	assert.Equal(t, 3, conv.Messages)
	assert.Equal(t, parley.NeedsReply, conv.State)
	pending, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	assert.Len(t, pending, 1)
}

func testEditedReplyIsKept(t *testing.T, st Store) {
	ctx := context.Background()
	a := mention("30", "di", "refund please", 0)
	res := ingest(t, st, replyRule, a)
	_, err := st.EditDraft(ctx, res.DraftIDs[0], "ana", "We are on it, Di.")
	require.NoError(t, err)
	b := mention("31", "di", "any news?", 10)
	b.InReplyTo = "30"
	res2 := ingest(t, st, replyRule, b)
	assert.Empty(t, res2.DraftIDs, "a person's edit is never replaced by a rule's draft")
	d, err := st.Draft(ctx, res.DraftIDs[0])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Equal(t, "ana", d.WrittenBy)
	assert.True(t, d.NewMessageAt.Equal(b.CreatedAt), "the edit is marked: the customer wrote again")
}

func testDecisionStateChecks(t *testing.T, st Store) {
	ctx := context.Background()
	res := ingest(t, st, replyRule, mention("40", "ed", "hi", 0), mention("41", "fay", "hey", 1))
	id, other := res.DraftIDs[0], res.DraftIDs[1]

	_, err := st.ApproveDraft(ctx, id, "", "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "who is acting?")
	_, err = st.EditDraft(ctx, id, "ana", "  ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = st.ApproveDraft(ctx, 999999, "ana", "")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	d, err := st.ApproveDraft(ctx, id, "ana", "Hi Ed!")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.Equal(t, "Hi Ed!", d.Text)
	assert.Equal(t, "Thanks, ed@example.social", d.OriginalText, "the rule's wording is kept")
	assert.Equal(t, "ana", d.DecidedBy)

	_, err = st.ApproveDraft(ctx, id, "bo", "")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	assert.Contains(t, parley.ErrorMessage(err), "already approved by ana")
	_, err = st.RejectDraft(ctx, id, "bo", "no")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	_, err = st.EditDraft(ctx, id, "bo", "changed")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))

	r, err := st.RejectDraft(ctx, other, "bo", "off topic")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftRejected, r.State)
	_, err = st.ApproveDraft(ctx, other, "ana", "")
	assert.Contains(t, parley.ErrorMessage(err), "already rejected by bo")

	entries, err := st.Audit(ctx, 10)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Actor+":"+e.Action)
	}
	assert.Equal(t, []string{"bo:reject", "ana:approve"}, actions, "newest first, failed attempts not written")
}

func testConcurrentApprovals(t *testing.T, st Store) {
	ctx := context.Background()
	res := ingest(t, st, replyRule, mention("50", "gus", "hello", 0))
	id := res.DraftIDs[0]
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.ApproveDraft(ctx, id, fmt.Sprintf("agent%d", i), "")
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "%v", err)
		assert.Contains(t, parley.ErrorMessage(err), "already approved by agent")
	}
	assert.Equal(t, 1, won, "exactly one approval wins")
}

func testOutboxClaimsOnce(t *testing.T, st Store) {
	ctx := context.Background()
	var ms []*parley.Mention
	for i := range 12 {
		ms = append(ms, mention(fmt.Sprint(60+i), fmt.Sprint("p", i), "hi", i))
	}
	res := ingest(t, st, replyRule, ms...)
	for _, id := range res.DraftIDs {
		_, err := st.ApproveDraft(ctx, id, "ana", "")
		require.NoError(t, err)
	}
	now := time.Now()
	var mu sync.Mutex
	claimed := map[int64]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := st.ClaimDrafts(ctx, 2, now)
				if !assert.NoError(t, err) || len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					claimed[d.ID]++
					assert.Equal(t, parley.DraftSending, d.State)
					assert.Equal(t, 1, d.Attempts)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, claimed, len(res.DraftIDs))
	for id, n := range claimed {
		assert.Equal(t, 1, n, "draft %d claimed %d times", id, n)
	}
	again, err := st.ClaimDrafts(ctx, 10, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Empty(t, again, "a claim holds the draft for the send lease")
	stale, err := st.ClaimDrafts(ctx, 100, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Len(t, stale, len(res.DraftIDs), "a draft left sending by a crash is claimed again after the lease")

	id := res.DraftIDs[0]
	require.NoError(t, st.MarkSent(ctx, id, "post-1", now))
	err = st.MarkSent(ctx, id, "post-1", now)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "sent once")
	require.NoError(t, st.MarkFailed(ctx, res.DraftIDs[1], "boom", now.Add(time.Minute)))
	d, err := st.Draft(ctx, res.DraftIDs[1])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State, "retried later")
	assert.Equal(t, "boom", d.LastError)
	require.NoError(t, st.MarkFailed(ctx, res.DraftIDs[2], "gone", time.Time{}))
	d, err = st.Draft(ctx, res.DraftIDs[2])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftFailed, d.State)
}

func testSentReplyStopsTheClock(t *testing.T, st Store) {
	ctx := context.Background()
	m := mention("80", "hal", "broken", 0)
	res := ingest(t, st, replyRule, m)
	_, err := st.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	ds, err := st.ClaimDrafts(ctx, 1, time.Now())
	require.NoError(t, err)
	require.Len(t, ds, 1)
	sentAt := t0.Add(30 * time.Minute)
	require.NoError(t, st.MarkSent(ctx, ds[0].ID, "posted-80", sentAt))
	c, err := st.Conversation(ctx, m.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.Waiting, c.State)
	assert.True(t, c.FirstResponseAt.Equal(sentAt))
	p, err := st.Person(ctx, m.PersonID)
	require.NoError(t, err)
	assert.Equal(t, 1, p.RepliesSent)

	// The customer answers our reply: the same conversation needs a reply.
	back := mention("81", "hal", "still broken", 40)
	back.InReplyTo = "posted-80"
	var h parley.History
	ingest(t, st, func(_ *parley.Mention, got parley.History) []parley.Draft { h = got; return nil }, back)
	assert.Equal(t, m.ThreadID, back.ThreadID, "an answer to our reply joins its thread")
	assert.Equal(t, 1, h.RepliesInThread)
	assert.Equal(t, "Thanks, hal@example.social", h.LastReply)
	c, err = st.Conversation(ctx, m.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.NeedsReply, c.State)
}

func testWriteReplySupersedes(t *testing.T, st Store) {
	ctx := context.Background()
	m := mention("90", "ivy", "question", 0)
	res := ingest(t, st, replyRule, m)
	d, err := st.WriteReply(ctx, m.ThreadID, 0, "ana", "Here is the answer, Ivy.")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Equal(t, "ana", d.WrittenBy)
	old, err := st.Draft(ctx, res.DraftIDs[0])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, old.State)
	c, err := st.Conversation(ctx, m.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, d.ID, c.PendingDraftID)

	c, err = st.SetConversationState(ctx, m.ThreadID, "ana", parley.Closed, time.Time{}, "done")
	require.NoError(t, err)
	assert.Equal(t, parley.Closed, c.State)
	_, err = st.WriteReply(ctx, 999999, 0, "ana", "x")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	_, err = st.WriteReply(ctx, m.ThreadID, 0, "ana", " ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

func testSearch(t *testing.T, st Store) {
	ctx := context.Background()
	ingest(t, st, nil, mention("100", "jo", "The delivery was late again #shipping", 0),
		mention("101", "kim", "Lovely delivery today", 1), mention("102", "jo", "shipping costs too much", 2))
	texts := func(q parley.MentionQuery) []string {
		t.Helper()
		ms, err := st.SearchMentions(ctx, q)
		require.NoError(t, err)
		var out []string
		for _, m := range ms {
			out = append(out, m.ExternalID)
		}
		return out
	}
	assert.Equal(t, []string{"101", "100"}, texts(parley.MentionQuery{Text: "delivery"}), "newest first")
	assert.Equal(t, []string{"100"}, texts(parley.MentionQuery{Text: "delivery late"}), "every word")
	assert.Equal(t, []string{"100"}, texts(parley.MentionQuery{Text: "#shipping"}), "the #tag, not the word")
	assert.Equal(t, []string{"102", "100"}, texts(parley.MentionQuery{Text: "@jo"}))
	assert.Equal(t, []string{"101"}, texts(parley.MentionQuery{Text: "DELIVERY", Since: t0.Add(time.Minute)}))
	assert.Empty(t, texts(parley.MentionQuery{Text: "nothing"}))
	_, err := st.SearchMentions(ctx, parley.MentionQuery{Text: "  "})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

func testUsersAndSessions(t *testing.T, st Store) {
	ctx := context.Background()
	u, err := st.CreateUser(ctx, "Ana", parley.RoleAdmin, "hash")
	require.NoError(t, err)
	assert.Equal(t, "Ana", u.Name)
	_, err = st.CreateUser(ctx, "ana", parley.RoleAgent, "hash")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "names are case-insensitive")
	_, err = st.CreateUser(ctx, "bad name", parley.RoleAgent, "hash")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	got, err := st.User(ctx, "ANA")
	require.NoError(t, err)
	assert.Equal(t, u.ID, got.ID)
	require.NoError(t, st.SetUserRole(ctx, "ana", parley.RoleAgent))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(st.SetUserRole(ctx, "nobody", parley.RoleAgent)))
	_, err = st.AddAudit(ctx, parley.AuditEntry{Actor: "ana", Action: "login"})
	require.NoError(t, err)
	entries, err := st.AuditEntries(ctx, parley.AuditFilter{Actor: "ana"})
	require.NoError(t, err)
	require.Len(t, entries, 1)

	ss := st.Sessions()
	_, found, err := ss.FindCtx(ctx, "tok")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, ss.CommitCtx(ctx, "tok", []byte("data"), time.Now().Add(time.Hour)))
	b, found, err := ss.FindCtx(ctx, "tok")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, []byte("data"), b)
	all, err := ss.AllCtx(ctx)
	require.NoError(t, err)
	assert.Len(t, all, 1)
	assert.NotContains(t, all, "tok", "only a hash of the token is stored")
	require.NoError(t, ss.DeleteCtx(ctx, "tok"))
	_, found, err = ss.FindCtx(ctx, "tok")
	require.NoError(t, err)
	assert.False(t, found)
	require.NoError(t, st.DeleteUser(ctx, "ana"))
	_, err = st.User(ctx, "ana")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

func testCursors(t *testing.T, st Store) {
	ctx := context.Background()
	v, err := st.Cursor(ctx, "mastodon:home")
	require.NoError(t, err)
	assert.Empty(t, v)
	require.NoError(t, st.SetCursor(ctx, "mastodon:home", "42"))
	require.NoError(t, st.SetCursor(ctx, "mastodon:home", "43"))
	v, err = st.Cursor(ctx, "mastodon:home")
	require.NoError(t, err)
	assert.Equal(t, "43", v)
}

func testInboxAndAssign(t *testing.T, st Store) {
	ctx := context.Background()
	_, err := st.CreateUser(ctx, "bo", parley.RoleAgent, "hash")
	require.NoError(t, err)
	tagged := func(m *parley.Mention, h parley.History) []parley.Draft {
		m.Tags = []string{"billing"}
		return replyRule(m, h)
	}
	res := ingest(t, st, tagged, mention("110", "lu", "invoice wrong", 0))
	ingest(t, st, replyRule, mention("111", "max", "hello", 1))
	items, err := st.InboxItems(ctx, parley.InboxFilter{})
	require.NoError(t, err)
	assert.Len(t, items, 2)
	items, err = st.InboxItems(ctx, parley.InboxFilter{Tag: "billing"})
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "invoice wrong", items[0].Mention.Text)
	assert.Equal(t, "lu@example.social", items[0].Person.Handle)
	facets, err := st.InboxFacets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"billing"}, facets.Tags)
	assert.Equal(t, []string{"mastodon"}, facets.Platforms)

	it, err := st.AssignDraft(ctx, res.DraftIDs[0], "BO", "ana")
	require.NoError(t, err)
	assert.Equal(t, "bo", it.AssignedTo, "the name as stored")
	items, err = st.InboxItems(ctx, parley.InboxFilter{AssignedTo: "bo"})
	require.NoError(t, err)
	assert.Len(t, items, 1)
	_, err = st.AssignDraft(ctx, res.DraftIDs[0], "nobody", "ana")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	n, err := st.PendingDrafts(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "counting stops at most")
}

func testInboxPages(t *testing.T, st Store) {
	ctx := context.Background()
	tagged := func(m *parley.Mention, _ parley.History) []parley.Draft {
		if strings.Contains(m.Text, "broken") {
			m.Tags = []string{"damage"}
		}
		return nil
	}
	ingest(t, st, tagged, mention("120", "nia", "my board arrived broken", 0), mention("121", "oz", "hello there", 1),
		mention("122", "pia", "where is my parcel", 2))
	v1, err := st.InboxVersion(ctx)
	require.NoError(t, err)
	page, err := st.InboxPage(ctx, parley.InboxQuery{Limit: 2, Now: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, page.Rows, 2)
	assert.NotEmpty(t, page.Next)
	assert.Equal(t, 3, page.Counts[parley.ViewNeedsReply])
	assert.Equal(t, 3, page.Counts[parley.ViewAll])
	assert.Equal(t, "my board arrived broken", page.Rows[0].Last.Text, "longest waiting first")
	for most, want := range map[int]int{10: 3, 2: 2} {
		n, err := st.NeedsReplyCount(ctx, most)
		require.NoError(t, err)
		assert.Equal(t, want, n, "conversations needing a reply, counted up to %d", most)
	}
	next, err := st.InboxPage(ctx, parley.InboxQuery{Limit: 2, After: page.Next, Now: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Len(t, next.Rows, 1, "the rest, nothing twice")
	assert.Equal(t, "where is my parcel", next.Rows[0].Last.Text)
	assert.Empty(t, next.Next)
	for _, q := range []parley.InboxQuery{{Text: "broken"}, {Tag: "damage"}, {Text: "@nia"}} {
		got, err := st.InboxPage(ctx, q)
		require.NoError(t, err)
		require.Len(t, got.Rows, 1, "%+v", q)
		assert.Equal(t, "nia@example.social", got.Rows[0].Last.Author.Handle)
	}
	_, err = st.InboxPage(ctx, parley.InboxQuery{After: "x"})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	ingest(t, st, nil, mention("123", "qi", "new", 3))
	v2, err := st.InboxVersion(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, v1, v2, "a new message changes the version")
}

// testInboxCaps: a search matching more messages than the inbox reads
// lists the conversations of the newest and says it is partial; a
// filtered count stops at its cap and says "at least"; a search or
// filter under the caps is exact, an unfiltered count always.
func testInboxCaps(t *testing.T, st Store) {
	ctx := context.Background()
	n := parley.InboxSearchCap + 5
	var ms []*parley.Mention
	for i := range n {
		m := mention(fmt.Sprint(1000+i), fmt.Sprint("fan", i), fmt.Sprintf("wheels number %d", i), i)
		if i%2 == 0 {
			m.Platform = "discord"
		}
		ms = append(ms, m)
	}
	ms = append(ms, mention("9000", "oldtimer", "refund broken wheels", -10))
	ingest(t, st, nil, ms...)
	now := t0.Add(48 * time.Hour)

	page, err := st.InboxPage(ctx, parley.InboxQuery{View: parley.ViewAll, Text: "wheels", Now: now, Limit: 500})
	require.NoError(t, err)
	assert.True(t, page.Partial, "more messages match than a search reads")
	assert.Equal(t, parley.InboxSearchCap, page.Counts[parley.ViewAll], "the conversations of the newest matches")
	assert.True(t, page.More[parley.ViewAll])
	assert.Equal(t, fmt.Sprintf("wheels number %d", n-1), page.Rows[0].Last.Text, "newest first")
	seen := map[int64]bool{}
	for page.Next != "" {
		for _, r := range page.Rows {
			assert.False(t, seen[r.Conversation.ID], "nothing twice")
			seen[r.Conversation.ID] = true
		}
		page, err = st.InboxPage(ctx, parley.InboxQuery{View: parley.ViewAll, Text: "wheels", Now: now, Limit: 500, After: page.Next})
		require.NoError(t, err)
	}
	for _, r := range page.Rows {
		seen[r.Conversation.ID] = true
	}
	assert.Len(t, seen, parley.InboxSearchCap, "every page of the newest matches")

	page, err = st.InboxPage(ctx, parley.InboxQuery{View: parley.ViewAll, Text: "refund broken", Now: now})
	require.NoError(t, err)
	assert.False(t, page.Partial)
	require.Len(t, page.Rows, 1, "an old message is found by a narrower search")
	assert.Equal(t, map[parley.ConversationView]int{parley.ViewNeedsReply: 1, parley.ViewUnassigned: 1, parley.ViewAll: 1,
		parley.ViewClosed: 0}, page.Counts)
	assert.Empty(t, page.More)

	page, err = st.InboxPage(ctx, parley.InboxQuery{Now: now})
	require.NoError(t, err)
	assert.Equal(t, n+1, page.Counts[parley.ViewNeedsReply], "unfiltered counts are exact")
	assert.Equal(t, n+1, page.Counts[parley.ViewAll])
	assert.Empty(t, page.More)

	page, err = st.InboxPage(ctx, parley.InboxQuery{Platform: "mastodon", Now: now})
	require.NoError(t, err)
	assert.Equal(t, n/2+1, page.Counts[parley.ViewNeedsReply], "a filtered count under its cap is exact")
	assert.Empty(t, page.More)
	page, err = st.InboxPage(ctx, parley.InboxQuery{Text: "@fan", Now: now})
	require.NoError(t, err)
	assert.True(t, page.Partial)
	page, err = st.InboxPage(ctx, parley.InboxQuery{Sentiment: parley.Neutral, Now: now})
	require.NoError(t, err)
	assert.Equal(t, parley.InboxSearchCap, page.Counts[parley.ViewNeedsReply], "a filtered count stops at its cap")
	assert.True(t, page.More[parley.ViewNeedsReply])
	assert.True(t, page.More[parley.ViewAll])
}

// testUndoWithinGrace: an approval held for a grace period is not claimed
// by the outbox before its deadline (judged by the store's clock, whatever
// the outbox says the time is) and can be undone until then; one without
// grace is claimed at once and cannot be undone.
func testUndoWithinGrace(t *testing.T, st Store) {
	ctx := context.Background()
	res := ingest(t, st, replyRule, mention("90", "gu", "hi", 0), mention("91", "ha", "hello", 1))
	require.Len(t, res.DraftIDs, 2)
	held, now := res.DraftIDs[0], time.Now()
	d, err := st.ApproveDraftHeld(ctx, held, "ana", "", time.Hour)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, d.State)
	assert.True(t, d.SendAfter.After(now), "the deadline is kept with the draft")
	claimed, err := st.ClaimDrafts(ctx, 10, now.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, claimed, "a held draft is not claimed before its deadline")

	d, err = st.UndoApproval(ctx, held, "ana")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Empty(t, d.DecidedBy)
	_, err = st.UndoApproval(ctx, held, "ana")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "a pending draft has no approval to undo")

	now = time.Now()
	_, err = st.ApproveDraftHeld(ctx, res.DraftIDs[1], "ana", "", 0)
	require.NoError(t, err)
	claimed, err = st.ClaimDrafts(ctx, 10, now)
	require.NoError(t, err)
	require.Len(t, claimed, 1, "no grace: claimed at once")
	assert.Equal(t, res.DraftIDs[1], claimed[0].ID)
	_, err = st.UndoApproval(ctx, res.DraftIDs[1], "ana")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "a draft being posted cannot be undone")
}

func testNotesTagsSavedReplies(t *testing.T, st Store) {
	ctx := context.Background()
	m := mention("95", "iv", "where is my order", 0)
	res := ingest(t, st, replyRule, m)
	require.Len(t, res.DraftIDs, 1)

	n, err := st.AddConversationNote(ctx, m.ThreadID, "ana", "  called them  ")
	require.NoError(t, err)
	assert.Equal(t, "called them", n.Text)
	_, err = st.AddConversationNote(ctx, m.ThreadID, "ana", " ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = st.AddConversationNote(ctx, 999999, "ana", "x")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	notes, err := st.ConversationNotes(ctx, m.ThreadID)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	assert.Equal(t, "ana", notes[0].Author)

	tags, err := st.TagConversation(ctx, m.ThreadID, "ana", "#Billing", false)
	require.NoError(t, err)
	assert.Equal(t, []string{"billing"}, tags)
	_, err = st.TagConversation(ctx, m.ThreadID, "ana", "billing", false)
	require.NoError(t, err, "tagging twice is no error")
	tags, err = st.TagConversation(ctx, m.ThreadID, "ana", "billing", true)
	require.NoError(t, err)
	assert.Empty(t, tags)

	r, err := st.SaveReply(ctx, "ana", parley.SavedReply{Title: "Order status", Text: "It ships soon."})
	require.NoError(t, err)
	assert.NotZero(t, r.ID)
	found, err := st.SavedReplies(ctx, "ORDER", "mastodon")
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.NoError(t, st.UseSavedReply(ctx, r.ID, res.DraftIDs[0]))
	_, err = st.ApproveDraft(ctx, res.DraftIDs[0], "ana", "")
	require.NoError(t, err)
	r, err = st.SavedReply(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, r.Uses, "an approved draft's use counts")
	require.NoError(t, st.DeleteSavedReply(ctx, "ana", r.ID))
	_, err = st.SavedReply(ctx, r.ID)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}
