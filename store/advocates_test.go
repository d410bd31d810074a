package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

const day = 24 * time.Hour

// policy is the default consent policy: 1 prompt per 30 days, 14 days of
// cooldown, quiet 21:00-09:00, brand in Berlin, watched for 7 days.
var policy = parley.ConsentPolicy{MaxPrompts: 1, Per: 30 * day, Cooldown: 14 * day,
	QuietStart: 21 * time.Hour, QuietEnd: 9 * time.Hour, TimeZone: "Europe/Berlin", WatchFor: 7 * day}

// noon is 2026-11-02 12:00 UTC: 13:00 in Berlin, 05:00 in Denver.
var noon = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// person ingests one mention by author (a new person) and returns its id.
func person(t *testing.T, s *store.Store, author string, at time.Time, label parley.Label, edit func(*parley.Mention)) int64 {
	t.Helper()
	m := mention(author+"-"+at.Format("0102150405"), author, "hello @brand", label, 0)
	m.CreatedAt = at
	if edit != nil {
		edit(m)
	}
	_, err := s.IngestBatch(context.Background(), []*parley.Mention{m}, nil)
	require.NoError(t, err)
	return m.PersonID
}

func ask(personID int64, a string, at time.Time) parley.PromptRequest {
	return parley.PromptRequest{PersonID: personID, Rule: "invite-" + a, Template: a, Ask: a, Text: "Would you " + a + "?", At: at}
}

func refusal(t *testing.T, err error) string {
	t.Helper()
	var ce *parley.ConsentError
	require.True(t, errors.As(err, &ce), "want a consent refusal, got %v", err)
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	return ce.Reason
}

// sendPrompt approves, claims and marks a prompt sent at at.
func sendPrompt(t *testing.T, s *store.Store, id int64, at time.Time) {
	t.Helper()
	ctx := context.Background()
	d, err := s.Draft(ctx, id)
	require.NoError(t, err)
	if d.State == parley.DraftPending {
		_, err = s.ApproveDraft(ctx, id, "ana", "")
		require.NoError(t, err)
	}
	claimed, err := s.ClaimDrafts(ctx, 100, time.Now())
	require.NoError(t, err)
	for _, c := range claimed {
		if c.ID != id {
			require.NoError(t, s.MarkFailed(ctx, c.ID, "not this test's", time.Now().Add(time.Hour)))
		}
	}
	require.NoError(t, s.MarkSent(ctx, id, "posted-"+d.Rule, at))
}

