package digest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Source is what Build reads; parley.DigestStore (store.Store) has it.
type Source interface {
	// DigestWindow reads the period [from, to) as seen at asOf.
	DigestWindow(ctx context.Context, from, to, asOf time.Time) (parley.DigestWindow, error)
	// MentionTimes returns the creation times of the mentions in [from, to).
	MentionTimes(ctx context.Context, from, to time.Time) ([]time.Time, error)
}

// AlertCounter is what a Source may also have (both stores do): the
// alerts raised in a period by kind, which the digest counts.
type AlertCounter interface {
	AlertCounts(ctx context.Context, from, to time.Time) (map[string]int, error)
}

// Options tune Build.
type Options struct {
	// Brand names the digest ("Tidewater Skates").
	Brand string
	// Location is the time zone of the weeks and days; default UTC.
	Location *time.Location
	// ResponseTarget is the reply time measured against; default 1h.
	ResponseTarget time.Duration
	// AsOf is when the numbers are read; default now.
	AsOf time.Time
}

// Build reads week and the week before from src and computes the digest.
// Errors come from src.
func Build(ctx context.Context, src Source, week Week, opts Options) (*Digest, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.ResponseTarget <= 0 {
		opts.ResponseTarget = DefaultResponseTarget
	}
	if opts.AsOf.IsZero() {
		opts.AsOf = time.Now()
	}
	loc := opts.Location
	start, end := week.Start(loc), week.End(loc)
	prevStart := week.Prev().Start(loc)
	cur, err := src.DigestWindow(ctx, start, end, opts.AsOf)
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", week, err)
	}
	prev, err := src.DigestWindow(ctx, prevStart, start, opts.AsOf)
	if err != nil {
		return nil, fmt.Errorf("digest %s: the week before: %w", week, err)
	}
	baseline, err := src.MentionTimes(ctx, week.Day(-28, loc), start)
	if err != nil {
		return nil, fmt.Errorf("digest %s: the usual volume: %w", week, err)
	}
	d := Compute(week, cur, prev, baseline, opts)
	if ac, ok := src.(AlertCounter); ok {
		counts, err := ac.AlertCounts(ctx, start, end)
		if err != nil {
			return nil, fmt.Errorf("digest %s: the alerts: %w", week, err)
		}
		d.Alerts = alertCounts(counts)
	}
	return d, nil
}

