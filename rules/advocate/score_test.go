package advocate_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules/advocate"
)

const day = 24 * time.Hour

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func engine(t *testing.T, edit func(*advocate.Config)) *advocate.Engine {
	t.Helper()
	cfg := advocate.Defaults()
	if edit != nil {
		edit(&cfg)
	}
	e, err := advocate.New(cfg, "Tidewater Skates", "Europe/Berlin")
	require.NoError(t, err)
	return e
}

// post is a mention by person 1, daysAgo before now.
func post(label parley.Label, daysAgo float64) parley.Mention {
	return parley.Mention{PersonID: 1, Platform: parley.PlatformMastodon, Text: string(label) + " post",
		CreatedAt: now.Add(-time.Duration(daysAgo * float64(day))), Sentiment: parley.Sentiment{Label: label}}
}

func history(followers, replies int, ms ...parley.Mention) parley.AdvocateHistory {
	return parley.AdvocateHistory{
		Person:          parley.Person{ID: 1, Platform: parley.PlatformMastodon, Handle: "ana@example.social", Followers: followers, FirstSeen: now.Add(-60 * day)},
		Mentions:        ms,
		RepliesReceived: replies,
	}
}

func term(x advocate.Explanation, name string) advocate.Term {
	for _, t := range x.Terms {
		if t.Name == name {
			return t
		}
	}
	return advocate.Term{}
}

func TestScoreTerms(t *testing.T) {
	e := engine(t, nil)
	for _, c := range []struct {
		name string
		h    parley.AdvocateHistory
		// want points per term
		positive, reach, engagement, consistency, negative float64
	}{
		{name: "nobody", h: history(0, 0)},
		{name: "one positive post today", h: history(0, 0, post(parley.Positive, 0)), positive: 1},
		{name: "a post one half-life ago counts half", h: history(0, 0, post(parley.Positive, 30)), positive: 0.5},
		{name: "two half-lives: a quarter", h: history(0, 0, post(parley.Positive, 60)), positive: 0.25},
		{name: "outside the 90 day window: nothing", h: history(500, 3, post(parley.Positive, 91))},
		{name: "reach is log-scaled followers", h: history(999, 0, post(parley.Positive, 0)), positive: 1, reach: 0.5 * 3},
		{name: "reach needs a positive post", h: history(999, 0, post(parley.Neutral, 0))},
		{name: "engagement: replies from others", h: history(0, 3, post(parley.Positive, 0)), positive: 1, engagement: 0.5 * 2},
		{name: "a burst on one day is not consistency",
			h:        history(0, 0, post(parley.Positive, 1), post(parley.Positive, 1.01), post(parley.Positive, 1.02), post(parley.Positive, 1.03)),
			positive: 4 * math.Exp2(-1.0/30), consistency: 0},
		{name: "four days of praise",
			h:        history(0, 0, post(parley.Positive, 1), post(parley.Positive, 2), post(parley.Positive, 3), post(parley.Positive, 4)),
			positive: math.Exp2(-1.0/30) + math.Exp2(-2.0/30) + math.Exp2(-3.0/30) + math.Exp2(-4.0/30), consistency: 2},
		{name: "a recent negative post subtracts", h: history(0, 0, post(parley.Positive, 0), post(parley.Negative, 0)), positive: 1, negative: -1},
		{name: "negatives fade faster (14 day half-life)", h: history(0, 0, post(parley.Negative, 14)), negative: -0.5},
		{name: "future and ignored posts do not count", h: history(0, 0, post(parley.Positive, -1), func() parley.Mention {
			m := post(parley.Positive, 0)
			m.Ignored = true
			return m
		}())},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := e.Explain(c.h, now)
			assert.InDelta(t, c.positive, term(x, "positive").Points, 0.01, "positive")
			assert.InDelta(t, c.reach, term(x, "reach").Points, 0.01, "reach")
			assert.InDelta(t, c.engagement, term(x, "engagement").Points, 0.01, "engagement")
			assert.InDelta(t, c.consistency, term(x, "consistency").Points, 0.01, "consistency")
			assert.InDelta(t, c.negative, term(x, "negative").Points, 0.01, "negative")
			sum := 0.0
			for _, tm := range x.Terms {
				sum += tm.Points
			}
			assert.InDelta(t, sum, x.Score, 0.03, "the score is the sum of its terms")
			require.Len(t, x.Terms, 5)
		})
	}
}