func TestQueuePromptConsentRules(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)

	t.Run("queued pending, once per ask", func(t *testing.T) {
		id := person(t, s, "happy", noon.Add(-20*day), parley.Positive, nil)
		p, err := s.QueuePrompt(ctx, ask(id, "review", noon), policy)
		require.NoError(t, err)
		assert.Equal(t, parley.DraftPending, p.State)
		d, err := s.Draft(ctx, p.DraftID)
		require.NoError(t, err)
		assert.Equal(t, parley.KindPrompt, d.Kind)
		assert.Equal(t, "review", d.Rule, "the draft's rule is the template, as the digest groups prompts")
		assert.Zero(t, d.MentionID)
		assert.Equal(t, id, d.PersonID)

		// Same ask, even 60 days later when the cap no longer stands.
		sendPrompt(t, s, p.DraftID, noon)
		_, err = s.QueuePrompt(ctx, ask(id, "review", noon.Add(60*day)), policy)
		assert.Equal(t, parley.RefusedSameAsk, refusal(t, err))
		// Another ask then is fine.
		_, err = s.QueuePrompt(ctx, ask(id, "beta", noon.Add(60*day)), policy)
		require.NoError(t, err)
	})

	t.Run("frequency cap", func(t *testing.T) {
		id := person(t, s, "capped", noon.Add(-20*day), parley.Positive, nil)
		first, err := s.QueuePrompt(ctx, ask(id, "review", noon), policy)
		require.NoError(t, err)
		// A waiting prompt counts.
		_, err = s.QueuePrompt(ctx, ask(id, "beta", noon.Add(time.Hour)), policy)
		assert.Equal(t, parley.RefusedCap, refusal(t, err))
		// Sent: it counts for 30 days after sending.
		sendPrompt(t, s, first.DraftID, noon.Add(2*day))
		_, err = s.QueuePrompt(ctx, ask(id, "beta", noon.Add(31*day)), policy)
		var ce *parley.ConsentError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, parley.RefusedCap, ce.Reason)
		assert.Equal(t, noon.Add(32*day), ce.Until, "the cap lifts 30 days after the prompt was sent")
		_, err = s.QueuePrompt(ctx, ask(id, "beta", noon.Add(32*day+time.Minute)), policy)
		require.NoError(t, err)

		// A cap of 2 allows a second one; a cap of 0 turns prompts off.
		two := policy
		two.MaxPrompts = 2
		id2 := person(t, s, "twice", noon.Add(-20*day), parley.Positive, nil)
		_, err = s.QueuePrompt(ctx, ask(id2, "review", noon), two)
		require.NoError(t, err)
		_, err = s.QueuePrompt(ctx, ask(id2, "beta", noon), two)
		require.NoError(t, err)
		_, err = s.QueuePrompt(ctx, ask(id2, "survey", noon), two)
		assert.Equal(t, parley.RefusedCap, refusal(t, err))
		off := policy
		off.MaxPrompts = 0
		_, err = s.QueuePrompt(ctx, ask(person(t, s, "nobody", noon, parley.Positive, nil), "review", noon), off)
		assert.Equal(t, parley.RefusedCap, refusal(t, err))

		// A prompt a manager rejected was never sent: it does not count.
		id3 := person(t, s, "rejected", noon.Add(-20*day), parley.Positive, nil)
		p, err := s.QueuePrompt(ctx, ask(id3, "review", noon), policy)
		require.NoError(t, err)
		_, err = s.RejectDraft(ctx, p.DraftID, "ana", "not now")
		require.NoError(t, err)
		_, err = s.QueuePrompt(ctx, ask(id3, "beta", noon), policy)
		require.NoError(t, err)
	})

	t.Run("cooldown after a negative mention", func(t *testing.T) {
		id := person(t, s, "grumpy", noon.Add(-3*day), parley.Negative, nil)
		_, err := s.QueuePrompt(ctx, ask(id, "review", noon), policy)
		var ce *parley.ConsentError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, parley.RefusedCooldown, ce.Reason)
		assert.Equal(t, noon.Add(11*day), ce.Until)
		assert.Contains(t, ce.Msg, "14 days cooldown")
		_, err = s.QueuePrompt(ctx, ask(id, "review", noon.Add(11*day+time.Minute)), policy)
		require.NoError(t, err)
		// A negative mention made after the prompt time does not count
		// against it (a replay queues as of a past date).
		id2 := person(t, s, "later", noon.Add(day), parley.Negative, nil)
		_, err = s.QueuePrompt(ctx, ask(id2, "review", noon), policy)
		require.NoError(t, err)
	})

	t.Run("quiet hours in the person's zone, else the brand's", func(t *testing.T) {
		denver := person(t, s, "hank", noon.Add(-20*day), parley.Positive, func(m *parley.Mention) {
			m.Author.TimeZone = "America/Denver"
		})
		berlin := person(t, s, "nozone", noon.Add(-20*day), parley.Positive, nil)
		bogus := person(t, s, "bogus", noon.Add(-20*day), parley.Positive, func(m *parley.Mention) {
			m.Author.TimeZone = "Mars/Olympus_Mons"
		})
		// 12:00 UTC is 05:00 in Denver (quiet until 09:00 there, 16:00 UTC)
		// and 13:00 in Berlin.
		_, err := s.QueuePrompt(ctx, ask(denver, "review", noon), policy)
		var ce *parley.ConsentError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, parley.RefusedQuietHours, ce.Reason)
		assert.True(t, ce.Until.Equal(time.Date(2026, 11, 2, 16, 0, 0, 0, time.UTC)), "until %v", ce.Until)
		assert.Contains(t, ce.Msg, "America/Denver")
		_, err = s.QueuePrompt(ctx, ask(berlin, "review", noon), policy)
		require.NoError(t, err)
		// 21:30 UTC is 22:30 in Berlin (quiet until 09:00 tomorrow) and
		// 14:30 in Denver. An unknown zone falls back to the brand's.
		late := time.Date(2026, 11, 2, 21, 30, 0, 0, time.UTC)
		_, err = s.QueuePrompt(ctx, ask(bogus, "review", late), policy)
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, parley.RefusedQuietHours, ce.Reason)
		assert.True(t, ce.Until.Equal(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)), "until %v", ce.Until)
		_, err = s.QueuePrompt(ctx, ask(denver, "review", late), policy)
		require.NoError(t, err)
		// No brand zone: UTC.
		utc := policy
		utc.TimeZone = ""
		_, err = s.QueuePrompt(ctx, ask(bogus, "review", late), utc)
		assert.Equal(t, parley.RefusedQuietHours, refusal(t, err))
		_, err = s.QueuePrompt(ctx, ask(bogus, "review", noon.Add(day)), utc)
		require.NoError(t, err)
	})

	t.Run("never to nobot or opted-out people", func(t *testing.T) {
		nobot := person(t, s, "rhea", noon.Add(-20*day), parley.Positive, func(m *parley.Mention) { m.Author.NoBot = true })
		_, err := s.QueuePrompt(ctx, ask(nobot, "review", noon), policy)
		assert.Equal(t, parley.RefusedNoBot, refusal(t, err))

		out := person(t, s, "quiet", noon.Add(-20*day), parley.Positive, nil)
		_, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: out, Actor: "ana", Reason: "asked by email"})
		require.NoError(t, err)
		_, err = s.QueuePrompt(ctx, ask(out, "review", noon), policy)
		assert.Equal(t, parley.RefusedOptedOut, refusal(t, err))
		res, err := s.OptIn(ctx, out, "ana", "asked to be invited again")
		require.NoError(t, err)
		assert.True(t, res.Changed)
		_, err = s.QueuePrompt(ctx, ask(out, "review", noon), policy)
		require.NoError(t, err)
	})

	t.Run("bad requests", func(t *testing.T) {
		_, err := s.QueuePrompt(ctx, ask(9999, "review", noon), policy)
		assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
		req := ask(1, "review", noon)
		req.Text = "  "
		_, err = s.QueuePrompt(ctx, req, policy)
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	})
}