// alertCounts orders the counts by kind as parley.AlertKinds does (other
// kinds after them); never nil, so an empty week says "no alerts".
func alertCounts(counts map[string]int) []AlertCount {
	out := []AlertCount{}
	for _, k := range parley.AlertKinds() {
		if n := counts[k]; n > 0 {
			out = append(out, AlertCount{Kind: k, Title: parley.AlertKindTitle(k), Count: n})
		}
	}
	var rest []string
	for k := range counts {
		if !slices.Contains(parley.AlertKinds(), k) && counts[k] > 0 {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		out = append(out, AlertCount{Kind: k, Title: parley.AlertKindTitle(k), Count: counts[k]})
	}
	return out
}

// Compute makes the digest of week from its window, the window of the
// week before and the creation times of the mentions of the 28 days
// before week (the baseline for spikes). Build calls it; tests may too.
// opts must have Location, ResponseTarget and AsOf set.
func Compute(week Week, cur, prev parley.DigestWindow, baseline []time.Time, opts Options) *Digest {
	loc := opts.Location
	d := &Digest{
		Brand:          opts.Brand,
		Week:           week,
		TimeZone:       loc.String(),
		Start:          week.Start(loc),
		End:            week.End(loc),
		PrevStart:      week.Prev().Start(loc),
		AsOf:           opts.AsOf.In(loc),
		ResponseTarget: opts.ResponseTarget,
	}
	curMs, prevMs := counted(cur.Mentions), counted(prev.Mentions)
	d.Volume = volume(week, curMs, prevMs, baseline, loc)
	curReplies, prevReplies := firstReplies(curMs, cur.Replies), firstReplies(prevMs, prev.Replies)
	d.Sentiment = sentiment(curMs, prevMs, curReplies, loc)
	d.Sentiment.Corrections, d.Sentiment.Disagreed = corrections(cur.Audit)
	d.Response = response(d, cur, curMs, prevMs, curReplies, prevReplies)
	d.People = people(d, cur, prev, curMs, prevMs)
	d.Topics = topics(curMs, prevMs, opts.Brand)
	d.Next = advise(d)
	return d
}

// counted drops the mentions a rule ignored (spam): the digest counts
// the rest everywhere.
func counted(ms []parley.Mention) []parley.Mention {
	out := make([]parley.Mention, 0, len(ms))
	for _, m := range ms {
		if !m.Ignored {
			out = append(out, m)
		}
	}
	return out
}

// days returns the n+1 midnights (in loc) that bound n days from the
// week's Monday plus offset days.
func days(week Week, offset, n int, loc *time.Location) []time.Time {
	out := make([]time.Time, n+1)
	for i := range out {
		out[i] = week.Day(offset+i, loc)
	}
	return out
}

// dayIndex returns which of the days bounded by bounds t falls on, or -1.
func dayIndex(bounds []time.Time, t time.Time) int {
	i := sort.Search(len(bounds), func(i int) bool { return bounds[i].After(t) })
	if i == 0 || i == len(bounds) {
		return -1
	}
	return i - 1
}

func volume(week Week, cur, prev []parley.Mention, baseline []time.Time, loc *time.Location) Volume {
	v := Volume{Total: len(cur), PrevTotal: len(prev)}
	v.Days = make([]Day, 7)
	for i := range v.Days {
		v.Days[i] = Day{Date: week.Day(i, loc), ByPlatform: map[string]int{}, Sentiment: map[parley.Label]int{}}
	}
	plat := map[string]*PlatformCount{}
	platform := func(p string) *PlatformCount {
		if plat[p] == nil {
			plat[p] = &PlatformCount{Platform: p}
		}
		return plat[p]
	}
	curDays, prevDays := days(week, 0, 7, loc), days(week, -7, 7, loc)
	for _, m := range cur {
		if i := dayIndex(curDays, m.CreatedAt); i >= 0 {
			v.Days[i].Count++
			v.Days[i].ByPlatform[m.Platform]++
			v.Days[i].Sentiment[m.Sentiment.Label]++
		}
		platform(m.Platform).Count++
	}
	for _, m := range prev {
		if i := dayIndex(prevDays, m.CreatedAt); i >= 0 {
			v.Days[i].PrevCount++
		}
		platform(m.Platform).PrevCount++
	}
	for _, p := range plat {
		v.Platforms = append(v.Platforms, *p)
	}
	slices.SortFunc(v.Platforms, func(a, b PlatformCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(b.PrevCount, a.PrevCount), strings.Compare(a.Platform, b.Platform))
	})

	// The usual day: the median over the 28 days before the week, from
	// the first day that had a mention (a new install has no history).
	daily := make([]int, 28)
	first := 28
	baseDays := days(week, -28, 28, loc)
	for _, t := range baseline {
		if k := dayIndex(baseDays, t); k >= 0 {
			daily[k]++
			first = min(first, k)
		}
	}
	if first < 28 {
		v.Usual = medianInts(daily[first:])
	} else {
		counts := make([]int, 7)
		for i, day := range v.Days {
			counts[i] = day.Count
		}
		v.Usual = medianInts(counts)
	}
	for i, day := range v.Days {
		if float64(day.Count) >= 2*v.Usual && float64(day.Count) >= v.Usual+5 {
			sp := Spike{Date: day.Date, Count: day.Count, Usual: v.Usual}
			var posts []Post
			for _, m := range cur {
				if dayIndex(curDays, m.CreatedAt) == i {
					posts = append(posts, post(m, loc))
				}
			}
			slices.SortStableFunc(posts, func(a, b Post) int {
				return cmp.Or(cmp.Compare(b.Followers, a.Followers), cmp.Compare(math.Abs(b.Score), math.Abs(a.Score)),
					cmp.Compare(a.ID, b.ID))
			})
			// The top posts: widest reach first, one per author.
			authors := map[string]bool{}
			for _, p := range posts {
				if len(sp.Top) < 3 && !authors[p.Platform+"/"+p.Author] {
					authors[p.Platform+"/"+p.Author] = true
					sp.Top = append(sp.Top, p)
				}
			}
			v.Spikes = append(v.Spikes, sp)
		}
	}
	return v
}

func medianInts(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return float64(s[n/2-1]+s[n/2]) / 2
}

func post(m parley.Mention, loc *time.Location) Post {
	return Post{ID: m.ID, ThreadID: m.ThreadID, Platform: m.Platform, Author: m.Author.Handle, Followers: m.Author.Followers,
		Text: m.Text, URL: m.URL, At: m.CreatedAt.In(loc), Sentiment: m.Sentiment.Label, Score: m.Sentiment.Score}
}

