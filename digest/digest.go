// Package digest builds Parley's weekly digest: what happened in one ISO
// week against the week before (volume, sentiment, response, people,
// topics) and three things to do next. It renders the digest as Markdown
// for chat, HTML with inline SVG charts for email and the web, plain text,
// and PNG charts for mail clients that drop SVG; delivers it to files,
// email, Discord and Mastodon with retries; and schedules it with cron so
// each week is sent once, even across restarts and several processes.
//
// The numbers come from a parley.DigestStore (store.Store implements it);
// Discord and Mastodon delivery go through a Poster the connectors
// provide. The package imports the root package only.
package digest

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Digest is one week's numbers, compared with the week before. Build
// makes it; the Render functions turn it into text.
type Digest struct {
	Brand    string
	Week     Week
	TimeZone string
	// Start and End bound the week in TimeZone; PrevStart starts the week
	// before.
	Start, End, PrevStart time.Time
	// AsOf is when the numbers were read: replies sent and threads still
	// waiting are counted up to it.
	AsOf           time.Time
	ResponseTarget time.Duration

	Volume    Volume
	Sentiment Sentiment
	Response  Response
	People    People
	Topics    Topics
	// Next holds up to three short things to do, most important first.
	Next []Advice
	// Alerts are the real-time alerts raised in the week by kind; nil when
	// the source does not keep alerts (then the digest says nothing).
	Alerts []AlertCount
}

// AlertCount is how many alerts of one kind the week raised.
type AlertCount struct {
	Kind, Title string
	Count       int
}

// AlertsLine is the week's alerts in one line ("Alerts: Mention spike 2 ·
// Overdue conversation 5", or "No alerts this week"), "" when they were
// not counted.
func (d *Digest) AlertsLine() string {
	if d.Alerts == nil {
		return ""
	}
	if len(d.Alerts) == 0 {
		return "No alerts this week."
	}
	parts := make([]string, len(d.Alerts))
	total := 0
	for i, a := range d.Alerts {
		parts[i] = fmt.Sprintf("%s %d", a.Title, a.Count)
		total += a.Count
	}
	return fmt.Sprintf("%s: %s.", plural(total, "alert", "alerts"), strings.Join(parts, " · "))
}

// Volume is how much people said.
type Volume struct {
	Total, PrevTotal int
	// Days are the week's seven days, Monday first.
	Days []Day
	// Platforms are sorted by this week's count, largest first.
	Platforms []PlatformCount
	// Usual is the median mentions per day over the 28 days before the
	// week (or over the week itself when there is no history).
	Usual float64
	// Spikes are the days far above the usual: at least twice the usual
	// and at least 5 more.
	Spikes []Spike
}

// Day is one calendar day of the week in its time zone.
type Day struct {
	Date       time.Time // 00:00 in the digest's time zone
	Count      int
	PrevCount  int            // the same weekday a week earlier
	ByPlatform map[string]int // this week
	Sentiment  map[parley.Label]int
}

// PlatformCount is one platform's mentions.
type PlatformCount struct {
	Platform         string
	Count, PrevCount int
}

// Spike is a day far above the usual, with its top posts.
type Spike struct {
	Date  time.Time
	Count int
	Usual float64
	Top   []Post // at most 3: widest reach first, one per author
}

// Post is one mention as the digest quotes it.
type Post struct {
	ID        int64
	ThreadID  int64
	Platform  string
	Author    string // handle
	Followers int
	Text      string
	URL       string
	At        time.Time
	Sentiment parley.Label
	Score     float64
}

// Sentiment is the mood of the week.
type Sentiment struct {
	Counts, PrevCounts map[parley.Label]int
	// Waiting counts the threads whose negative mentions of the week have
	// no reply after them yet (at AsOf); Threads lists the most negative
	// of them (at most 5), worst first, and OldestWaiting is when the
	// oldest unanswered negative mention was posted.
	Waiting       int
	Threads       []WaitingThread
	OldestWaiting time.Time
	// Best are the week's happiest posts (at most 3), most positive first.
	Best []Post
	// Corrections counts the labels people corrected this week;
	// Disagreed how many of those changed the label (the rest confirmed
	// what the model said).
	Corrections, Disagreed int
}

// Share returns the share (0..1) of label this week; 0 without mentions.
func (s Sentiment) Share(l parley.Label) float64 { return share(s.Counts, l) }

// PrevShare returns the share of label the week before.
func (s Sentiment) PrevShare(l parley.Label) float64 { return share(s.PrevCounts, l) }

func share(m map[parley.Label]int, l parley.Label) float64 {
	total := 0
	for _, n := range m {
		total += n
	}
	if total == 0 {
		return 0
	}
	return float64(m[l]) / float64(total)
}