func TestAutoApprovedPromptIsAudited(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	id := person(t, s, "fan", noon.Add(-2*day), parley.Positive, nil)
	req := ask(id, "beta", noon)
	req.AutoApprove = true
	p, err := s.QueuePrompt(ctx, req, policy)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftApproved, p.State)
	d, err := s.Draft(ctx, p.DraftID)
	require.NoError(t, err)
	assert.Equal(t, "rule:invite-beta", d.DecidedBy)
	entries, err := s.Audit(ctx, 10)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" by "+e.Actor)
	}
	assert.Contains(t, actions, "approve by rule:invite-beta")
	assert.Contains(t, actions, "prompt by parley")
}

func TestOptOutWithdrawsWaitingPromptsAndAcksOnce(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	// A fan with a pending prompt, an approved one (cap 2) and a reply
	// draft to their "stop" message waiting in the queue.
	two := policy
	two.MaxPrompts = 2
	id := person(t, s, "jules", noon.Add(-20*day), parley.Positive, nil)
	pending, err := s.QueuePrompt(ctx, ask(id, "review", noon), two)
	require.NoError(t, err)
	approvedReq := ask(id, "beta", noon)
	approvedReq.AutoApprove = true
	approved, err := s.QueuePrompt(ctx, approvedReq, two)
	require.NoError(t, err)
	stop := mention("stop-1", "jules", "STOP please", parley.Neutral, 0)
	stop.CreatedAt = noon.Add(time.Hour)
	stop.Direct = true
	_, err = s.IngestBatch(ctx, []*parley.Mention{stop}, func(m *parley.Mention, h parley.History) []parley.Draft {
		return []parley.Draft{{Text: "Hi! How can we help?", Rule: "question-other"}}
	})
	require.NoError(t, err)

	res, err := s.OptOut(ctx, parley.OptOutRequest{PersonID: id, Actor: "parley", Reason: `said "stop"`,
		MentionID: stop.ID, Ack: "Understood: no more invitations."})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.True(t, res.Person.OptedOut)
	assert.Equal(t, []int64{pending.DraftID, approved.DraftID}, res.Withdrawn)
	require.NotZero(t, res.AckDraftID)

	for _, draftID := range res.Withdrawn {
		d, err := s.Draft(ctx, draftID)
		require.NoError(t, err)
		assert.Equal(t, parley.DraftRejected, d.State)
		assert.Equal(t, "parley", d.DecidedBy)
	}
	prompts, err := s.PersonPrompts(ctx, id)
	require.NoError(t, err)
	require.Len(t, prompts, 2)
	for _, p := range prompts {
		assert.Equal(t, parley.OutcomeWithdrawn, p.Outcome)
		assert.Equal(t, "withdrawn", p.Status(noon))
	}
	ack, err := s.Draft(ctx, res.AckDraftID)
	require.NoError(t, err)
	assert.Equal(t, parley.KindReply, ack.Kind)
	assert.Equal(t, parley.DraftApproved, ack.State)
	assert.True(t, ack.AutoApprove)
	assert.Equal(t, stop.ID, ack.MentionID)
	assert.Equal(t, stop.ThreadID, ack.ThreadID)
	assert.Equal(t, "Understood: no more invitations.", ack.Text)
	// The rule's reply to the same message gave way to the acknowledgement.
	replies, err := s.Drafts(ctx, parley.DraftFilter{PersonID: id, States: []parley.DraftState{parley.DraftRejected}})
	require.NoError(t, err)
	assert.Len(t, replies, 3)

	entries, err := s.Audit(ctx, 50)
	require.NoError(t, err)
	var rejects, optouts int
	for _, e := range entries {
		switch {
		case e.Action == "reject" && e.Actor == "parley" && e.Detail == "opted out":
			rejects++
		case e.Action == "optout":
			optouts++
			assert.Equal(t, "parley", e.Actor)
			assert.Contains(t, e.Detail, `said "stop"`)
		}
	}
	assert.Equal(t, 2, rejects)
	assert.Equal(t, 1, optouts)

	// Once: asking again changes nothing and queues no second ack.
	again, err := s.OptOut(ctx, parley.OptOutRequest{PersonID: id, Actor: "parley", Reason: "again",
		MentionID: stop.ID, Ack: "Understood."})
	require.NoError(t, err)
	assert.False(t, again.Changed)
	assert.Zero(t, again.AckDraftID)
	log, err := s.ConsentLog(ctx, id)
	require.NoError(t, err)
	require.Len(t, log, 1)

	// #nobot people are opted out without a reply.
	nb := person(t, s, "rhea", noon, parley.Neutral, func(m *parley.Mention) { m.Author.NoBot = true })
	ms, err := s.PersonMentions(ctx, nb, 1)
	require.NoError(t, err)
	res, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: nb, Actor: "parley", MentionID: ms[0].ID, Ack: "Understood."})
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Zero(t, res.AckDraftID)

	_, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: 9999, Actor: "ana"})
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	_, err = s.OptOut(ctx, parley.OptOutRequest{PersonID: id})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}

