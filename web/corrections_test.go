package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/storetest"
	"github.com/parleybot/parley/web"
)

type correctionResult struct {
	OK        bool              `json:"ok"`
	MentionID int64             `json:"mention_id"`
	Label     parley.Label      `json:"label"`
	Corrected bool              `json:"corrected"`
	ID        int64             `json:"id"`
	State     parley.DraftState `json:"state"`
	Message   string            `json:"message"`
	HTML      string            `json:"html"`
	Error     string            `json:"error"`
}

func TestCorrectSentiment(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(mention("1", "jules", "this deck is sick, insanely good", parley.Negative, 10, 0),
		mention("2", "jules", "ordered another one", parley.Neutral, 10, 5))
	first := e.draft(ids[0])
	m, err := e.st.Mention(ctx, first.MentionID)
	require.NoError(t, err)
	second, err := e.st.Mention(ctx, e.draft(ids[1]).MentionID)
	require.NoError(t, err)
	agent := e.loggedIn("ag", parley.RoleAgent)
	thread := path("/threads/%d", m.ThreadID)
	action := path("/mentions/%d/sentiment", m.ID)

	// The thread page offers the correction next to each chip.
	res, body := agent.get(thread)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `action="`+action+`"`)
	assert.Contains(t, body, `value="positive" aria-pressed="false"`)
	assert.Contains(t, body, `value="negative" aria-pressed="true"`)
	assert.NotContains(t, body, "chip-corrected")
	// ...and so does the inbox card, tied to its draft.
	_, body = agent.get("/")
	assert.Contains(t, body, `action="`+action+`" class="correct-form" data-correct data-action="correct"`)
	assert.Contains(t, body, path(`name="draft_id" value="%d"`, ids[0]))

	// Without the CSRF token nothing changes.
	res, _ = agent.post(action, url.Values{"label": {"positive"}, "csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = agent.post(action, url.Values{"label": {"positive"}, "csrf_token": {""}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	got, err := e.st.Mention(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.Negative, got.Sentiment.Label)

	// A form post (no JavaScript) corrects and goes back to the page.
	res, _ = agent.post(action, url.Values{"label": {"positive"}}, "Referer", e.url+thread)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Equal(t, thread, res.Header.Get("Location"))
	got, err = e.st.Mention(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, got.Sentiment.Label, "the store has it")
	assert.Equal(t, "corrected", got.Sentiment.Model)
	p, err := e.st.Person(ctx, m.PersonID)
	require.NoError(t, err)
	assert.Equal(t, 1, p.Positive, "the author's counts follow")
	assert.Equal(t, 0, p.Negative)

	res, body = agent.get(thread)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "Marked as positive.")
	assert.Regexp(t, path(`(?s)id="mention-%d".*?<span class="chip chip-positive" title="Set by a person">positive</span> <span class="chip chip-muted chip-corrected"`, m.ID), body)
	assert.Contains(t, body, `value="positive" aria-pressed="true"`)

	entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Action: "correct-sentiment"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "ag", entries[0].Actor)
	assert.Equal(t, m.PersonID, entries[0].PersonID)
	assert.Contains(t, entries[0].Detail, "negative -> positive")

	// As app.js does it on the thread page: the fresh message comes back.
	res, body = agent.postJSON(path("/mentions/%d/sentiment", second.ID), url.Values{"label": {"Negative"}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var r correctionResult
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	assert.True(t, r.OK)
	assert.Equal(t, parley.Negative, r.Label)
	assert.True(t, r.Corrected)
	assert.Contains(t, r.HTML, path(`id="mention-%d"`, second.ID))
	assert.Contains(t, r.HTML, `<span class="chip chip-negative" title="Set by a person">negative</span>`)
	assert.Contains(t, r.HTML, `name="csrf_token" value="`+agent.csrf+`"`, "the fresh form can be used again")

	// From an inbox card: the fresh card, still pending.
	res, body = agent.postJSON(action, url.Values{"label": {"neutral"}, "draft_id": {path("%d", ids[0])}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	r = correctionResult{}
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	assert.Equal(t, parley.DraftPending, r.State)
	assert.Equal(t, ids[0], r.ID)
	assert.Contains(t, r.HTML, path(`id="draft-%d"`, ids[0]))
	assert.Contains(t, r.HTML, `class="card card-neutral"`)
	assert.Contains(t, r.HTML, "chip-corrected")
	got, err = e.st.Mention(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.Neutral, got.Sentiment.Label)
	corrections, err := e.st.Corrections(ctx)
	require.NoError(t, err)
	require.Len(t, corrections, 2, "the latest per mention")
	last := corrections[1] // oldest first by the latest correction
	assert.Equal(t, m.ID, last.MentionID)
	assert.Equal(t, parley.Negative, last.ModelLabel, "what the model said first is kept")
	assert.Equal(t, parley.Neutral, last.Label)
	assert.Equal(t, "ag", last.Actor)

	// Bad input says what is wrong.
	res, body = agent.postJSON(action, url.Values{"label": {"furious"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.Contains(t, body, "choose negative, neutral or positive")
	res, _ = agent.postJSON("/mentions/999/sentiment", url.Values{"label": {"neutral"}})
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
	res, _ = e.client().post(action, url.Values{"label": {"neutral"}})
	assert.NotEqual(t, http.StatusOK, res.StatusCode, "not logged in")
}

// TestCorrectionRedecidesTheCard: with the rules wired into the decision
// service (bot.DecisionsOptions.Decide),
// a correction from an inbox card decides the post again: the card's draft
// is withdrawn and the card shows the draft the rules write now, with the
// tags and priority that follow the corrected label.
func TestCorrectionRedecidesTheCard(t *testing.T) {
	ctx := context.Background()
	var decided []string
	st := storetest.Open(t)
	e := newEnvOn(t, st, func(_ *web.Config, o *web.Options) {
		o.Decider = bot.NewDecisions(st, bot.DecisionsOptions{Decide: draftEach,
			OnDecided: func(action string, d parley.Draft) { decided = append(decided, action+" "+d.Rule) }})
	})
	ids := e.ingest(mention("1", "vinny", "riptide shipped in 1 day, that's wild", parley.Negative, 10, 0))
	old := e.draft(ids[0])
	require.Equal(t, "rule-negative", old.Rule)
	agent := e.loggedIn("ag", parley.RoleAgent)

	res, body := agent.postJSON(path("/mentions/%d/sentiment", old.MentionID),
		url.Values{"label": {"positive"}, "draft_id": {path("%d", old.ID)}})
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	var r correctionResult
	require.NoError(t, json.Unmarshal([]byte(body), &r))
	assert.Equal(t, parley.DraftPending, r.State)
	assert.NotEqual(t, old.ID, r.ID, "the card shows the draft that replaced it")
	assert.Contains(t, r.HTML, path(`id="draft-%d"`, r.ID))
	assert.Contains(t, r.HTML, `class="card card-positive"`)
	assert.Contains(t, r.Message, "The rule-negative draft was replaced by a rule-positive draft.")

	withdrawn, err := e.st.Draft(ctx, old.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.DraftSuperseded, withdrawn.State)
	fresh, err := e.st.Draft(ctx, r.ID)
	require.NoError(t, err)
	assert.Equal(t, "rule-positive", fresh.Rule)
	assert.Equal(t, parley.DraftPending, fresh.State)
	m, err := e.st.Mention(ctx, old.MentionID)
	require.NoError(t, err)
	assert.Equal(t, []string{"positive-tag"}, m.Tags)
	assert.Equal(t, 0, m.Priority, "the complaint's priority went with it")
	entries, err := e.st.AuditEntries(ctx, parley.AuditFilter{Action: "redecide"})
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the new draft")
	entries, err = e.st.AuditEntries(ctx, parley.AuditFilter{Action: "supersede"})
	require.NoError(t, err)
	require.Len(t, entries, 1, "the withdrawal")
	assert.Equal(t, old.ID, entries[0].DraftID)
	assert.Equal(t, []string{"supersede rule-negative", "redecide rule-positive"}, decided, "the decision service saw both changes")
}

// TestInboxShowsTheLanguage: a card names the post's language, and says
// when the sentiment model does not read it.
func TestInboxShowsTheLanguage(t *testing.T) {
	e := newEnv(t)
	fr := mention("1", "lea", "Ce plateau est vraiment nul, il s'est cassé", parley.Neutral, 10, 0)
	fr.Lang = "fr"
	fr.Sentiment = parley.Sentiment{Label: parley.Neutral, Confidence: 0.2, Model: parley.ModelUnknownLanguage}
	en := mention("2", "max", "love the new wheels", parley.Positive, 10, 1)
	en.Lang = "en"
	e.ingest(fr, en)
	agent := e.loggedIn("ag", parley.RoleAgent)
	res, body := agent.get("/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `<span class="chip chip-muted chip-lang" title="Language of the post" lang="en">fr</span> <span class="chip chip-warn chip-unread"`)
	// The English post's conversation, opened in the pane.
	_, body = agent.get(path("/?c=%d", en.ThreadID))
	assert.Contains(t, body, `lang="en">en</span>`)
	assert.Equal(t, 0, strings.Count(body, "language not read"), "only the French post")
}

// TestCorrectSentimentRenderFailure: when the fresh card or message cannot
// be rendered, the answer is an error, not "ok" with no HTML (the
// correction itself is stored).
func TestCorrectSentimentRenderFailure(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ids := e.ingest(mention("1", "jules", "this deck is sick", parley.Negative, 10, 0))
	m, err := e.st.Mention(ctx, e.draft(ids[0]).MentionID)
	require.NoError(t, err)
	agent := e.loggedIn("ag", parley.RoleAgent)
	res, _ := agent.get(path("/threads/%d", m.ThreadID)) // the page's CSRF token
	require.Equal(t, http.StatusOK, res.StatusCode)
	web.BreakFragments(e.srv)
	action := path("/mentions/%d/sentiment", m.ID)

	for _, form := range []url.Values{
		{"label": {"positive"}, "draft_id": {path("%d", ids[0])}}, // from an inbox card
		{"label": {"neutral"}}, // from the thread page
	} {
		res, body := agent.postJSON(action, form)
		assert.Equal(t, http.StatusInternalServerError, res.StatusCode, "%v: %s", form, body)
		var r correctionResult
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		assert.False(t, r.OK, "%v", form)
		assert.Contains(t, r.Error, "something went wrong on our side", "%v", form)
		got, err := e.st.Mention(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, parley.Label(form.Get("label")), got.Sentiment.Label, "the correction is stored")
	}
}
