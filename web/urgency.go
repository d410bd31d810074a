package web

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/parleybot/parley"
)

// Urgency ranks pending drafts for the inbox, most urgent first:
//
//  1. the priority the rules gave (higher first), then
//  2. a score adding: 2 for a negative post; 1 per 6 hours the customer
//     has waited since their post (up to 4, so a day-old post outranks a
//     fresh complaint; posts caught up after downtime are not fresh); and the reach of
//     the author, 1 per tenfold of followers above 100 (up to 3: 100k+),
//  3. then the oldest first.
//
// Rank is one number that sorts the same way (app.js places live drafts
// with it): priority·100 + score.
type Urgency struct {
	Priority int
	Negative bool
	Waited   time.Duration
	Reach    int // followers
	Score    float64
	Rank     float64
}

// UrgencyOf scores one inbox item at now.
func UrgencyOf(it parley.InboxItem, now time.Time) Urgency {
	u := Urgency{Priority: it.Draft.Priority, Reach: it.Person.Followers, Waited: max(0, now.Sub(it.Draft.CreatedAt))}
	if it.Mention.ID != 0 {
		u.Waited = max(0, now.Sub(it.Mention.CreatedAt))
		u.Priority = max(u.Priority, it.Mention.Priority)
		u.Negative = it.Mention.Sentiment.Label == parley.Negative
	}
	if u.Negative {
		u.Score += 2
	}
	u.Score += min(u.Waited.Hours()/6, 4)
	if u.Reach > 100 {
		u.Score += min(math.Log10(float64(u.Reach))-2, 3)
	}
	u.Score = math.Round(u.Score*1000) / 1000
	u.Rank = float64(u.Priority)*100 + u.Score
	return u
}

// RankItems sorts items most urgent first, as the inbox shows them, and
// returns their urgencies in the same order. The CLI's queue uses it too.
func RankItems(items []parley.InboxItem, now time.Time) []Urgency { return rankItems(items, now) }

// rankItems sorts items most urgent first and returns their urgencies in
// the same order.
func rankItems(items []parley.InboxItem, now time.Time) []Urgency {
	type ranked struct {
		it parley.InboxItem
		u  Urgency
	}
	rs := make([]ranked, len(items))
	for i, it := range items {
		rs[i] = ranked{it, UrgencyOf(it, now)}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		if c := cmp.Compare(b.u.Rank, a.u.Rank); c != 0 {
			return c
		}
		if c := cmp.Compare(b.u.Waited, a.u.Waited); c != 0 {
			return c
		}
		if c := a.it.Draft.CreatedAt.Compare(b.it.Draft.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.it.Draft.ID, b.it.Draft.ID)
	})
	us := make([]Urgency, len(rs))
	for i, r := range rs {
		items[i], us[i] = r.it, r.u
	}
	return us
}