func TestPromptOutcomesAndConversion(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	var sent []parley.Prompt
	for i, name := range []string{"a", "b", "c", "d"} {
		id := person(t, s, name, noon.Add(-20*day), parley.Positive, nil)
		tmpl := "review"
		if i == 3 {
			tmpl = "beta"
		}
		req := ask(id, tmpl, noon)
		p, err := s.QueuePrompt(ctx, req, policy)
		require.NoError(t, err)
		sendPrompt(t, s, p.DraftID, noon.Add(time.Hour))
		sent = append(sent, p)
	}
	// A prompt never sent is not watched and not counted.
	waiting, err := s.QueuePrompt(ctx, ask(person(t, s, "e", noon.Add(-20*day), parley.Positive, nil), "review", noon), policy)
	require.NoError(t, err)

	ids := []int64{sent[0].PersonID, sent[1].PersonID, sent[2].PersonID, sent[3].PersonID, waiting.PersonID}
	watched, err := s.WatchedPrompts(ctx, ids)
	require.NoError(t, err)
	require.Len(t, watched, 4)
	assert.Equal(t, noon.Add(time.Hour), watched[0].SentAt)
	assert.Equal(t, noon.Add(time.Hour+7*day), watched[0].WatchUntil())
	assert.Equal(t, "watching", watched[0].Status(noon.Add(2*time.Hour)))

	require.NoError(t, s.SetPromptOutcome(ctx, sent[0].DraftID, parley.OutcomeConverted, 0, "posted the link", noon.Add(2*day)))
	err = s.SetPromptOutcome(ctx, sent[0].DraftID, parley.OutcomeDeclined, 0, "", noon.Add(3*day))
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	require.NoError(t, s.SetPromptOutcome(ctx, sent[1].DraftID, parley.OutcomeDeclined, 0, `said "no thanks"`, noon.Add(2*day)))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.SetPromptOutcome(ctx, 9999, parley.OutcomeConverted, 0, "", noon)))

	// Silence: nothing before the window closes, expired after.
	n, err := s.ExpirePrompts(ctx, noon.Add(7*day))
	require.NoError(t, err)
	assert.Zero(t, n)
	n, err = s.ExpirePrompts(ctx, noon.Add(time.Hour+7*day))
	require.NoError(t, err)
	assert.Equal(t, 2, n, "c and d said nothing")
	watched, err = s.WatchedPrompts(ctx, ids)
	require.NoError(t, err)
	assert.Empty(t, watched)

	stats, err := s.PromptConversion(ctx, noon, noon.Add(day))
	require.NoError(t, err)
	require.Len(t, stats, 2)
	assert.Equal(t, parley.PromptStats{Template: "review", Sent: 3, Converted: 1, Declined: 1, Expired: 1}, stats[0])
	assert.InDelta(t, 1.0/3, stats[0].Rate(), 1e-9)
	assert.Equal(t, parley.PromptStats{Template: "beta", Sent: 1, Expired: 1}, stats[1])
	none, err := s.PromptConversion(ctx, noon.Add(day), noon.Add(2*day))
	require.NoError(t, err)
	assert.Empty(t, none)

	// What rules see: the prompts, newest first, with outcomes.
	h, err := s.AdvocateHistory(ctx, sent[1].PersonID, noon.Add(-90*day), noon.Add(day))
	require.NoError(t, err)
	require.Len(t, h.Prompts, 1)
	assert.Equal(t, parley.OutcomeDeclined, h.Prompts[0].Outcome)
	assert.Equal(t, `said "no thanks"`, h.Prompts[0].OutcomeDetail)
}

