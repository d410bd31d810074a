package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUsers(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)

	u, err := s.CreateUser(ctx, "ana", parley.RoleManager, "hash1")
	require.NoError(t, err)
	assert.Equal(t, "ana", u.Name)
	assert.Equal(t, parley.RoleManager, u.Role)
	assert.False(t, u.CreatedAt.IsZero())

	_, err = s.CreateUser(ctx, "ANA", parley.RoleAgent, "hash2")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "names are case-insensitive: %v", err)
	_, err = s.CreateUser(ctx, "bo b", parley.RoleAgent, "hash2")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = s.CreateUser(ctx, "bob", parley.Role("owner"), "hash2")
	assert.ErrorContains(t, err, "want admin, manager or agent")
	_, err = s.CreateUser(ctx, "bob", parley.RoleAgent, "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))

	got, err := s.User(ctx, "Ana")
	require.NoError(t, err)
	assert.Equal(t, "hash1", got.PasswordHash)

	require.NoError(t, s.SetUserPassword(ctx, "ana", "hash3"))
	require.NoError(t, s.SetUserRole(ctx, "ana", parley.RoleAdmin))
	require.NoError(t, s.RecordLogin(ctx, "ana", t0))
	got, err = s.User(ctx, "ana")
	require.NoError(t, err)
	assert.Equal(t, "hash3", got.PasswordHash)
	assert.Equal(t, parley.RoleAdmin, got.Role)
	assert.Equal(t, t0, got.LastLoginAt)

	_, err = s.CreateUser(ctx, "bob", parley.RoleAgent, "h")
	require.NoError(t, err)
	users, err := s.Users(ctx)
	require.NoError(t, err)
	require.Len(t, users, 2)
	assert.Equal(t, "ana", users[0].Name)

	require.NoError(t, s.DeleteUser(ctx, "bob"))
	_, err = s.User(ctx, "bob")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.DeleteUser(ctx, "bob")))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.SetUserPassword(ctx, "bob", "x")))
}