// WaitingThread is a thread with negative mentions nobody answered yet.
type WaitingThread struct {
	// Post is its most negative unanswered mention of the week.
	Post Post
	// Negative counts its unanswered negative mentions of the week.
	Negative int
	// Since is when its oldest unanswered negative mention was posted.
	Since time.Time
}

// Response is how we answered.
type Response struct {
	// Mentions counts the week's mentions that were not ignored by a rule;
	// Replied those with a reply of ours sent in their thread after them
	// (by AsOf).
	Mentions, Replied         int
	PrevMentions, PrevReplied int
	// Median and P90 of the time from a mention to the first reply after
	// it, over replied mentions (linear interpolation between ranks,
	// rounded to the second). Zero when nothing was replied.
	Median, P90, PrevMedian, PrevP90 time.Duration
	// OnTime counts replied mentions answered within the target.
	OnTime, PrevOnTime int
	// Buckets is the distribution of the time to first reply.
	Buckets []Bucket
	// Drafts decided this week: approved by a person (Edited of them
	// changed first), approved by a rule, rejected. Drafted counts the
	// drafts created this week.
	Drafted, Approved, Edited, AutoApproved, Rejected int
	// Pending drafts wait for approval now; the oldest since OldestPending.
	Pending       int
	OldestPending time.Time
	// Agents are the people who decided drafts this week, busiest first.
	Agents []Agent
	// SavedReplies are the saved replies used in drafts approved this
	// week, most used first.
	SavedReplies []parley.SavedReplyUse
}

// ReplyRate returns Replied/Mentions (0 without mentions).
func (r Response) ReplyRate() float64 { return ratio(r.Replied, r.Mentions) }

// PrevReplyRate returns the week before's reply rate.
func (r Response) PrevReplyRate() float64 { return ratio(r.PrevReplied, r.PrevMentions) }

// OnTimeShare returns OnTime/Replied (0 without replies).
func (r Response) OnTimeShare() float64 { return ratio(r.OnTime, r.Replied) }

// PrevOnTimeShare returns the week before's on-time share.
func (r Response) PrevOnTimeShare() float64 { return ratio(r.PrevOnTime, r.PrevReplied) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Bucket is a range of reply times: (previous bucket's Max, Max]; the
// last bucket has no upper bound (Max 0).
type Bucket struct {
	Label string
	Max   time.Duration
	Count int
}

// Agent counts one person's decisions in the week.
type Agent struct {
	Name                       string
	Approved, Edited, Rejected int
}

// Total returns the agent's decisions (an edit then approval counts once
// as approved and once as edited).
func (a Agent) Total() int { return a.Approved + a.Rejected }

// People is who talked and the advocates.
type People struct {
	// Total people wrote this week: FirstTime of them for the first time
	// ever, the others returning.
	Total, FirstTime, Returning int
	PrevTotal, PrevFirstTime    int
	// Top are the week's most active people (at most 3, at least 2
	// mentions each).
	Top []Voice
	// Advocate states now: candidates, advocates, lapsed.
	Candidates, Advocates, Lapsed int
	// TopAdvocates are the best-scored advocates now (at most 5).
	TopAdvocates []Voice
	// NewAdvocates became advocates this week; Lapsed ones stopped being
	// advocates this week (their latest change of the week counts).
	NewAdvocates, LapsedAdvocates []Voice
	// Prompts are the advocate invitations of the week.
	Prompts Prompts
	// OptOuts and OptIns count the audit log's optout and optin entries
	// of the week.
	OptOuts, OptIns int
}

// Voice is a person the digest names.
type Voice struct {
	Handle   string
	Platform string
	Mentions int     // this week
	Score    float64 // advocate score
}

// Prompts counts advocate prompts (drafts of kind prompt).
type Prompts struct {
	// Drafted this week; Sent this week; Rejected this week; Converted of
	// those sent this week so far.
	Drafted, Sent, Rejected, Converted int
	// ByTemplate counts per template (the rule that drafted the prompt),
	// most drafted first.
	ByTemplate []TemplateCount
}

// TemplateCount is one prompt template's week. The outcomes are those of
// the prompts sent this week, so far.
type TemplateCount struct {
	Template                               string
	Drafted, Sent, Rejected                int
	Converted, Declined, Expired, Watching int
}

// Rate returns Converted/Sent (0 with nothing sent).
func (t TemplateCount) Rate() float64 { return ratio(t.Converted, t.Sent) }

// Topics is what people talked about more than the week before.
type Topics struct {
	Terms    []Term // at most 8
	Hashtags []Term // at most 5
}

// Term is a word or hashtag with the number of mentions that used it.
type Term struct {
	Term        string
	Count, Prev int
}

// Advice is one thing to do next, derived from the numbers.
type Advice struct {
	Kind string // waiting, queue, slow, unreplied, spike, negative, topic, advocate, volume, calm
	Text string // one line, plain text
	URL  string // where to start, if there is one place
}