func TestAdvocateScoresStatesAndChanges(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	// Ana posts twice; Ben replies to her first post (engagement), Ana
	// replies to herself (does not count).
	a1 := mention("a1", "ana", "love the deck", parley.Positive, 0)
	a2 := mention("a2", "ana", "still love it", parley.Positive, 60*24)
	b1 := mention("b1", "ben", "@ana same!", parley.Positive, 60)
	b1.InReplyTo = "a1"
	a3 := mention("a3", "ana", "@ana me too", parley.Neutral, 120)
	a3.InReplyTo = "a1"
	old := mention("old", "cy", "ages ago", parley.Positive, -200*24*60)
	_, err := s.IngestBatch(ctx, []*parley.Mention{a1, a2, b1, a3, old}, nil)
	require.NoError(t, err)
	since, until := t0.Add(-90*day), t0.Add(10*day)

	hs, err := s.AdvocateHistories(ctx, since, until)
	require.NoError(t, err)
	require.Len(t, hs, 2, "cy posted before the window and has no state")
	ana := hs[0]
	assert.Equal(t, "ana", ana.Person.ExternalID)
	require.Len(t, ana.Mentions, 3)
	assert.Equal(t, "a1", ana.Mentions[0].ExternalID, "oldest first")
	assert.Equal(t, 1, ana.RepliesReceived)
	assert.Zero(t, hs[1].RepliesReceived)

	changes, err := s.SaveAdvocates(ctx, []parley.AdvocateUpdate{
		{PersonID: ana.Person.ID, Score: 7.5, From: "", To: parley.AdvocateActive, Reason: "score 7.50 ≥ 6", Note: "n"},
		{PersonID: hs[1].Person.ID, Score: 1.25, From: "", To: ""},
		// A stale From (someone moved the state meanwhile) keeps the state.
		{PersonID: hs[1].Person.ID, Score: 1.5, From: parley.AdvocateCandidate, To: parley.AdvocateActive},
	}, t0.Add(day))
	require.NoError(t, err)
	require.Len(t, changes, 1)
	assert.Equal(t, "ana@example.social", changes[0].Handle)
	assert.Equal(t, "parley", changes[0].Actor)
	ben, err := s.Person(ctx, hs[1].Person.ID)
	require.NoError(t, err)
	assert.Equal(t, "", ben.AdvocateState)
	assert.Equal(t, 1.5, ben.AdvocateScore)

	// A later ingest does not touch the advocate columns.
	_, err = s.IngestBatch(ctx, []*parley.Mention{mention("a4", "ana", "again", parley.Positive, 3*60*24)}, nil)
	require.NoError(t, err)
	p, err := s.Person(ctx, ana.Person.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.AdvocateActive, p.AdvocateState)
	assert.Equal(t, 7.5, p.AdvocateScore)

	c, err := s.ConfirmAdvocate(ctx, ben.ID, "boss")
	require.NoError(t, err)
	assert.Equal(t, "", c.From)
	_, err = s.ConfirmAdvocate(ctx, ben.ID, "boss")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err))
	_, err = s.ConfirmAdvocate(ctx, 9999, "boss")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	h, err := s.AdvocateHistory(ctx, ben.ID, since, until)
	require.NoError(t, err)
	assert.Equal(t, "boss", h.ConfirmedBy)
	assert.False(t, h.ConfirmedAt.IsZero())

	all, err := s.AdvocateChanges(ctx, t0, t0.Add(2*day))
	require.NoError(t, err)
	require.Len(t, all, 1, "the manager's confirmation happened now, outside the window")
	mine, err := s.PersonAdvocateChanges(ctx, ben.ID)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	assert.Equal(t, "boss", mine[0].Actor)

	list, err := s.Advocates(ctx, []string{parley.AdvocateActive}, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "ana", list[0].ExternalID, "best score first")
	none, err := s.Advocates(ctx, []string{parley.AdvocateLapsed}, 10)
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = s.AdvocateHistory(ctx, 9999, since, until)
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
}

