package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// advocatesEnv has Jules (a candidate with a converted invitation) and
// Gus (an advocate).
func advocatesEnv(t *testing.T) (*testEnv, parley.Person, parley.Person) {
	ctx := context.Background()
	e := newEnv(t)
	e.ingest(mention("1", "jules", "the new wheels are sick", parley.Positive, 842, 0),
		mention("2", "gus", "love this shop", parley.Positive, 10, 1))
	jules, err := e.st.FindPerson(ctx, parley.PlatformMastodon, "jules@skate.social")
	require.NoError(t, err)
	gus, err := e.st.FindPerson(ctx, parley.PlatformMastodon, "gus@skate.social")
	require.NoError(t, err)
	_, err = e.st.SaveAdvocates(ctx, []parley.AdvocateUpdate{
		{PersonID: jules.ID, Score: 0.82, From: "", To: parley.AdvocateCandidate, Reason: "warm"},
		{PersonID: gus.ID, Score: 0.91, From: "", To: parley.AdvocateActive, Reason: "warmer"}}, t0)
	require.NoError(t, err)
	pol := parley.ConsentPolicy{MaxPrompts: 4, Per: 30 * 24 * time.Hour, WatchFor: 7 * 24 * time.Hour}
	p, err := e.st.QueuePrompt(ctx, parley.PromptRequest{PersonID: jules.ID, Rule: "invite", Template: "review-invite",
		Ask: "review", Text: "Would you review?", AutoApprove: true, At: t0.Add(time.Minute)}, pol)
	require.NoError(t, err)
	claimed, err := e.st.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.NoError(t, e.st.MarkSent(ctx, claimed[0].ID, "posted", t0.Add(2*time.Minute)))
	require.NoError(t, e.st.SetPromptOutcome(ctx, p.DraftID, parley.OutcomeConverted, 0, "posted a review", t0.Add(time.Hour)))
	return e, jules, gus
}

func TestAdvocatesPageListsScoreStateAndLastPrompt(t *testing.T) {
	e, jules, gus := advocatesEnv(t)
	c := e.loggedIn("ana", parley.RoleAgent)
	res, page := c.get("/advocates")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Regexp(t, `(?s)person-`+itoa(gus.ID)+`.*person-`+itoa(jules.ID), page, "best score first")
	assert.Contains(t, page, `href="/people/`+itoa(jules.ID)+`"`)
	assert.Contains(t, page, "0.82")
	assert.Contains(t, page, "“review” · sent")
	assert.Contains(t, page, `chip-outcome-converted`)
	assert.NotContains(t, page, `/advocates/`+itoa(jules.ID)+`/confirm`, "agents see no actions")

	_, page = c.get("/advocates?state=candidate")
	assert.NotContains(t, page, "person-"+itoa(gus.ID))
	res, _ = c.get("/advocates?state=nonsense")
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestAdvocatesPageActionsAreManagersAndAudited(t *testing.T) {
	ctx := context.Background()
	e, jules, _ := advocatesEnv(t)
	agent := e.loggedIn("ana", parley.RoleAgent)
	agent.get("/advocates")
	res, _ := agent.post(path("/advocates/%d/confirm", jules.ID), nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = agent.post(path("/advocates/%d/optout", jules.ID), nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode)

	m := e.loggedIn("maya", parley.RoleManager)
	_, page := m.get("/advocates")
	assert.Contains(t, page, `/advocates/`+itoa(jules.ID)+`/confirm`)
	res, _ = m.post(path("/advocates/%d/confirm", jules.ID), url.Values{"csrf_token": {"forged"}})
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "CSRF")

	res, body := m.post(path("/advocates/%d/confirm", jules.ID), nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	p, err := e.st.Person(ctx, jules.ID)
	require.NoError(t, err)
	assert.Equal(t, parley.AdvocateActive, p.AdvocateState)

	res, body = m.post(path("/advocates/%d/optout", jules.ID), url.Values{"reason": {"asked by DM"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	p, err = e.st.Person(ctx, jules.ID)
	require.NoError(t, err)
	assert.True(t, p.OptedOut)
	_, page = m.get("/advocates")
	assert.Contains(t, page, `/advocates/`+itoa(jules.ID)+`/optin`)

	res, body = m.postJSON(path("/advocates/%d/optin", jules.ID), nil)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	p, err = e.st.Person(ctx, jules.ID)
	require.NoError(t, err)
	assert.False(t, p.OptedOut)

	log, err := e.st.ConsentLog(ctx, jules.ID)
	require.NoError(t, err)
	var actors []string
	for _, a := range log {
		actors = append(actors, a.Actor+" "+a.Action)
	}
	assert.Len(t, log, 2, "opt-out and opt-in are in the consent log: %v", actors)
	res, _ = m.post(path("/advocates/%d/promote", jules.ID), nil)
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}
