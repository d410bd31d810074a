package digest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

// TestNumbers checks every number of the fixture's digest against the
// answers worked out by hand from fixtureMentions.
func TestNumbers(t *testing.T) {
	d := fixtureDigest(t)

	assert.Equal(t, at(16, 0, 0), d.Start)
	assert.Equal(t, at(23, 0, 0), d.End)
	assert.Equal(t, "Europe/Berlin", d.TimeZone)

	// Volume: nine mentions (the spam is not counted) against four.
	v := d.Volume
	assert.Equal(t, 9, v.Total)
	assert.Equal(t, 4, v.PrevTotal)
	var days, prevDays []int
	for _, day := range v.Days {
		days = append(days, day.Count)
		prevDays = append(prevDays, day.PrevCount)
	}
	assert.Equal(t, []int{2, 2, 2, 1, 1, 0, 1}, days)
	assert.Equal(t, []int{0, 1, 1, 1, 0, 1, 0}, prevDays)
	assert.Equal(t, map[string]int{parley.PlatformMastodon: 1, parley.PlatformDiscord: 1}, v.Days[1].ByPlatform)
	assert.Equal(t, []digest.PlatformCount{
		{Platform: parley.PlatformMastodon, Count: 7, PrevCount: 3},
		{Platform: parley.PlatformDiscord, Count: 2, PrevCount: 1},
	}, v.Platforms)
	// The usual day: the days since the first mention (Tue 10) before the
	// week had 1, 1, 1, 0, 1, 0 mentions: median 1. No day has 6.
	assert.Equal(t, 1.0, v.Usual)
	assert.Empty(t, v.Spikes)

	// Sentiment: 5 negative, 2 neutral, 2 positive against 1, 1, 2.
	s := d.Sentiment
	assert.Equal(t, map[parley.Label]int{parley.Negative: 5, parley.Neutral: 2, parley.Positive: 2}, s.Counts)
	assert.Equal(t, map[parley.Label]int{parley.Negative: 1, parley.Neutral: 1, parley.Positive: 2}, s.PrevCounts)
	assert.InDelta(t, 5.0/9, s.Share(parley.Negative), 1e-12)
	assert.InDelta(t, 0.25, s.PrevShare(parley.Negative), 1e-12)
	// m5 and m6 wait (m6's draft was rejected); m1, m4, m10 were answered.
	assert.Equal(t, 2, s.Waiting)
	require.Len(t, s.Threads, 2)
	assert.Equal(t, "dee@example.social", s.Threads[0].Post.Author)
	assert.Equal(t, -0.9, s.Threads[0].Post.Score)
	assert.Equal(t, "https://example.social/@dee/m5", s.Threads[0].Post.URL)
	assert.Equal(t, "eve@example.social", s.Threads[1].Post.Author)
	assert.Equal(t, at(18, 8, 0), s.OldestWaiting)
	require.NotEmpty(t, s.Best)
	assert.Equal(t, "fay@example.social", s.Best[0].Author)

	// Response: first replies after 5m, 10m, 30m, 1h, 2h, 9h, 24h.
	r := d.Response
	assert.Equal(t, 9, r.Mentions)
	assert.Equal(t, 7, r.Replied)
	assert.Equal(t, time.Hour, r.Median)
	assert.Equal(t, 15*time.Hour, r.P90) // 9h + 0.4 × (24h − 9h)
	assert.Equal(t, 4, r.OnTime)
	assert.InDelta(t, 4.0/7, r.OnTimeShare(), 1e-12)
	assert.InDelta(t, 7.0/9, r.ReplyRate(), 1e-12)
	var buckets []int
	for _, b := range r.Buckets {
		buckets = append(buckets, b.Count)
	}
	assert.Equal(t, []int{2, 2, 1, 2, 0}, buckets)
	// The week before: 20m and 90m for two of four.
	assert.Equal(t, 4, r.PrevMentions)
	assert.Equal(t, 2, r.PrevReplied)
	assert.Equal(t, 55*time.Minute, r.PrevMedian)
	assert.Equal(t, 83*time.Minute, r.PrevP90)
	assert.Equal(t, 1, r.PrevOnTime)
	// Drafts: nine made this week; five approved by people (m2 edited),
	// m8 by a rule, m6 rejected; m10's approval falls in the next week.
	assert.Equal(t, 9, r.Drafted)
	assert.Equal(t, 5, r.Approved)
	assert.Equal(t, 1, r.Edited)
	assert.Equal(t, 1, r.AutoApproved)
	assert.Equal(t, 1, r.Rejected)
	assert.Equal(t, 2, r.Pending) // m5 and p4
	assert.Equal(t, at(14, 18, 0).Add(3*time.Second), r.OldestPending)
	assert.Equal(t, []digest.Agent{
		{Name: "ana-agent", Approved: 3},
		{Name: "ben-agent", Approved: 2, Edited: 1, Rejected: 1},
	}, r.Agents)

	// People: ana and ben came back; cy, dee, eve, fay and gus are new.
	p := d.People
	assert.Equal(t, 7, p.Total)
	assert.Equal(t, 5, p.FirstTime)
	assert.Equal(t, 2, p.Returning)
	assert.Equal(t, 4, p.PrevTotal)
	assert.Equal(t, 4, p.PrevFirstTime)
	assert.Equal(t, []digest.Voice{
		{Handle: "ana@example.social", Platform: parley.PlatformMastodon, Mentions: 2},
		{Handle: "ben@example.social", Platform: parley.PlatformMastodon, Mentions: 2},
	}, p.Top)

	// Topics: "bearings" in 6 mentions (1 before), "wheels" 3 (2);
	// #skatelife twice; the brand's name is not a topic.
	assert.Equal(t, []digest.Term{{Term: "bearings", Count: 6, Prev: 1}, {Term: "wheels", Count: 3, Prev: 2}}, d.Topics.Terms)
	assert.Equal(t, []digest.Term{{Term: "#skatelife", Count: 2, Prev: 0}}, d.Topics.Hashtags)

	// What to do next: the waiting threads, the queue, the slow replies.
	require.Len(t, d.Next, 3)
	assert.Equal(t, []string{"waiting", "queue", "slow"}, []string{d.Next[0].Kind, d.Next[1].Kind, d.Next[2].Kind})
	assert.Equal(t, "Answer the 2 negative threads still waiting, the oldest for 5 days: start with "+
		"@dee@example.social on Mastodon (“Worst support ever, bearings broken”).", d.Next[0].Text)
	assert.Equal(t, "https://example.social/@dee/m5", d.Next[0].URL)
	assert.Equal(t, "Clear the approval queue: 2 drafts wait, the oldest since Sat 14 Nov.", d.Next[1].Text)
	assert.Equal(t, "Reply faster: 57% of replies went out within 1h (median 1h, 90% within 15h).", d.Next[2].Text)

	assert.Equal(t, "9 mentions (+125%) · 56% negative · 78% replied · median reply 1h · 2 negative waiting", d.Summary())
}