// firstReplies maps each mention id to the time of the first reply of
// ours sent in its thread at or after it; unanswered mentions are absent.
func firstReplies(ms []parley.Mention, replies []parley.Draft) map[int64]time.Time {
	byThread := map[int64][]time.Time{}
	for _, r := range replies {
		if r.ThreadID != 0 && !r.SentAt.IsZero() {
			byThread[r.ThreadID] = append(byThread[r.ThreadID], r.SentAt)
		}
	}
	for _, ts := range byThread {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	out := map[int64]time.Time{}
	for _, m := range ms {
		ts := byThread[m.ThreadID]
		i, _ := slices.BinarySearchFunc(ts, m.CreatedAt, func(a, b time.Time) int { return a.Compare(b) })
		if i < len(ts) {
			out[m.ID] = ts[i]
		}
	}
	return out
}

// corrections counts the sentiment corrections in the audit log (the store
// writes "mention N: old -> new") and those that changed the label.
func corrections(audit []parley.AuditEntry) (total, disagreed int) {
	for _, e := range audit {
		if e.Action != "correct-sentiment" {
			continue
		}
		total++
		if _, change, ok := strings.Cut(e.Detail, ": "); ok {
			if from, to, ok := strings.Cut(change, " -> "); ok && from != to {
				disagreed++
			}
		}
	}
	return total, disagreed
}

func labelCounts(ms []parley.Mention) map[parley.Label]int {
	c := map[parley.Label]int{parley.Negative: 0, parley.Neutral: 0, parley.Positive: 0}
	for _, m := range ms {
		c[m.Sentiment.Label]++
	}
	return c
}

func sentiment(cur, prev []parley.Mention, replied map[int64]time.Time, loc *time.Location) Sentiment {
	s := Sentiment{Counts: labelCounts(cur), PrevCounts: labelCounts(prev)}
	threads := map[int64]*WaitingThread{}
	var order []int64
	for _, m := range cur {
		if m.Sentiment.Label != parley.Negative {
			continue
		}
		if _, ok := replied[m.ID]; ok {
			continue
		}
		t := threads[m.ThreadID]
		if t == nil {
			t = &WaitingThread{Post: post(m, loc), Since: m.CreatedAt.In(loc)}
			threads[m.ThreadID] = t
			order = append(order, m.ThreadID)
		}
		t.Negative++
		if m.Sentiment.Score < t.Post.Score {
			t.Post = post(m, loc)
		}
		if m.CreatedAt.Before(t.Since) {
			t.Since = m.CreatedAt.In(loc)
		}
	}
	all := make([]WaitingThread, 0, len(order))
	for _, id := range order {
		all = append(all, *threads[id])
	}
	slices.SortStableFunc(all, func(a, b WaitingThread) int {
		return cmp.Or(cmp.Compare(a.Post.Score, b.Post.Score), a.Since.Compare(b.Since))
	})
	s.Waiting = len(all)
	for _, t := range all {
		if s.OldestWaiting.IsZero() || t.Since.Before(s.OldestWaiting) {
			s.OldestWaiting = t.Since
		}
	}
	s.Threads = all[:min(5, len(all))]
	for _, m := range cur {
		if m.Sentiment.Label == parley.Positive {
			s.Best = append(s.Best, post(m, loc))
		}
	}
	slices.SortStableFunc(s.Best, func(a, b Post) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(b.Followers, a.Followers), cmp.Compare(a.ID, b.ID))
	})
	s.Best = s.Best[:min(3, len(s.Best))]
	return s
}

// The reply-time buckets.
var bucketBounds = []struct {
	label string
	max   time.Duration
}{
	{"< 15 min", 15 * time.Minute},
	{"15–60 min", time.Hour},
	{"1–4 h", 4 * time.Hour},
	{"4–24 h", 24 * time.Hour},
	{"> 1 day", 0},
}

// replyTimes returns the sorted times to first reply of ms.
func replyTimes(ms []parley.Mention, replied map[int64]time.Time) []time.Duration {
	var out []time.Duration
	for _, m := range ms {
		if at, ok := replied[m.ID]; ok {
			out = append(out, at.Sub(m.CreatedAt))
		}
	}
	slices.Sort(out)
	return out
}

// percentile returns the p-th percentile (0..1) of sorted by linear
// interpolation between the closest ranks, rounded to the second.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	r := p * float64(len(sorted)-1)
	lo, hi := int(math.Floor(r)), int(math.Ceil(r))
	v := float64(sorted[lo]) + (r-float64(lo))*float64(sorted[hi]-sorted[lo])
	return time.Duration(math.Round(v/float64(time.Second))) * time.Second
}

