package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// replyRule drafts a reply to every mention whose text does not say
// "nothing", naming the mention it answers and what the rules saw.
func replyRule(m *parley.Mention, h parley.History) []parley.Draft {
	if strings.Contains(m.Text, "nothing") {
		return nil
	}
	return []parley.Draft{{Rule: "answer", Text: "re " + m.ExternalID}}
}

func threadDrafts(t *testing.T, s *store.Store, threadID int64) map[parley.DraftState][]parley.Draft {
	t.Helper()
	ds, err := s.Drafts(context.Background(), parley.DraftFilter{ThreadID: threadID})
	require.NoError(t, err)
	out := map[parley.DraftState][]parley.Draft{}
	for _, d := range ds {
		out[d.State] = append(out[d.State], d)
	}
	return out
}

func TestOnePendingReplyPerConversation(t *testing.T) {
	ctx := context.Background()
	followUp := func(id, text string, minutes int) *parley.Mention {
		m := mention(id, "ana", text, parley.Negative, minutes)
		m.InReplyTo = "1"
		return m
	}
	tests := []struct {
		name string
		// batches after the first message "1" (which gets a draft)
		edit        bool // a person edits the first draft before the rest arrive
		batches     [][]*parley.Mention
		wantPending string // text of the one pending draft
		wantSuper   int    // superseded drafts
		wantFlagged bool   // the pending draft says a newer message came
		wantAnswers string // external id the pending draft answers
	}{
		{name: "new message replaces the rule's draft",
			batches:     [][]*parley.Mention{{followUp("2", "still broken", 5)}},
			wantPending: "re 2", wantSuper: 1, wantAnswers: "2"},
		{name: "new message after an edit keeps the edit",
			edit: true, batches: [][]*parley.Mention{{followUp("2", "still broken", 5)}},
			wantPending: "edited by a person", wantFlagged: true, wantAnswers: "1"},
		{name: "two messages in one batch",
			batches:     [][]*parley.Mention{{followUp("2", "still broken", 5), followUp("3", "hello??", 6)}},
			wantPending: "re 3", wantSuper: 2, wantAnswers: "3"},
		{name: "a message that matches no rule keeps the draft, marked",
			batches:     [][]*parley.Mention{{followUp("2", "nothing to add", 5)}},
			wantPending: "re 1", wantFlagged: true, wantAnswers: "1"},
		{name: "edit, then two batches",
			edit:        true,
			batches:     [][]*parley.Mention{{followUp("2", "x", 5)}, {followUp("3", "y", 9)}},
			wantPending: "edited by a person", wantFlagged: true, wantAnswers: "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storetest.Open(t)
			first := mention("1", "ana", "my wheels broke", parley.Negative, 0)
			_, err := s.IngestBatch(ctx, []*parley.Mention{first}, replyRule)
			require.NoError(t, err)
			if tt.edit {
				ds := threadDrafts(t, s, first.ThreadID)[parley.DraftPending]
				require.Len(t, ds, 1)
				_, err := s.EditDraft(ctx, ds[0].ID, "ben", "edited by a person")
				require.NoError(t, err)
			}
			var last *parley.Mention
			for _, b := range tt.batches {
				_, err := s.IngestBatch(ctx, b, replyRule)
				require.NoError(t, err)
				last = b[len(b)-1]
			}
			byState := threadDrafts(t, s, first.ThreadID)
			require.Len(t, byState[parley.DraftPending], 1, "one pending reply per conversation")
			p := byState[parley.DraftPending][0]
			assert.Equal(t, tt.wantPending, p.Text)
			assert.Len(t, byState[parley.DraftSuperseded], tt.wantSuper)
			m, err := s.Mention(ctx, p.MentionID)
			require.NoError(t, err)
			assert.Equal(t, tt.wantAnswers, m.ExternalID)
			if tt.wantFlagged {
				assert.Equal(t, last.CreatedAt, p.NewMessageAt)
			} else {
				assert.True(t, p.NewMessageAt.IsZero())
			}
			c, err := s.Conversation(ctx, first.ThreadID)
			require.NoError(t, err)
			assert.Equal(t, parley.NeedsReply, c.State)
			assert.Equal(t, last.ID, c.LastMentionID)
			assert.Equal(t, p.ID, c.PendingDraftID)
			assert.Equal(t, first.CreatedAt, c.WaitingSince, "the clock runs from the first unanswered post")
			for _, d := range byState[parley.DraftSuperseded] {
				_, err := s.ApproveDraft(ctx, d.ID, "ben", "")
				assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "a superseded draft is never approved")
			}
		})
	}
}

