package digest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

// TestSpikeAndPeople computes a digest from windows made by hand: a spike
// day with its top posts, and the advocate, prompt and opt-out numbers
// that come from the people table, prompt drafts and the audit log.
func TestSpikeAndPeople(t *testing.T) {
	week := digest.Week{Year: 2026, Num: 47}
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	var cur []parley.Mention
	id := int64(0)
	add := func(t time.Time, who string, followers int, score float64) {
		id++
		label := parley.Neutral
		if score < 0 {
			label = parley.Negative
		}
		cur = append(cur, parley.Mention{ID: id, ThreadID: id, PersonID: int64(len(who)), Platform: parley.PlatformDiscord,
			Text: fmt.Sprintf("post %d", id), CreatedAt: t, URL: fmt.Sprintf("https://x.example/%d", id),
			Author: parley.Person{Handle: who, Followers: followers}, Sentiment: parley.Sentiment{Label: label, Score: score}})
	}
	// Two a day, except Wednesday: 12.
	for d := 16; d <= 22; d++ {
		add(day(d, 9), "a", 5, 0)
		add(day(d, 10), "bb", 5, 0)
	}
	for i := range 10 {
		add(day(18, 11+i), "ccc", 100*i, -0.1*float64(i))
	}
	// The 28 days before: two a day from 12 days back.
	var baseline []time.Time
	for d := 12; d >= 1; d-- {
		baseline = append(baseline, day(16, 8).AddDate(0, 0, -d), day(16, 9).AddDate(0, 0, -d))
	}
	w := parley.DigestWindow{
		Mentions:       cur,
		AdvocateStates: map[string]int{"advocate": 2, "candidate": 5, "lapsed": 1},
		Advocates: []parley.Person{
			{Handle: "jules", Platform: parley.PlatformMastodon, AdvocateScore: 8.25, AdvocateState: "advocate"},
			{Handle: "kelp", Platform: parley.PlatformDiscord, AdvocateScore: 6.5, AdvocateState: "advocate"},
		},
		Drafts: []parley.Draft{
			{Kind: parley.KindPrompt, Rule: "review", State: parley.DraftSent, CreatedAt: day(16, 9), DecidedAt: day(16, 10), SentAt: day(16, 11)},
			{Kind: parley.KindPrompt, Rule: "review", State: parley.DraftPending, CreatedAt: day(17, 9)},
			{Kind: parley.KindPrompt, Rule: "beta", State: parley.DraftRejected, CreatedAt: day(18, 9), DecidedAt: day(18, 10)},
			{Kind: parley.KindPrompt, Rule: "beta", State: parley.DraftSent, CreatedAt: day(9, 9), DecidedAt: day(9, 10), SentAt: day(17, 9)},
		},
		AdvocateChanges: []parley.AdvocateChange{
			{PersonID: 1, Handle: "jules", Platform: parley.PlatformMastodon, From: "candidate", To: "advocate", Score: 8.25, At: day(17, 3)},
			{PersonID: 2, Handle: "old", Platform: parley.PlatformDiscord, From: "advocate", To: "lapsed", Score: 1, At: day(17, 3)},
			{PersonID: 3, Handle: "flip", Platform: parley.PlatformDiscord, From: "candidate", To: "advocate", Score: 5, At: day(17, 3)},
			{PersonID: 3, Handle: "flip", Platform: parley.PlatformDiscord, From: "advocate", To: "candidate", Score: 4, At: day(19, 3)},
		},
		Prompts: []parley.PromptStats{
			{Template: "review", Sent: 4, Converted: 1, Declined: 1, Expired: 1, Watching: 1},
			{Template: "survey", Sent: 3, Expired: 3},
		},
		Audit: []parley.AuditEntry{
			{Action: "optout", Actor: "system", At: day(17, 9)},
			{Action: "optout", Actor: "ana", At: day(18, 9)},
			{Action: "optin", Actor: "ana", At: day(19, 9)},
			{Action: "login", Actor: "ana", At: day(19, 9)},
		},
	}
	d := digest.Compute(week, w, parley.DigestWindow{}, baseline, digest.Options{
		Location: time.UTC, ResponseTarget: time.Hour, AsOf: day(23, 9),
	})

	assert.Equal(t, 2.0, d.Volume.Usual)
	require.Len(t, d.Volume.Spikes, 1)
	sp := d.Volume.Spikes[0]
	assert.Equal(t, day(18, 0), sp.Date)
	assert.Equal(t, 12, sp.Count)
	require.Len(t, sp.Top, 3)
	// Widest reach first, one post per author.
	assert.Equal(t, []string{"ccc", "a", "bb"}, []string{sp.Top[0].Author, sp.Top[1].Author, sp.Top[2].Author})
	assert.Equal(t, 900, sp.Top[0].Followers)
	assert.Equal(t, "spike", d.Next[1].Kind, "%+v", d.Next)
	assert.Contains(t, d.Next[1].Text, "Look into Wed 18 Nov: 12 mentions against a usual 2 a day")

	p := d.People
	assert.Equal(t, 2, p.Advocates)
	assert.Equal(t, 5, p.Candidates)
	assert.Equal(t, 1, p.Lapsed)
	assert.Equal(t, []digest.Voice{{Handle: "jules", Platform: parley.PlatformMastodon, Score: 8.25},
		{Handle: "kelp", Platform: parley.PlatformDiscord, Score: 6.5}}, p.TopAdvocates)
	assert.Equal(t, []digest.Voice{{Handle: "jules", Platform: parley.PlatformMastodon, Score: 8.25}}, p.NewAdvocates,
		"flip became an advocate and went back within the week")
	assert.Equal(t, []digest.Voice{{Handle: "old", Platform: parley.PlatformDiscord, Score: 1}}, p.LapsedAdvocates)
	// Drafted and rejected come from the drafts; sent and the outcomes
	// from the prompts table where it knows the template (review,
	// survey), else from the drafts (beta).
	assert.Equal(t, 3, p.Prompts.Drafted)
	assert.Equal(t, 8, p.Prompts.Sent)
	assert.Equal(t, 1, p.Prompts.Rejected)
	assert.Equal(t, 1, p.Prompts.Converted)
	assert.Equal(t, []digest.TemplateCount{
		{Template: "review", Drafted: 2, Sent: 4, Converted: 1, Declined: 1, Expired: 1, Watching: 1},
		{Template: "beta", Drafted: 1, Sent: 1, Rejected: 1},
		{Template: "survey", Sent: 3, Expired: 3},
	}, p.Prompts.ByTemplate)
	assert.InDelta(t, 0.25, p.Prompts.ByTemplate[0].Rate(), 1e-12)
	assert.Equal(t, 2, p.OptOuts)
	assert.Equal(t, 1, p.OptIns)

	md := d.Markdown()
	assert.Contains(t, md, "- Spike on Wed 18 Nov: **12** mentions against a usual 2")
	assert.Contains(t, md, "- Advocates: 2, 5 candidates, 1 lapsed; top: @jules 8.2, @kelp 6.5")
	assert.Contains(t, md, "- New advocates: @jules; lapsed: @old")
	assert.Contains(t, md, "- Prompts: 3 drafted, 8 sent, 1 rejected, 1 converted so far")
	assert.Contains(t, md, "  - review: 2 drafted, 4 sent, 0 rejected; 1 converted (25%), 1 declined, 1 expired, 1 watching")
	assert.Contains(t, md, "  - beta: 1 drafted, 1 sent, 1 rejected; 0 converted (0%), 0 declined, 0 expired, 0 watching")
	var kinds []string
	for _, a := range d.Next {
		kinds = append(kinds, a.Kind)
	}
	assert.Equal(t, []string{"waiting", "spike", "negative"}, kinds)

	// In a calm week the advocates come up.
	calm := digest.Compute(week, parley.DigestWindow{AdvocateChanges: w.AdvocateChanges, Prompts: w.Prompts},
		parley.DigestWindow{}, nil, digest.Options{Location: time.UTC, ResponseTarget: time.Hour, AsOf: day(23, 9)})
	require.Len(t, calm.Next, 3)
	assert.Equal(t, "Rethink the “survey” invitation: none of the 3 sent this week converted.", calm.Next[0].Text)
	assert.Equal(t, "Welcome @jules, who became an advocate this week: a personal thank-you goes a long way.", calm.Next[1].Text)
	assert.Equal(t, "calm", calm.Next[2].Kind)
	assert.Contains(t, md, "- Opt-outs: 2 (opt-ins 1)")
	page, err := d.HTML(digest.HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, page, "<h3>Top advocates</h3>")
	assert.Contains(t, page, "<td>review</td><td class=\"n\">2</td><td class=\"n\">4</td><td class=\"n\">1 <span class=\"muted\">(25%)</span></td>")
	assert.Contains(t, page, "New advocates: <b>@jules</b>; lapsed: @old.")
}

// TestEmptyWeek renders a week without anything, which must still read
// well.
func TestEmptyWeek(t *testing.T) {
	d := digest.Compute(digest.Week{Year: 2026, Num: 10}, parley.DigestWindow{}, parley.DigestWindow{}, nil,
		digest.Options{Location: time.UTC, ResponseTarget: time.Hour, AsOf: time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)})
	assert.Equal(t, "0 mentions (±0%)", d.Summary())
	require.Len(t, d.Next, 1)
	assert.Equal(t, "calm", d.Next[0].Kind)
	md := d.Markdown()
	assert.Contains(t, md, "No mentions this week.")
	assert.Contains(t, md, "No replies were sent this week.")
	page, err := d.HTML(digest.HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, page, "No mentions this week or the week before")
	assert.Contains(t, page, "a quiet week")
	for _, s := range d.SVGs() {
		checkXML(t, s)
	}
}