func TestRepliesToUs(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	q := mention("q1", "ana", "where is my order?", parley.Neutral, 0)
	other := mention("o1", "ben", "unrelated", parley.Neutral, 0)
	_, err := s.IngestBatch(ctx, []*parley.Mention{q, other}, func(m *parley.Mention, h parley.History) []parley.Draft {
		if m.ExternalID == "q1" {
			return []parley.Draft{{Text: "We're on it", Rule: "r"}}
		}
		return nil
	})
	require.NoError(t, err)
	drafts, err := s.Drafts(ctx, parley.DraftFilter{PersonID: q.PersonID})
	require.NoError(t, err)
	require.Len(t, drafts, 1)
	sendPrompt(t, s, drafts[0].ID, t0.Add(time.Hour)) // posted as "posted-r"

	reply := mention("q2", "ana", "stop", parley.Neutral, 90)
	reply.InReplyTo = "posted-r"
	elsewhere := mention("o2", "ana", "stop", parley.Neutral, 90)
	elsewhere.InReplyTo = "o1"
	_, err = s.IngestBatch(ctx, []*parley.Mention{reply, elsewhere}, nil)
	require.NoError(t, err)
	ok, err := s.RepliesToUs(ctx, *reply)
	require.NoError(t, err)
	assert.True(t, ok, "answers our post")
	ok, err = s.RepliesToUs(ctx, *elsewhere)
	require.NoError(t, err)
	assert.False(t, ok, "answers ben in a thread we are not in")
	ok, err = s.RepliesToUs(ctx, parley.Mention{Platform: parley.PlatformMastodon, ThreadID: q.ThreadID})
	require.NoError(t, err)
	assert.True(t, ok, "in a thread where we replied")
}