// A prompt waits beside the conversation's reply: superseding the reply
// leaves the prompt alone, and a person has one pending prompt at most.
func TestPromptBesideReply(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	first := mention("1", "ana", "love it", parley.Positive, 0)
	_, err := s.IngestBatch(ctx, []*parley.Mention{first}, replyRule)
	require.NoError(t, err)
	p, err := s.QueuePrompt(ctx, ask(first.PersonID, "review", noon), policy)
	require.NoError(t, err)
	second := mention("2", "ana", "really love it", parley.Positive, 5)
	second.InReplyTo = "1"
	_, err = s.IngestBatch(ctx, []*parley.Mention{second}, replyRule)
	require.NoError(t, err)

	prompt, err := s.Draft(ctx, p.DraftID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftPending, prompt.State)
	replies := threadDrafts(t, s, first.ThreadID)
	require.Len(t, replies[parley.DraftPending], 1)
	assert.Equal(t, "re 2", replies[parley.DraftPending][0].Text)
	_, err = s.QueuePrompt(ctx, ask(first.PersonID, "beta", noon), policy)
	require.Error(t, err, "one pending prompt per person")
	pending, err := s.Drafts(ctx, parley.DraftFilter{PersonID: first.PersonID, States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	assert.Len(t, pending, 2, "the reply and the prompt")
}

func TestConversationStatesAndClocks(t *testing.T) {
	ctx := context.Background()
	clock := t0.Add(time.Hour)
	s := storetest.Open(t, storetest.Clock(func() time.Time { return clock }))
	a := mention("1", "ana", "broken", parley.Negative, 0)
	_, err := s.IngestBatch(ctx, []*parley.Mention{a}, replyRule)
	require.NoError(t, err)
	c, err := s.Conversation(ctx, a.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.NeedsReply, c.State)
	assert.Equal(t, a.CreatedAt, c.WaitingSince, "the clock starts at the post, not when it was stored")
	assert.Equal(t, time.Hour, c.Waited(clock))

	// Our reply goes out: the conversation waits on ana.
	_, err = s.ApproveDraft(ctx, c.PendingDraftID, "ben", "")
	require.NoError(t, err)
	claimed, err := s.ClaimDrafts(ctx, 10, clock)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, s.MarkSent(ctx, claimed[0].ID, "p1", t0.Add(90*time.Minute)))
	c, err = s.Conversation(ctx, a.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.Waiting, c.State)
	assert.True(t, c.WaitingSince.IsZero())
	assert.Equal(t, t0.Add(90*time.Minute), c.FirstResponseAt)

	// She answers: it needs a reply again, the next-response clock from her post.
	b := mention("2", "ana", "nothing works", parley.Negative, 120)
	b.InReplyTo = "p1" // our post
	_, err = s.IngestBatch(ctx, []*parley.Mention{b}, replyRule)
	require.NoError(t, err)
	assert.Equal(t, a.ThreadID, b.ThreadID)
	c, err = s.Conversation(ctx, a.ThreadID)
	require.NoError(t, err)
	assert.Equal(t, parley.NeedsReply, c.State)
	assert.Equal(t, b.CreatedAt, c.WaitingSince)
	assert.Equal(t, 2, c.Messages)

	// Close, snooze, reopen, assign: each in the audit log.
	c, err = s.SetConversationState(ctx, c.ID, "ben", parley.Closed, time.Time{}, "handled by email")
	require.NoError(t, err)
	assert.Equal(t, parley.Closed, c.State)
	list, err := s.Conversations(ctx, parley.ConversationFilter{View: parley.ViewNeedsReply})
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = s.SetConversationState(ctx, c.ID, "ben", parley.Snoozed, clock.Add(-time.Minute), "")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	c, err = s.SetConversationState(ctx, c.ID, "ben", parley.Snoozed, clock.Add(time.Hour), "")
	require.NoError(t, err)
	assert.Equal(t, parley.Snoozed, c.Effective(clock))
	assert.Equal(t, parley.NeedsReply, c.Effective(clock.Add(2*time.Hour)))
	list, err = s.Conversations(ctx, parley.ConversationFilter{View: parley.ViewNeedsReply, Now: clock.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, list, 1, "a snooze that ran out needs a reply")
	_, err = s.AssignConversation(ctx, c.ID, "ben", "nobody")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	entries, err := s.AuditEntries(ctx, parley.AuditFilter{Actor: "ben"})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	assert.Contains(t, actions, "close")
	assert.Contains(t, actions, "snooze")
}

func TestWriteReplyTarget(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := mention("1", "ana", "my order?", parley.Neutral, 0)
	b := mention("2", "marcus", "same here", parley.Negative, 5)
	b.InReplyTo = "1"
	other := mention("9", "cy", "elsewhere", parley.Neutral, 1)
	_, err := s.IngestBatch(ctx, []*parley.Mention{a, b, other}, nil)
	require.NoError(t, err)

	d, err := s.WriteReply(ctx, a.ThreadID, 0, "ben", "on it")
	require.NoError(t, err)
	assert.Equal(t, b.ID, d.MentionID, "by default the newest customer message")
	assert.Equal(t, b.PersonID, d.PersonID)
	d2, err := s.WriteReply(ctx, a.ThreadID, a.ID, "ben", "ana: on it")
	require.NoError(t, err)
	assert.Equal(t, a.ID, d2.MentionID)
	assert.Equal(t, a.PersonID, d2.PersonID)
	old, err := s.Draft(ctx, d.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, old.State)
	_, err = s.WriteReply(ctx, a.ThreadID, other.ID, "ben", "wrong thread")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}