func onTime(ts []time.Duration, target time.Duration) int {
	n := 0
	for _, t := range ts {
		if t <= target {
			n++
		}
	}
	return n
}

func in(t, start, end time.Time) bool { return !t.IsZero() && !t.Before(start) && t.Before(end) }

func isReply(d parley.Draft) bool { return d.Kind == parley.KindReply || d.Kind == "" }

func response(d *Digest, cur parley.DigestWindow, curMs, prevMs []parley.Mention, curReplied, prevReplied map[int64]time.Time) Response {
	r := Response{Mentions: len(curMs), PrevMentions: len(prevMs), Pending: cur.Pending}
	if !cur.OldestPending.IsZero() {
		r.OldestPending = cur.OldestPending.In(d.Start.Location())
	}
	ts, pts := replyTimes(curMs, curReplied), replyTimes(prevMs, prevReplied)
	r.Replied, r.PrevReplied = len(ts), len(pts)
	r.Median, r.P90 = percentile(ts, 0.5), percentile(ts, 0.9)
	r.PrevMedian, r.PrevP90 = percentile(pts, 0.5), percentile(pts, 0.9)
	r.OnTime, r.PrevOnTime = onTime(ts, d.ResponseTarget), onTime(pts, d.ResponseTarget)
	for i, b := range bucketBounds {
		bk := Bucket{Label: b.label, Max: b.max}
		for _, t := range ts {
			above := i == 0 || t > bucketBounds[i-1].max
			if above && (b.max == 0 || t <= b.max) {
				bk.Count++
			}
		}
		r.Buckets = append(r.Buckets, bk)
	}
	for _, dr := range cur.Drafts {
		if !isReply(dr) {
			continue
		}
		if in(dr.CreatedAt, d.Start, d.End) {
			r.Drafted++
		}
		if !in(dr.DecidedAt, d.Start, d.End) {
			continue
		}
		switch dr.State {
		case parley.DraftApproved, parley.DraftSending, parley.DraftSent, parley.DraftFailed:
			if strings.HasPrefix(dr.DecidedBy, "rule:") {
				r.AutoApproved++
				continue
			}
			r.Approved++
			if dr.OriginalText != "" {
				r.Edited++
			}
		case parley.DraftRejected:
			r.Rejected++
		}
	}
	agents := map[string]*Agent{}
	edited := map[string]map[int64]bool{}
	for _, e := range cur.Audit {
		if e.Actor == "" || strings.HasPrefix(e.Actor, "rule:") {
			continue
		}
		a := agents[e.Actor]
		switch e.Action {
		case "approve", "edit", "reject", "undo":
			if a == nil {
				a = &Agent{Name: e.Actor}
				agents[e.Actor] = a
				edited[e.Actor] = map[int64]bool{}
			}
		default:
			continue
		}
		switch e.Action {
		case "approve":
			a.Approved++
			if strings.Contains(e.Detail, "edited") {
				edited[e.Actor][e.DraftID] = true
			}
		case "edit":
			edited[e.Actor][e.DraftID] = true
		case "reject":
			a.Rejected++
		case "undo":
			// An approval undone within its grace period was not one.
			a.Approved--
		}
	}
	for name, a := range agents {
		a.Edited = len(edited[name])
		a.Approved = max(a.Approved, 0) // an undo of an approval made the week before
		if a.Total() == 0 && a.Edited == 0 {
			continue
		}
		r.Agents = append(r.Agents, *a)
	}
	slices.SortFunc(r.Agents, func(a, b Agent) int {
		return cmp.Or(cmp.Compare(b.Total(), a.Total()), strings.Compare(a.Name, b.Name))
	})
	r.SavedReplies = slices.Clone(cur.SavedReplies)
	return r
}

func people(d *Digest, cur, prev parley.DigestWindow, curMs, prevMs []parley.Mention) People {
	var p People
	p.Total, p.FirstTime = firstTimers(curMs, cur.People, d.Start, d.End)
	p.PrevTotal, p.PrevFirstTime = firstTimers(prevMs, prev.People, d.PrevStart, d.Start)
	p.Returning = p.Total - p.FirstTime

	count := map[int64]int{}
	who := map[int64]parley.Mention{}
	for _, m := range curMs {
		count[m.PersonID]++
		who[m.PersonID] = m
	}
	for id, n := range count {
		if n >= 2 {
			m := who[id]
			p.Top = append(p.Top, Voice{Handle: m.Author.Handle, Platform: m.Platform, Mentions: n})
		}
	}
	slices.SortFunc(p.Top, func(a, b Voice) int {
		return cmp.Or(cmp.Compare(b.Mentions, a.Mentions), strings.Compare(a.Handle, b.Handle))
	})
	p.Top = p.Top[:min(3, len(p.Top))]
	advocates(&p, d, cur)
	return p
}