func TestRoles(t *testing.T) {
	r, err := parley.ParseRole(" Manager ")
	require.NoError(t, err)
	assert.Equal(t, parley.RoleManager, r)
	assert.True(t, parley.RoleAdmin.AtLeast(parley.RoleManager))
	assert.True(t, parley.RoleManager.AtLeast(parley.RoleManager))
	assert.False(t, parley.RoleAgent.AtLeast(parley.RoleManager))
	assert.False(t, parley.Role("").AtLeast(parley.RoleAgent))
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	now := t0
	s := storetest.Open(t, storetest.Clock(func() time.Time { return now }))
	ss := s.Sessions()

	_, found, err := ss.Find("nope")
	require.NoError(t, err)
	assert.False(t, found)

	require.NoError(t, ss.Commit("tok", []byte("one"), now.Add(time.Hour)))
	require.NoError(t, ss.Commit("tok", []byte("two"), now.Add(time.Hour)))
	require.NoError(t, ss.CommitCtx(ctx, "old", []byte("x"), now.Add(time.Minute)))
	b, found, err := ss.Find("tok")
	require.NoError(t, err)
	assert.True(t, found)
	assert.Equal(t, "two", string(b))
	all, err := ss.All()
	require.NoError(t, err)
	assert.Len(t, all, 2)

	now = now.Add(2 * time.Minute) // "old" expires
	_, found, err = ss.FindCtx(ctx, "old")
	require.NoError(t, err)
	assert.False(t, found, "an expired session is not found")
	n, err := ss.DeleteExpired(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	require.NoError(t, ss.Delete("tok"))
	require.NoError(t, ss.Delete("tok"), "deleting an unknown token is not an error")
	all, err = ss.AllCtx(ctx)
	require.NoError(t, err)
	assert.Empty(t, all)
	assert.NotNil(t, all)
}

// seedInbox stores three mentions with one draft each: a negative one
// tagged complaint, a positive one, and a Discord question.
func seedInbox(t *testing.T, s *store.Store) []int64 {
	t.Helper()
	m3 := mention("3", "cy", "when do you ship?", parley.Neutral, 2)
	m3.Platform = parley.PlatformDiscord
	res, err := s.IngestBatch(context.Background(), []*parley.Mention{
		mention("1", "ana", "broken again", parley.Negative, 0),
		mention("2", "bo", "love it", parley.Positive, 1),
		m3,
	}, func(m *parley.Mention, h parley.History) []parley.Draft {
		switch m.Sentiment.Label {
		case parley.Negative:
			m.Tags, m.Rules, m.Priority = []string{"complaint", "escalate"}, []string{"escalate", "complaint"}, 5
			return []parley.Draft{{Text: "sorry", Rule: "complaint", Priority: 5}}
		case parley.Positive:
			m.Tags, m.Rules = []string{"praise"}, []string{"thanks"}
			return []parley.Draft{{Text: "thanks", Rule: "thanks"}}
		}
		m.Tags, m.Rules = []string{"question", "shipping"}, []string{"question_shipping"}
		return []parley.Draft{{Text: "soon", Rule: "question_shipping"}}
	})
	require.NoError(t, err)
	require.Len(t, res.DraftIDs, 3)
	return res.DraftIDs
}

func TestInboxItems(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	ids := seedInbox(t, s)
	_, err := s.CreateUser(ctx, "ana", parley.RoleAgent, "h")
	require.NoError(t, err)

	items, err := s.InboxItems(ctx, parley.InboxFilter{})
	require.NoError(t, err)
	require.Len(t, items, 3)
	assert.Equal(t, ids[0], items[0].Draft.ID, "highest priority first")
	assert.Equal(t, "broken again", items[0].Mention.Text)
	assert.Equal(t, "ana@example.social", items[0].Person.Handle)
	assert.Equal(t, []string{"complaint", "escalate"}, items[0].Mention.Tags)

	count := func(f parley.InboxFilter) int {
		t.Helper()
		items, err := s.InboxItems(ctx, f)
		require.NoError(t, err)
		for _, it := range items {
			assert.True(t, f.Matches(it), "item %d matches %+v in Go too", it.Draft.ID, f)
		}
		return len(items)
	}
	assert.Equal(t, 1, count(parley.InboxFilter{Platform: parley.PlatformDiscord}))
	assert.Equal(t, 1, count(parley.InboxFilter{Sentiment: parley.Positive}))
	assert.Equal(t, 1, count(parley.InboxFilter{Tag: "escalate"}))
	assert.Equal(t, 0, count(parley.InboxFilter{Tag: "escal"}), "tags match whole")
	assert.Equal(t, 1, count(parley.InboxFilter{Rule: "escalate"}), "a matched rule counts")
	assert.Equal(t, 1, count(parley.InboxFilter{Rule: "question_shipping"}), "an underscore is no wildcard")
	assert.Equal(t, 0, count(parley.InboxFilter{Rule: "question%shipping"}))
	assert.Equal(t, 2, count(parley.InboxFilter{IDs: ids[1:]}))
	assert.Equal(t, 0, count(parley.InboxFilter{AssignedTo: "ana"}))

	v0, err := s.DraftsVersion(ctx)
	require.NoError(t, err)
	time.Sleep(2 * time.Millisecond)
	it, err := s.AssignDraft(ctx, ids[1], "ANA", "boss")
	require.NoError(t, err)
	assert.Equal(t, "ana", it.AssignedTo, "the stored spelling of the name")
	assert.Equal(t, 1, count(parley.InboxFilter{AssignedTo: "ana"}))
	v1, err := s.DraftsVersion(ctx)
	require.NoError(t, err)
	assert.True(t, v1.After(v0), "assigning counts as a change for watchers")
	changed, err := s.Drafts(ctx, parley.DraftFilter{UpdatedAfter: v0})
	require.NoError(t, err)
	require.Len(t, changed, 1)
	assert.Equal(t, ids[1], changed[0].ID)

	_, err = s.AssignDraft(ctx, ids[1], "nobody", "boss")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	it, err = s.AssignDraft(ctx, ids[1], "", "boss")
	require.NoError(t, err)
	assert.Empty(t, it.AssignedTo)

	_, err = s.ApproveDraft(ctx, ids[0], "ana", "")
	require.NoError(t, err)
	_, err = s.AssignDraft(ctx, ids[0], "ana", "boss")
	assert.ErrorContains(t, err, "already approved by ana")
	assert.Equal(t, 2, count(parley.InboxFilter{}), "approved drafts leave the inbox")
	it, err = s.InboxItem(ctx, ids[0])
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, it.Draft.State)
	assert.Equal(t, "broken again", it.Mention.Text)
	_, err = s.InboxItem(ctx, 999)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	f, err := s.InboxFacets(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"discord", "mastodon"}, f.Platforms)
	assert.Equal(t, []string{"praise", "question", "shipping"}, f.Tags)
	assert.Equal(t, []string{"question_shipping", "thanks"}, f.Rules)

	entries, err := s.AuditEntries(ctx, parley.AuditFilter{Action: "assign"})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "released", entries[0].Detail)
	assert.Equal(t, "assigned to ana", entries[1].Detail)
}