func TestQuietUntil(t *testing.T) {
	pol := parley.ConsentPolicy{QuietStart: 21 * time.Hour, QuietEnd: 9 * time.Hour, TimeZone: "Europe/Berlin"}
	for _, c := range []struct {
		at    string
		tz    string
		quiet bool
		until string
	}{
		{"2026-11-02T19:59:00Z", "", false, ""},                    // 20:59 Berlin
		{"2026-11-02T20:00:00Z", "", true, "2026-11-03T08:00:00Z"}, // 21:00 Berlin
		{"2026-11-03T07:59:00Z", "", true, "2026-11-03T08:00:00Z"}, // 08:59 Berlin
		{"2026-11-03T08:00:00Z", "", false, ""},
		{"2026-11-03T03:00:00Z", "Asia/Tokyo", false, ""},                    // 12:00 Tokyo
		{"2026-11-03T13:00:00Z", "Asia/Tokyo", true, "2026-11-04T00:00:00Z"}, // 22:00 Tokyo
		// The spring change: 07:30 UTC is 09:30 CEST (it was 08:30 CET the day before).
		{"2026-03-29T07:30:00Z", "", false, ""},
		{"2026-03-28T07:30:00Z", "", true, "2026-03-28T08:00:00Z"},
		{"2026-03-29T06:30:00Z", "", true, "2026-03-29T07:00:00Z"},
	} {
		at, err := time.Parse(time.RFC3339, c.at)
		require.NoError(t, err)
		until, _, quiet := parley.QuietUntil(at, c.tz, pol)
		assert.Equal(t, c.quiet, quiet, c.at)
		if c.until != "" {
			want, _ := time.Parse(time.RFC3339, c.until)
			assert.True(t, want.Equal(until), "%s: until %v, want %v", c.at, until, want)
		}
	}
	// Daytime quiet hours (no wrap) and none at all.
	day := parley.ConsentPolicy{QuietStart: 12 * time.Hour, QuietEnd: 14 * time.Hour}
	_, _, quiet := parley.QuietUntil(time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC), "", day)
	assert.True(t, quiet)
	_, _, quiet = parley.QuietUntil(time.Date(2026, 1, 1, 13, 0, 0, 0, time.UTC), "", parley.ConsentPolicy{})
	assert.False(t, quiet)
}

func TestCheckPromptWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	id := person(t, s, "fan", noon.Add(-2*day), parley.Positive, nil)
	grumpy := person(t, s, "grumpy", noon.Add(-2*day), parley.Negative, nil)
	require.NoError(t, s.CheckPrompt(ctx, ask(id, "review", noon), policy))
	assert.Equal(t, parley.RefusedCooldown, refusal(t, s.CheckPrompt(ctx, ask(grumpy, "review", noon), policy)))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(s.CheckPrompt(ctx, ask(9999, "review", noon), policy)))
	ps, err := s.PersonPrompts(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, ps)
	_, err = s.QueuePrompt(ctx, ask(id, "review", noon), policy)
	require.NoError(t, err)
	assert.Equal(t, parley.RefusedSameAsk, refusal(t, s.CheckPrompt(ctx, ask(id, "review", noon), policy)))
}

func TestAdvocateEntries(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t)
	a := person(t, s, "ana", noon, parley.Positive, nil)
	b := person(t, s, "ben", noon, parley.Positive, nil)
	_, err := s.SaveAdvocates(ctx, []parley.AdvocateUpdate{
		{PersonID: a, Score: 4, To: parley.AdvocateCandidate, Note: "qualifies as an advocate; waiting for a manager to confirm"},
		{PersonID: b, Score: 9, To: parley.AdvocateActive},
	}, noon)
	require.NoError(t, err)
	es, err := s.AdvocateEntries(ctx, nil, 0)
	require.NoError(t, err)
	require.Len(t, es, 2)
	assert.Equal(t, b, es[0].ID)
	assert.Equal(t, noon, es[0].ScoredAt)
	assert.Equal(t, "qualifies as an advocate; waiting for a manager to confirm", es[1].Note)
	_, err = s.ConfirmAdvocate(ctx, a, "boss")
	require.NoError(t, err)
	es, err = s.AdvocateEntries(ctx, []string{parley.AdvocateActive}, 1)
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, b, es[0].ID, "limit 1, best first")
	es, err = s.AdvocateEntries(ctx, []string{parley.AdvocateActive}, 0)
	require.NoError(t, err)
	assert.Equal(t, "boss", es[1].ConfirmedBy)
}