// firstTimers counts the distinct authors of ms and those first seen in
// [start, end).
func firstTimers(ms []parley.Mention, ps []parley.Person, start, end time.Time) (total, first int) {
	firstSeen := map[int64]time.Time{}
	for _, p := range ps {
		firstSeen[p.ID] = p.FirstSeen
	}
	seen := map[int64]bool{}
	for _, m := range ms {
		if seen[m.PersonID] {
			continue
		}
		seen[m.PersonID] = true
		total++
		if in(firstSeen[m.PersonID], start, end) {
			first++
		}
	}
	return total, first
}

// advocates fills the advocate part of People. Everything the digest
// says about advocates and prompts is computed here (the store side is
// store/digest_people.go), so the advocates work extends these two places.
func advocates(p *People, d *Digest, cur parley.DigestWindow) {
	p.Candidates = cur.AdvocateStates["candidate"]
	p.Advocates = cur.AdvocateStates["advocate"]
	p.Lapsed = cur.AdvocateStates["lapsed"]
	for _, a := range cur.Advocates[:min(5, len(cur.Advocates))] {
		p.TopAdvocates = append(p.TopAdvocates, Voice{Handle: a.Handle, Platform: a.Platform, Score: a.AdvocateScore})
	}
	tmpl := map[string]*TemplateCount{}
	for _, dr := range cur.Drafts {
		if dr.Kind != parley.KindPrompt {
			continue
		}
		name := dr.Rule
		if name == "" {
			name = "(no template)"
		}
		t := tmpl[name]
		if t == nil {
			t = &TemplateCount{Template: name}
			tmpl[name] = t
		}
		if in(dr.CreatedAt, d.Start, d.End) {
			p.Prompts.Drafted++
			t.Drafted++
		}
		if in(dr.SentAt, d.Start, d.End) {
			p.Prompts.Sent++
			t.Sent++
		}
		if dr.State == parley.DraftRejected && in(dr.DecidedAt, d.Start, d.End) {
			p.Prompts.Rejected++
			t.Rejected++
		}
	}
	// The prompts table knows what was sent and how it ended; it wins
	// over the drafts for the templates it has.
	for _, st := range cur.Prompts {
		t := tmpl[st.Template]
		if t == nil {
			t = &TemplateCount{Template: st.Template}
			tmpl[st.Template] = t
		}
		p.Prompts.Sent += st.Sent - t.Sent
		t.Sent, t.Converted, t.Declined, t.Expired, t.Watching = st.Sent, st.Converted, st.Declined, st.Expired, st.Watching
		p.Prompts.Converted += st.Converted
	}
	for _, t := range tmpl {
		if t.Drafted+t.Sent+t.Rejected > 0 {
			p.Prompts.ByTemplate = append(p.Prompts.ByTemplate, *t)
		}
	}
	slices.SortFunc(p.Prompts.ByTemplate, func(a, b TemplateCount) int {
		return cmp.Or(cmp.Compare(b.Drafted, a.Drafted), cmp.Compare(b.Sent, a.Sent), strings.Compare(a.Template, b.Template))
	})
	// A person's last change of the week says where they ended up.
	last := map[int64]parley.AdvocateChange{}
	var order []int64
	for _, c := range cur.AdvocateChanges {
		if _, seen := last[c.PersonID]; !seen {
			order = append(order, c.PersonID)
		}
		last[c.PersonID] = c
	}
	for _, id := range order {
		c := last[id]
		v := Voice{Handle: c.Handle, Platform: c.Platform, Score: c.Score}
		switch {
		case c.To == "advocate" && c.From != "advocate":
			p.NewAdvocates = append(p.NewAdvocates, v)
		case c.To == "lapsed":
			p.LapsedAdvocates = append(p.LapsedAdvocates, v)
		}
	}
	for _, e := range cur.Audit {
		switch e.Action {
		case "optout":
			p.OptOuts++
		case "optin":
			p.OptIns++
		}
	}
}