func TestScoreWeightsFromConfig(t *testing.T) {
	h := history(99, 1, post(parley.Positive, 0), post(parley.Positive, 1), post(parley.Negative, 0))
	base := engine(t, nil).Explain(h, now)
	// Turning a term off removes exactly its points.
	for _, name := range []string{"reach", "engagement", "consistency", "negative"} {
		e := engine(t, func(c *advocate.Config) {
			switch name {
			case "reach":
				c.Score.Reach = 0
			case "engagement":
				c.Score.Engagement = 0
			case "consistency":
				c.Score.Consistency = 0
			case "negative":
				c.Score.Negative = 0
			}
		})
		x := e.Explain(h, now)
		assert.InDelta(t, base.Score-term(base, name).Points, x.Score, 0.02, name)
	}
	// A shorter half-life makes yesterday's praise count less.
	short := engine(t, func(c *advocate.Config) { c.Score.HalfLife = advocate.Duration(day) })
	assert.InDelta(t, 1.5, term(short.Explain(h, now), "positive").Points, 0.01)
	// Terms say how they were made.
	assert.Equal(t, "log10(1 + followers)", term(base, "reach").Formula)
	assert.Contains(t, term(base, "engagement").Detail, "boosts and reactions are not stored")
	assert.Contains(t, term(base, "positive").Detail, "2 positive posts in the last 90d")
}

// fan posts praise on n different days (one a day, the newest newestDaysAgo).
func fan(n int, newestDaysAgo float64, followers int) parley.AdvocateHistory {
	var ms []parley.Mention
	for i := range n {
		ms = append(ms, post(parley.Positive, newestDaysAgo+float64(i)*2))
	}
	return history(followers, 0, ms...)
}

func TestStates(t *testing.T) {
	auto := engine(t, nil)
	manager := engine(t, func(c *advocate.Config) { c.States.Confirm = advocate.ConfirmManager })
	with := func(h parley.AdvocateHistory, state string) parley.AdvocateHistory {
		h.Person.AdvocateState = state
		return h
	}
	confirmed := func(h parley.AdvocateHistory) parley.AdvocateHistory {
		h.ConfirmedBy, h.ConfirmedAt = "boss", now.Add(-day)
		return h
	}
	for _, c := range []struct {
		name  string
		e     *advocate.Engine
		h     parley.AdvocateHistory
		want  string
		await bool
	}{
		{"a stranger stays nobody", auto, history(10, 0, post(parley.Neutral, 1)), "", false},
		{"one glowing post from a big account: candidate", auto, fan(1, 0, 20000), parley.AdvocateCandidate, false},
		{"a big account that only complains is not a candidate", auto, history(50000, 9, post(parley.Negative, 1), post(parley.Negative, 2)), "", false},
		{"several days of praise: advocate", auto, fan(6, 1, 100), parley.AdvocateActive, false},
		{"the same praise in one burst is not enough", auto, history(100, 0, post(parley.Positive, 1), post(parley.Positive, 1.01),
			post(parley.Positive, 1.02), post(parley.Positive, 1.03), post(parley.Positive, 1.04), post(parley.Positive, 1.05)), parley.AdvocateCandidate, false},
		{"more complaints than praise: not even a candidate", auto, func() parley.AdvocateHistory {
			h := fan(6, 1, 20000)
			for i := range 6 {
				h.Mentions = append(h.Mentions, post(parley.Negative, float64(i)+40))
			}
			return h
		}(), "", false},
		{"recent complaints pull a fan below the bar", auto, func() parley.AdvocateHistory {
			h := fan(6, 1, 100)
			for i := range 5 {
				h.Mentions = append(h.Mentions, post(parley.Negative, float64(i)/2))
			}
			return h
		}(), parley.AdvocateCandidate, false},
		{"manager mode: a qualifying person waits as a candidate", manager, fan(6, 1, 100), parley.AdvocateCandidate, true},
		{"manager mode: a confirmed candidate becomes an advocate", manager, confirmed(with(fan(6, 1, 100), parley.AdvocateCandidate)), parley.AdvocateActive, false},
		{"an advocate stays one while they post", auto, with(fan(2, 3, 0), parley.AdvocateActive), parley.AdvocateActive, false},
		{"an advocate silent for 6 weeks lapses", auto, with(fan(6, 43, 100), parley.AdvocateActive), parley.AdvocateLapsed, false},
		{"an advocate with only complaints lately lapses", auto, with(history(0, 0, post(parley.Negative, 1)), parley.AdvocateActive), parley.AdvocateLapsed, false},
		{"a lapsed fan who is back is an advocate again", auto, with(fan(6, 1, 100), parley.AdvocateLapsed), parley.AdvocateActive, false},
		{"a lapsed fan with one post stays lapsed", auto, with(fan(1, 1, 100), parley.AdvocateLapsed), parley.AdvocateLapsed, false},
		{"a candidate who went quiet drops", auto, with(fan(1, 50, 20000), parley.AdvocateCandidate), "", false},
		{"a candidate whose score faded below the bar drops", auto, with(fan(1, 40, 0), parley.AdvocateCandidate), "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := c.e.Explain(c.h, now)
			assert.Equal(t, c.want, x.State, "score %.2f, %d positive on %d days: %s", x.Score, x.Positive, x.PositiveDays, x.Reason)
			assert.Equal(t, c.await, x.AwaitingConfirmation)
			if x.Changed() {
				assert.NotEmpty(t, x.Reason, "a change says why")
			}
		})
	}
}

