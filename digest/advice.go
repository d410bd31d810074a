package digest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/parleybot/parley"
)

// advise derives up to three things to do from the numbers, the most
// pressing first. Each candidate has a weight; people waiting for an
// answer always come first, the nice-to-haves fill the list when the
// week was calm.
func advise(d *Digest) []Advice {
	type cand struct {
		weight int
		a      Advice
	}
	var cs []cand
	add := func(w int, kind, url, format string, args ...any) {
		cs = append(cs, cand{w, Advice{Kind: kind, Text: fmt.Sprintf(format, args...), URL: url}})
	}
	s, r, v := d.Sentiment, d.Response, d.Volume

	if s.Waiting > 0 {
		worst := s.Threads[0].Post
		who := fmt.Sprintf("@%s on %s (“%s”)", worst.Author, platformName(worst.Platform), quote(worst.Text, 60))
		if s.Waiting == 1 {
			add(100, "waiting", worst.URL, "Answer the negative thread still waiting since %s: %s.", dayName(s.OldestWaiting), who)
		} else {
			add(100+s.Waiting, "waiting", worst.URL, "Answer the %d negative threads still waiting, the oldest for %s: start with %s.",
				s.Waiting, fmtAge(d.AsOf.Sub(s.OldestWaiting)), who)
		}
	}
	if r.Pending > 0 && d.AsOf.Sub(r.OldestPending) > 24*time.Hour {
		add(90, "queue", "", "Clear the approval queue: %s wait, the oldest since %s.", plural(r.Pending, "draft", "drafts"), dayName(r.OldestPending))
	}
	if r.Replied >= 3 && r.OnTimeShare() < 0.8 {
		add(80, "slow", "", "Reply faster: %s of replies went out within %s (median %s, 90%% within %s).",
			pct(r.OnTimeShare()), fmtDur(d.ResponseTarget), fmtDur(r.Median), fmtDur(r.P90))
	}
	if len(v.Spikes) > 0 {
		sp := slices.MaxFunc(v.Spikes, func(a, b Spike) int { return cmp.Compare(a.Count, b.Count) })
		text := fmt.Sprintf("Look into %s: %d mentions against a usual %s a day", dayName(sp.Date), sp.Count, fmtNum(sp.Usual))
		url := ""
		if len(sp.Top) > 0 {
			top := sp.Top[0]
			text += fmt.Sprintf("; the widest-reaching post was @%s (“%s”)", top.Author, quote(top.Text, 60))
			url = top.URL
		}
		add(70, "spike", url, "%s.", text)
	}
	neg, prevNeg := s.Share(parley.Negative), s.PrevShare(parley.Negative)
	if s.Counts[parley.Negative] >= 3 && neg-prevNeg >= 0.05 {
		text := fmt.Sprintf("Negative posts rose to %s of mentions from %s", pct(neg), pct(prevNeg))
		if t := d.Topics.Terms; len(t) > 0 {
			text += fmt.Sprintf("; “%s” rose most (%d mentions, %d the week before)", t[0].Term, t[0].Count, t[0].Prev)
		}
		add(65, "negative", "", "%s.", text)
	}
	if r.Mentions >= 10 && r.ReplyRate() < 0.25 {
		switch {
		case r.Replied == 0 && r.Pending > 0:
			add(50, "unreplied", "", "None of the %d mentions got a reply yet: %s wait for approval in the inbox.", r.Mentions, plural(r.Pending, "draft", "drafts"))
		case r.Replied == 0:
			add(50, "unreplied", "", "None of the %d mentions got a reply: skim the inbox for questions left open.", r.Mentions)
		default:
			add(50, "unreplied", "", "Only %d of %d mentions got a reply: skim the inbox for questions left open.", r.Replied, r.Mentions)
		}
	}
	if t := d.Topics.Terms; len(t) > 0 && t[0].Count >= 5 && t[0].Count-t[0].Prev >= 3 {
		add(45, "topic", "", "Prepare a saved answer about “%s”: %d mentions this week, %d the week before.", t[0].Term, t[0].Count, t[0].Prev)
	}
	if v.PrevTotal >= 20 && v.Total <= v.PrevTotal*7/10 {
		add(30, "volume", "", "Mentions fell %d%% to %d: a post or an event could restart the conversation.",
			fallPercent(v.PrevTotal, v.Total), v.Total)
	}
	for _, t := range d.People.Prompts.ByTemplate {
		if t.Sent >= 3 && t.Converted == 0 && t.Watching == 0 {
			add(35, "prompt", "", "Rethink the “%s” invitation: none of the %d sent this week converted.", t.Template, t.Sent)
			break
		}
	}
	switch pp := d.People; {
	case len(pp.NewAdvocates) > 0:
		a := pp.NewAdvocates[0]
		if len(pp.NewAdvocates) == 1 {
			add(25, "advocate", "", "Welcome @%s, who became an advocate this week: a personal thank-you goes a long way.", a.Handle)
		} else {
			add(25, "advocate", "", "Welcome your %d new advocates (first @%s): a personal thank-you goes a long way.", len(pp.NewAdvocates), a.Handle)
		}
	case len(pp.TopAdvocates) > 0:
		a := pp.TopAdvocates[0]
		add(20, "advocate", "", "Thank @%s, your top advocate (score %.1f), in person.", a.Handle, a.Score)
	}
	if best, ok := bestPost(d); ok {
		add(10, "praise", best.URL, "Share the week's happiest post with the team: @%s (“%s”).", best.Author, quote(best.Text, 60))
	}
	if d.People.FirstTime > 0 {
		add(5, "welcome", "", "%d people wrote for the first time: a friendly reply turns them into regulars.", d.People.FirstTime)
	}
	// "Nothing is waiting" only when neither a negative thread nor a draft
	// waits: a manager reads it as "the inbox is empty".
	if s.Waiting == 0 && r.Pending == 0 {
		add(1, "calm", "", "Nothing is waiting: every negative thread of the week has an answer.")
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(b.weight, a.weight) })
	var out []Advice
	for _, c := range cs[:min(3, len(cs))] {
		out = append(out, c.a)
	}
	return out
}

// fallPercent is how far cur fell below prev, in whole percent.
func fallPercent(prev, cur int) int {
	if prev <= 0 || cur >= prev {
		return 0
	}
	return int(math.Round(100 * float64(prev-cur) / float64(prev)))
}

// bestPost is the week's happiest post, if any was positive.
func bestPost(d *Digest) (Post, bool) {
	if len(d.Sentiment.Best) == 0 {
		return Post{}, false
	}
	return d.Sentiment.Best[0], true
}

// fmtNum writes a count that may be fractional (a median): 7, 7.5.
func fmtNum(f float64) string {
	if f == float64(int(f)) {
		return fmt.Sprint(int(f))
	}
	return fmt.Sprintf("%.1f", f)
}
