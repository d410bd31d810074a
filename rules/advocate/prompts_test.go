package advocate_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/advocate"
)

func promptEngine(t *testing.T) *advocate.Engine {
	t.Helper()
	cfg, err := parse(t, `
advocates:
  templates:
    - name: share-review
      ask: review
      link: https://tidewater.example/reviews
      text: "Hi {{first .Person}}! Would you review your board? {{.Link}}"
    - name: beta-wheels
      ask: beta
      hashtag: "#tidewaterbeta"
      text: "{{first .Person}}, want to test wheels? Post with {{.Hashtag}}."
    - name: quick-survey
      ask: survey
      text: >
        {{if eq .LastPrompt.Outcome "declined"}}No worries about the {{.LastPrompt.Ask}}, {{first .Person}}!{{else}}Hi {{first .Person}}!{{end}}
        One question: what should we build next?
    - name: shy
      ask: shy
      text: "{{if gt .Score 100.0}}never{{end}}"
  prompts:
    - name: blank-text
      when: person.advocate
      template: shy
    - name: discord-beta
      when: person.advocate && person.platform == "discord" && "#clips" in person.channels
      template: beta-wheels
      auto_approve: true
      priority: 2
    - name: review-from-fans
      when: person.advocate && person.recent_positive >= 3 && prompts.count == 0
      template: share-review
    - name: survey-after-a-no
      when: person.advocate && prompts.last_outcome == "declined" && prompts.days_since_last >= 60
      template: quick-survey
    - name: broken
      when: person.tags[5] == "x"
      template: share-review
`)
	require.NoError(t, err)
	e, err := advocate.New(cfg, "Tidewater Skates", "UTC")
	require.NoError(t, err)
	return e
}

func advocateHistory(platform string, prompts ...parley.Prompt) parley.AdvocateHistory {
	h := fan(5, 1, 300)
	h.Person.Platform = platform
	h.Person.Name = "Jules Okafor"
	h.Person.AdvocateState = parley.AdvocateActive
	for i := range h.Mentions {
		h.Mentions[i].Channel = "#clips"
	}
	h.Prompts = prompts
	return h
}

func templates(cs []advocate.Choice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Template)
	}
	return out
}

func TestChooseSeesHistory(t *testing.T) {
	e := promptEngine(t)

	h := advocateHistory(parley.PlatformMastodon)
	x := e.Explain(h, now)
	require.Equal(t, parley.AdvocateActive, x.State)
	cs, errs := e.Choose(h, x, now)
	require.Len(t, errs, 1, "the broken rule fails at run time and is skipped")
	assert.Contains(t, errs[0].Error(), `prompt rule "broken"`)
	assert.Equal(t, []string{"share-review"}, templates(cs), "a blank text drafts nothing; the Discord rule does not match")
	assert.Equal(t, advocate.Choice{Rule: "review-from-fans", Template: "share-review", Ask: "review",
		Link: "https://tidewater.example/reviews", Text: "Hi Jules! Would you review your board? https://tidewater.example/reviews"}, cs[0])
	req := cs[0].Request(h.Person.ID, now)
	assert.Equal(t, "review", req.Ask)
	assert.Equal(t, now, req.At)
	assert.False(t, req.AutoApprove)

	// On Discord, where they post clips, the auto-approved beta comes first.
	dh := advocateHistory(parley.PlatformDiscord)
	cs, _ = e.Choose(dh, e.Explain(dh, now), now)
	assert.Equal(t, []string{"beta-wheels", "share-review"}, templates(cs))
	assert.True(t, cs[0].AutoApprove)
	assert.Equal(t, 2, cs[0].Priority)
	assert.Equal(t, "Jules, want to test wheels? Post with #tidewaterbeta.", cs[0].Text)

	// Never the same ask twice: asked for a review before, nothing matches
	// (the review rule wants a first prompt).
	reviewed := parley.Prompt{Ask: "review", Template: "share-review", State: parley.DraftSent,
		SentAt: now.Add(-90 * day), CreatedAt: now.Add(-90 * day), Outcome: parley.OutcomeConverted}
	h = advocateHistory(parley.PlatformMastodon, reviewed)
	cs, _ = e.Choose(h, e.Explain(h, now), now)
	assert.Empty(t, cs)

	// A declined prompt informs the next rules and the text (Deighton:
	// address them again in light of their answer).
	declined := reviewed
	declined.Outcome = parley.OutcomeDeclined
	h = advocateHistory(parley.PlatformMastodon, declined)
	cs, _ = e.Choose(h, e.Explain(h, now), now)
	require.Equal(t, []string{"quick-survey"}, templates(cs))
	assert.Equal(t, "No worries about the review, Jules! One question: what should we build next?", cs[0].Text)
	// ... but not too soon.
	declined.SentAt, declined.CreatedAt = now.Add(-10*day), now.Add(-10*day)
	h = advocateHistory(parley.PlatformMastodon, declined)
	cs, _ = e.Choose(h, e.Explain(h, now), now)
	assert.Empty(t, cs)

	// Nobody who opted out or has #nobot, and no candidate here.
	for _, edit := range []func(*parley.AdvocateHistory){
		func(h *parley.AdvocateHistory) { h.Person.OptedOut = true },
		func(h *parley.AdvocateHistory) { h.Person.NoBot = true },
		func(h *parley.AdvocateHistory) { h.Mentions = h.Mentions[:1]; h.Person.AdvocateState = "" },
	} {
		h := advocateHistory(parley.PlatformMastodon)
		edit(&h)
		cs, _ := e.Choose(h, e.Explain(h, now), now)
		assert.Empty(t, cs)
	}
}
