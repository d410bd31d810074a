package web_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestPersonPrompts: the person page shows the invitations the advocates
// store keeps (template, ask, state, outcome and the post that decided
// it), the advocate state changes and the consent log.
func TestPersonPrompts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.ingest(mention("1", "jules", "the new wheels are sick", parley.Positive, 842, 0))
	jules, err := e.st.FindPerson(ctx, parley.PlatformMastodon, "jules@skate.social")
	require.NoError(t, err)
	manager := e.loggedIn("ma", parley.RoleManager)
	page := path("/people/%d", jules.ID)

	// Nothing yet: the page says how invitations come about.
	res, body := manager.get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, "No invitations yet.")
	assert.NotContains(t, body, `id="advocate-changes"`)
	assert.NotContains(t, body, `id="consent-log"`)

	// The scoring makes them a candidate, a manager confirms them; they
	// opted out once and came back.
	_, err = e.st.SaveAdvocates(ctx, []parley.AdvocateUpdate{{PersonID: jules.ID, Score: 0.82, From: "", To: "candidate",
		Reason: "5 warm posts in 30 days", Note: "warm and regular: 5 positive posts"}}, t0)
	require.NoError(t, err)
	_, body = manager.get(page)
	assert.Contains(t, body, `<p class="small advocate-note">warm and regular: 5 positive posts</p>`, "what the scoring said")
	assert.Contains(t, body, "<dt>Last scored</dt>")
	_, err = e.st.ConfirmAdvocate(ctx, jules.ID, "ma")
	require.NoError(t, err)
	_, err = e.st.SetOptOut(ctx, jules.ID, true, "ma", "asked by DM to stop")
	require.NoError(t, err)
	_, err = e.st.SetOptOut(ctx, jules.ID, false, "ma", "asked to hear from us again")
	require.NoError(t, err)

	// Four invitations: converted, declined, expired, and one waiting.
	pol := parley.ConsentPolicy{MaxPrompts: 4, Per: 30 * 24 * time.Hour, WatchFor: 7 * 24 * time.Hour}
	queue := func(template, ask string, auto bool, minutes int) parley.Prompt {
		t.Helper()
		p, err := e.st.QueuePrompt(ctx, parley.PromptRequest{PersonID: jules.ID, Rule: "invite-advocates", Template: template,
			Ask: ask, Text: "Hey Jules, would you " + ask + "?", Link: "https://skate.example/" + ask, AutoApprove: auto,
			At: t0.Add(time.Duration(minutes) * time.Minute)}, pol)
		require.NoError(t, err)
		return p
	}
	review := queue("review-invite", "review", true, 1)
	beta := queue("beta-invite", "beta", true, 2)
	photo := queue("photo-invite", "photo", true, 3)
	claimed, err := e.st.ClaimDrafts(ctx, 10, time.Now())
	require.NoError(t, err)
	require.Len(t, claimed, 3)
	for _, d := range claimed {
		require.NoError(t, e.st.MarkSent(ctx, d.ID, "posted-"+d.Rule, t0.Add(5*time.Minute)))
	}
	waiting := queue("sticker-invite", "stickers", false, 4)

	replies := e.ingest(mention("2", "jules", "just posted my review https://skate.example/review", parley.Positive, 842, 30),
		mention("3", "jules", "no thanks, not into betas", parley.Neutral, 842, 40))
	require.Len(t, replies, 2)
	answer, err := e.st.Mention(ctx, e.draft(replies[0]).MentionID)
	require.NoError(t, err)
	no, err := e.st.Mention(ctx, e.draft(replies[1]).MentionID)
	require.NoError(t, err)
	require.NoError(t, e.st.SetPromptOutcome(ctx, review.DraftID, parley.OutcomeConverted, answer.ID, "posted the link", t0.Add(31*time.Minute)))
	require.NoError(t, e.st.SetPromptOutcome(ctx, beta.DraftID, parley.OutcomeDeclined, no.ID, "said no", t0.Add(41*time.Minute)))
	require.NoError(t, e.st.SetPromptOutcome(ctx, photo.DraftID, parley.OutcomeExpired, 0, "no answer in the watch window", t0.Add(50*time.Minute)))

	res, body = manager.get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	text := html.UnescapeString(body)
	assert.NotContains(t, body, "No invitations yet.")

	section := func(id string) string {
		t.Helper()
		i := strings.Index(text, `id="`+id+`"`)
		require.True(t, i >= 0, "no element %s", id)
		j := strings.Index(text[i:], "</li>")
		require.True(t, j >= 0)
		return text[i : i+j]
	}
	conv := section(path("prompt-%d", review.DraftID))
	assert.Contains(t, conv, `chip-outcome-converted">converted`)
	assert.Contains(t, conv, "asked for <strong>review</strong>")
	assert.Contains(t, conv, "<code>review-invite</code>")
	assert.Contains(t, conv, "<code>invite-advocates</code>", "the rule, when it is not the template")
	assert.Contains(t, conv, `chip-state-sent" title="The invitation's draft">sent`)
	assert.Contains(t, conv, "Hey Jules, would you review?")
	assert.Contains(t, conv, "posted the link")
	assert.Contains(t, conv, "just posted my review https://skate.example/review", "the post that converted")
	assert.Contains(t, conv, path(`href="/threads/%d"`, answer.ThreadID))
	assert.Contains(t, conv, `href="https://skate.example/review"`)

	dec := section(path("prompt-%d", beta.DraftID))
	assert.Contains(t, dec, `chip-outcome-declined">declined`)
	assert.Contains(t, dec, "no thanks, not into betas")
	exp := section(path("prompt-%d", photo.DraftID))
	assert.Contains(t, exp, `chip-outcome-expired">expired`)
	assert.Contains(t, exp, "no answer in the watch window")
	wait := section(path("prompt-%d", waiting.DraftID))
	assert.Contains(t, wait, `chip-outcome-waiting">waiting`)
	assert.Contains(t, wait, `chip-state-pending" title="The invitation's draft">pending`)
	assert.Contains(t, wait, path(`href="/#draft-%d"`, waiting.DraftID))

	// Newest first.
	assert.Less(t, strings.Index(text, path(`id="prompt-%d"`, waiting.DraftID)), strings.Index(text, path(`id="prompt-%d"`, review.DraftID)))

	// Advocate state, what the scoring said, who confirmed, the changes.
	assert.Contains(t, text, `advocate-note">confirmed by ma</p>`)
	assert.Contains(t, text, "<dt>Confirmed</dt><dd>by ma")
	changes := text[strings.Index(text, `id="advocate-changes"`):]
	changes = changes[:strings.Index(changes, "</ol>")]
	assert.Contains(t, changes, `chip-advocate-none">none</span>`)
	assert.Contains(t, changes, `chip-advocate-candidate">candidate</span>`)
	assert.Contains(t, changes, `chip-advocate-advocate">advocate</span>`)
	assert.Contains(t, changes, "by the scoring")
	assert.Contains(t, changes, "5 warm posts in 30 days")
	assert.Contains(t, changes, "by ma")
	assert.Less(t, strings.Index(changes, "by ma"), strings.Index(changes, "by the scoring"), "newest first")

	// The consent log.
	consent := text[strings.Index(text, `id="consent-log"`):]
	consent = consent[:strings.Index(consent, "</ol>")]
	assert.Contains(t, consent, "opted out</span>")
	assert.Contains(t, consent, "asked by DM to stop")
	assert.Contains(t, consent, "opted in</span>")
	assert.Contains(t, consent, "asked to hear from us again")
	assert.Less(t, strings.Index(consent, "opted in"), strings.Index(consent, "opted out"), "newest first")

	// Agents read it all too.
	agent := e.loggedIn("ag", parley.RoleAgent)
	res, body = agent.get(page)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, path(`id="prompt-%d"`, review.DraftID))
	assert.Contains(t, body, `id="consent-log"`)
}
