package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/advocate"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

const advocateConfig = `
advocates:
  consent: {quiet_hours: "off"}
  templates:
    - name: share-review
      ask: review
      link: https://tidewater.example/reviews
      text: "Hi {{first .Person}}! Would you review your board? {{.Link}}"
    - name: quick-survey
      ask: survey
      text: "{{first .Person}}, no worries about the review! One quick question instead?"
  prompts:
    - name: review-from-fans
      when: person.advocate && prompts.count == 0
      template: share-review
    - name: survey-after-a-no
      when: person.advocate && prompts.last_outcome == "declined"
      template: quick-survey
`

// advocateWorld is a store with the advocate worker on its pipeline, the
// example reply rules and a clock the test moves.
type advocateWorld struct {
	t     *testing.T
	st    *store.Store
	adv   *bot.Advocates
	rules *rules.Set
	clock time.Time
	next  int
}

func newAdvocateWorld(t *testing.T) *advocateWorld {
	var doc struct {
		Advocates advocate.Config `yaml:"advocates"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(advocateConfig), &doc))
	eng, err := advocate.New(doc.Advocates, "Tidewater Skates", "Europe/Berlin")
	require.NoError(t, err)
	set, problems := rules.Parse("config.example.yaml", parley.ExampleConfig, "Tidewater Skates")
	require.Empty(t, problems)
	w := &advocateWorld{t: t, st: storetest.Open(t), rules: set, clock: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	w.adv = bot.NewAdvocates(w.st, eng, bot.AdvocatesOptions{Now: func() time.Time { return w.clock }})
	return w
}

// post runs mentions through a pipeline with the hook; each gets a fresh id.
func (w *advocateWorld) post(ms ...parley.Mention) []parley.Mention {
	w.t.Helper()
	var stored []parley.Mention
	p := bot.NewPipeline(w.st, wordClassifier{}, bot.PipelineOptions{Decide: w.rules.Decide(nil),
		OnStored: func(batch []*parley.Mention, res parley.IngestResult) {
			for _, m := range batch {
				stored = append(stored, *m)
			}
			w.adv.OnStored(batch, res)
		}})
	for _, m := range ms {
		w.next++
		if m.ExternalID == "" {
			m.ExternalID = fmt.Sprintf("m%d", w.next)
		}
		require.NoError(w.t, p.Submit(context.Background(), m))
	}
	require.NoError(w.t, p.Close(context.Background()))
	return stored
}

func by(author string, at time.Time, text string) parley.Mention {
	return parley.Mention{Platform: parley.PlatformMastodon,
		Author: parley.Person{ExternalID: author, Handle: author + "@skate.social", Name: strings.ToUpper(author[:1]) + author[1:], Followers: 300},
		Text:   text, CreatedAt: at}
}

// fanOf posts praise on five days before the clock.
func (w *advocateWorld) fanOf(author string) int64 {
	var ms []parley.Mention
	for i := range 5 {
		ms = append(ms, by(author, w.clock.Add(-time.Duration(5-i)*24*time.Hour), "love my new deck, day "+fmt.Sprint(i)))
	}
	return w.post(ms...)[0].PersonID
}

func (w *advocateWorld) pass() bot.AdvocatePass {
	w.t.Helper()
	pass, err := w.adv.RunOnce(context.Background())
	require.NoError(w.t, err)
	return pass
}

func (w *advocateWorld) send(p parley.Prompt) parley.Prompt {
	w.t.Helper()
	ctx := context.Background()
	_, err := w.st.ApproveDraft(ctx, p.DraftID, "ana", "")
	require.NoError(w.t, err)
	claimed, err := w.st.ClaimDrafts(ctx, 100, time.Now())
	require.NoError(w.t, err)
	for _, d := range claimed {
		require.NoError(w.t, w.st.MarkSent(ctx, d.ID, fmt.Sprintf("posted-%d", d.ID), w.clock))
	}
	ps, err := w.st.PersonPrompts(ctx, p.PersonID)
	require.NoError(w.t, err)
	return ps[0]
}

func TestOptOutWhileAPromptWaits(t *testing.T) {
	ctx := context.Background()
	w := newAdvocateWorld(t)
	jules := w.fanOf("jules")
	pass := w.pass()
	require.Len(t, pass.Prompts, 1)
	waiting := pass.Prompts[0]
	assert.Equal(t, jules, waiting.PersonID)
	assert.Equal(t, parley.DraftPending, waiting.State)

	// Jules answers with a DM: stop.
	w.clock = w.clock.Add(time.Hour)
	dm := by("jules", w.clock, "Please stop.")
	dm.Direct = true
	stop := w.post(dm)[0]

	p, err := w.st.Person(ctx, jules)
	require.NoError(t, err)
	assert.True(t, p.OptedOut, "opted out at once")
	d, err := w.st.Draft(ctx, waiting.DraftID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftRejected, d.State, "the waiting prompt is withdrawn")
	assert.Equal(t, "parley", d.DecidedBy)
	ps, err := w.st.PersonPrompts(ctx, jules)
	require.NoError(t, err)
	assert.Equal(t, parley.OutcomeWithdrawn, ps[0].Outcome)

	// Acknowledged once, auto-approved, in reply to the DM.
	acks, err := w.st.Drafts(ctx, parley.DraftFilter{PersonID: jules, States: []parley.DraftState{parley.DraftApproved}})
	require.NoError(t, err)
	require.Len(t, acks, 1)
	assert.Equal(t, parley.KindReply, acks[0].Kind)
	assert.Equal(t, stop.ID, acks[0].MentionID)
	assert.Equal(t, "Understood, Jules: no more invitations from Tidewater Skates. We'll still answer whenever you ask us something.", acks[0].Text)
	audit, err := w.st.ConsentLog(ctx, jules)
	require.NoError(t, err)
	require.Len(t, audit, 1)
	assert.Equal(t, "parley", audit[0].Actor)
	assert.Contains(t, audit[0].Detail, `said "stop"`)

	// Saying it again: no second acknowledgement.
	again := by("jules", w.clock.Add(time.Minute), "STOP")
	again.Direct = true
	w.post(again)
	acks, err = w.st.Drafts(ctx, parley.DraftFilter{PersonID: jules, States: []parley.DraftState{parley.DraftApproved}})
	require.NoError(t, err)
	assert.Len(t, acks, 1)

	// Still answered when they ask something; never prompted again.
	q := w.post(by("jules", w.clock.Add(2*time.Hour), "when is the next restock?"))[0]
	replies, err := w.st.Drafts(ctx, parley.DraftFilter{PersonID: jules, States: []parley.DraftState{parley.DraftPending}})
	require.NoError(t, err)
	var answer *parley.Draft
	for _, r := range replies {
		if r.MentionID == q.ID {
			answer = &r
		}
	}
	require.NotNil(t, answer, "the question gets a reply draft")
	assert.Equal(t, parley.KindReply, answer.Kind)
	assert.Equal(t, "question-other", answer.Rule)
	w.clock = w.clock.Add(60 * 24 * time.Hour)
	w.fanOf("jules")
	assert.Empty(t, w.pass().Prompts)

	// A manager opts them back in by hand: prompts may be queued again,
	// but never the review they were asked for once already.
	_, err = w.st.OptIn(ctx, jules, "ana", "asked on the phone")
	require.NoError(t, err)
	assert.Empty(t, w.pass().Prompts, "the review rule wants a first prompt")
	_, err = w.st.QueuePrompt(ctx, parley.PromptRequest{PersonID: jules, Template: "share-review", Ask: "review",
		Text: "again?", At: w.clock}, parley.ConsentPolicy{MaxPrompts: 1, Per: time.Hour})
	var ce *parley.ConsentError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, parley.RefusedSameAsk, ce.Reason)
	_, err = w.st.QueuePrompt(ctx, parley.PromptRequest{PersonID: jules, Template: "quick-survey", Ask: "survey",
		Text: "one question?", At: w.clock}, parley.ConsentPolicy{MaxPrompts: 1, Per: time.Hour})
	require.NoError(t, err)
}

func TestPromptOutcomesFromNextPosts(t *testing.T) {
	ctx := context.Background()
	w := newAdvocateWorld(t)
	ids := map[string]int64{}
	for _, name := range []string{"ana", "ben", "cy", "dee"} {
		ids[name] = w.fanOf(name)
	}
	pass := w.pass()
	require.Len(t, pass.Prompts, 4)
	sent := map[string]parley.Prompt{}
	for name, id := range ids {
		for _, p := range pass.Prompts {
			if p.PersonID == id {
				sent[name] = w.send(p)
			}
		}
	}
	require.Len(t, sent, 4)
	day := 24 * time.Hour
	// Ana posts praise; Ben answers our DM "no thanks"; Dee shares the
	// link in a neutral post; Cy says nothing.
	noThanks := by("ben", w.clock.Add(day), "no thanks, not my thing")
	noThanks.InReplyTo = postedID(t, w.st, sent["ben"])
	w.post(
		by("ana", w.clock.Add(day), "I love this brand"),
		noThanks,
		by("dee", w.clock.Add(2*day), "wrote it up: tidewater.example/reviews/dee"),
		by("cy", w.clock.Add(-day), "love it (before the prompt: does not count)"),
	)
	outcome := func(name string) parley.Prompt {
		ps, err := w.st.PersonPrompts(ctx, ids[name])
		require.NoError(t, err)
		return ps[0]
	}
	assert.Equal(t, parley.OutcomeConverted, outcome("ana").Outcome)
	assert.Equal(t, "a positive post", outcome("ana").OutcomeDetail)
	assert.Equal(t, parley.OutcomeDeclined, outcome("ben").Outcome)
	assert.Equal(t, parley.OutcomeConverted, outcome("dee").Outcome)
	assert.Contains(t, outcome("dee").OutcomeDetail, "link")
	assert.Empty(t, outcome("cy").Outcome)
	assert.Equal(t, "watching", outcome("cy").Status(w.clock.Add(day)))

	// Silence for the 7-day window: expired at the next pass.
	w.clock = w.clock.Add(7*day + time.Hour)
	pass = w.pass()
	assert.Equal(t, 1, pass.Expired)
	assert.Equal(t, parley.OutcomeExpired, outcome("cy").Outcome)

	stats, err := w.st.PromptConversion(ctx, w.clock.Add(-30*day), w.clock)
	require.NoError(t, err)
	require.Len(t, stats, 1)
	assert.Equal(t, parley.PromptStats{Template: "share-review", Sent: 4, Converted: 2, Declined: 1, Expired: 1}, stats[0])
	assert.Equal(t, 0.5, stats[0].Rate())

	// Ben's no informs the next rule (after the 30-day cap).
	w.clock = w.clock.Add(30 * day)
	w.fanOf("ben")
	pass = w.pass()
	var benNext []string
	for _, p := range pass.Prompts {
		if p.PersonID == ids["ben"] {
			benNext = append(benNext, p.Template)
		}
	}
	assert.Equal(t, []string{"quick-survey"}, benNext)
}

func postedID(t *testing.T, st *store.Store, p parley.Prompt) string {
	t.Helper()
	d, err := st.Draft(context.Background(), p.DraftID)
	require.NoError(t, err)
	require.NotEmpty(t, d.PostedID)
	return d.PostedID
}

func TestOptOutWithoutAcknowledgementForImports(t *testing.T) {
	ctx := context.Background()
	w := newAdvocateWorld(t)
	eng, err := advocate.New(advocate.Defaults(), "B", "")
	require.NoError(t, err)
	w.adv = bot.NewAdvocates(w.st, eng, bot.AdvocatesOptions{NoAcknowledge: true})
	dm := by("ana", w.clock, "unsubscribe")
	dm.Direct = true
	stop := w.post(dm)[0]
	p, err := w.st.Person(ctx, stop.PersonID)
	require.NoError(t, err)
	assert.True(t, p.OptedOut)
	approved, err := w.st.Drafts(ctx, parley.DraftFilter{PersonID: stop.PersonID, States: []parley.DraftState{parley.DraftApproved}})
	require.NoError(t, err)
	assert.Empty(t, approved)
}

func TestAdvocatesRunPassesUntilCancelled(t *testing.T) {
	w := newAdvocateWorld(t)
	jules := w.fanOf("jules")
	eng, err := advocate.New(advocate.Defaults(), "B", "")
	require.NoError(t, err)
	adv := bot.NewAdvocates(w.st, eng, bot.AdvocatesOptions{Interval: 10 * time.Millisecond, NoPrompts: true,
		Now: func() time.Time { return w.clock }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- adv.Run(ctx) }()
	require.Eventually(t, func() bool {
		p, err := w.st.Person(context.Background(), jules)
		return err == nil && p.AdvocateState == parley.AdvocateActive
	}, 5*time.Second, 10*time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	drafts, err := w.st.Drafts(context.Background(), parley.DraftFilter{PersonID: jules})
	require.NoError(t, err)
	for _, d := range drafts {
		assert.Equal(t, parley.KindReply, d.Kind, "NoPrompts queues none")
	}
}