func TestQueueReplyAndThread(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	seedInbox(t, s)
	m, err := s.Mention(ctx, 2)
	require.NoError(t, err)

	d, err := s.QueueReply(ctx, m.ID, "ana", "glad you like it!")
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, d.State)
	assert.Equal(t, parley.KindReply, d.Kind)
	assert.Equal(t, m.ThreadID, d.ThreadID)
	assert.Equal(t, m.PersonID, d.PersonID)
	assert.Equal(t, m.ID, d.MentionID)
	assert.Equal(t, m.Platform, d.Platform)

	_, err = s.QueueReply(ctx, m.ID, "ana", "  ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = s.QueueReply(ctx, 404, "ana", "hi")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	// The written reply replaced the rule's pending draft of the
	// conversation: one pending reply per conversation.
	entries, err := s.AuditEntries(ctx, parley.AuditFilter{Actor: "ana"})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, "write", entries[0].Action)
	assert.Equal(t, d.ID, entries[0].DraftID)
	assert.Equal(t, "supersede", entries[1].Action)
	old, err := s.Draft(ctx, entries[1].DraftID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, old.State)
	pending, err := s.Drafts(ctx, parley.DraftFilter{ThreadID: m.ThreadID, States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, d.ID, pending[0].ID)

	th, err := s.Thread(ctx, m.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, "2", th.RootKey)
	_, err = s.Thread(ctx, 404)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

func TestNotesLinksOptOut(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	seedInbox(t, s) // people 1 (ana), 2 (bo), 3 (cy)

	n, err := s.AddNote(ctx, 1, "boss", "  called her back  ")
	require.NoError(t, err)
	assert.Equal(t, "called her back", n.Text)
	_, err = s.AddNote(ctx, 1, "boss", "second")
	require.NoError(t, err)
	_, err = s.AddNote(ctx, 404, "boss", "x")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	_, err = s.AddNote(ctx, 1, "boss", " ")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	notes, err := s.Notes(ctx, 1)
	require.NoError(t, err)
	require.Len(t, notes, 2)
	assert.Equal(t, "second", notes[0].Text)

	linked := func(id int64) []int64 {
		t.Helper()
		ps, err := s.LinkedPeople(ctx, id)
		require.NoError(t, err)
		var ids []int64
		for _, p := range ps {
			ids = append(ids, p.ID)
		}
		return ids
	}
	assert.Empty(t, linked(1))
	require.NoError(t, s.LinkPeople(ctx, 1, 3, "boss"))
	assert.Equal(t, []int64{3}, linked(1))
	assert.Equal(t, []int64{1}, linked(3))
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(s.LinkPeople(ctx, 3, 1, "boss")))
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(s.LinkPeople(ctx, 2, 2, "boss")))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.LinkPeople(ctx, 2, 404, "boss")))
	require.NoError(t, s.LinkPeople(ctx, 2, 3, "boss"))
	assert.ElementsMatch(t, []int64{2, 3}, linked(1), "linking joins the group")

	require.NoError(t, s.UnlinkPerson(ctx, 3, "boss"))
	assert.Equal(t, []int64{2}, linked(1), "the others stay linked")
	assert.Empty(t, linked(3))
	require.NoError(t, s.UnlinkPerson(ctx, 1, "boss"))
	assert.Empty(t, linked(2), "a group of one is dissolved")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.UnlinkPerson(ctx, 2, "boss")))

	p, err := s.SetOptOut(ctx, 2, true, "boss", "asked by DM")
	require.NoError(t, err)
	assert.True(t, p.OptedOut)
	p, err = s.SetOptOut(ctx, 2, false, "boss", "")
	require.NoError(t, err)
	assert.False(t, p.OptedOut)
	_, err = s.SetOptOut(ctx, 404, true, "boss", "")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	entries, err := s.AuditEntries(ctx, parley.AuditFilter{PersonID: 2})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	assert.Equal(t, []string{"optin", "optout", "link"}, actions)
	acts, err := s.AuditActions(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"link", "note", "optin", "optout", "unlink"}, acts)

	found, err := s.SearchPeople(ctx, "@BO", 0)
	require.NoError(t, err)
	require.Len(t, found, 1)
	assert.Equal(t, int64(2), found[0].ID)
}

func TestAddAudit(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	e, err := s.AddAudit(ctx, parley.AuditEntry{Actor: "ana", Action: "login", Detail: "from 127.0.0.1"})
	require.NoError(t, err)
	assert.NotZero(t, e.ID)
	_, err = s.AddAudit(ctx, parley.AuditEntry{Actor: "ana"})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	for range 3 {
		_, err = s.AddAudit(ctx, parley.AuditEntry{Actor: "bo", Action: "login"})
		require.NoError(t, err)
	}
	page, err := s.AuditEntries(ctx, parley.AuditFilter{Limit: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	rest, err := s.AuditEntries(ctx, parley.AuditFilter{BeforeID: page[1].ID})
	require.NoError(t, err)
	require.Len(t, rest, 2)
	assert.Equal(t, "ana", rest[1].Actor)
	all, err := s.Audit(ctx, 10)
	require.NoError(t, err)
	assert.Len(t, all, 4, "the store's Audit sees them too")
}