func TestConsistencyDaysUseThePersonsZone(t *testing.T) {
	e := engine(t, nil)
	// 22:30 and 23:30 UTC: one afternoon in Denver, but 23:30 and 00:30
	// in Berlin.
	a := post(parley.Positive, 0)
	a.CreatedAt = time.Date(2026, 11, 20, 22, 30, 0, 0, time.UTC)
	b := post(parley.Positive, 0)
	b.CreatedAt = time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC)
	h := history(0, 0, a, b)
	h.Person.TimeZone = "America/Denver"
	assert.Equal(t, 1, e.Explain(h, now).PositiveDays)
	h.Person.TimeZone = "" // the brand's: Berlin, where they are two days
	assert.Equal(t, 2, e.Explain(h, now).PositiveDays)
}

func ExampleEngine_Explain() {
	e, _ := advocate.New(advocate.Defaults(), "Tidewater Skates", "UTC")
	h := parley.AdvocateHistory{Person: parley.Person{ID: 1, Handle: "jules", Followers: 842}, RepliesReceived: 3}
	for _, ago := range []int{1, 3, 8, 15, 30} {
		h.Mentions = append(h.Mentions, parley.Mention{CreatedAt: now.Add(-time.Duration(ago) * day),
			Sentiment: parley.Sentiment{Label: parley.Positive}})
	}
	h.Mentions = append(h.Mentions, parley.Mention{CreatedAt: now.Add(-2 * day), Sentiment: parley.Sentiment{Label: parley.Negative}})
	x := e.Explain(h, now)
	for _, t := range x.Terms {
		fmt.Printf("%-12s %+6.2f  %s\n", t.Name, t.Points, t.Detail)
	}
	fmt.Printf("score %.2f: %s (%s)\n", x.Score, x.State, x.Reason)
	// Output:
	// positive      +3.95  5 positive posts in the last 90d
	// reach         +1.46  842 followers
	// engagement    +1.00  3 replies from others (boosts and reactions are not stored)
	// consistency   +2.32  5 days (UTC)
	// negative      -0.91  1 negative post in the last 90d
	// score 7.83: advocate (score 7.83 ≥ 6 with 5 positive posts on 5 days)
}
