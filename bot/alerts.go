package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// AlertsStore is what the alert detectors read and write.
type AlertsStore interface {
	parley.AlertStore
	parley.Inbox
}

// SpikeOptions tune the spike detectors. A spike is judged against the
// same hour of the week in the weeks before: with c the mentions in the
// last 60 minutes and c₁…cₙ those in the same 60 minutes 1…n weeks
// earlier (the weeks since the first stored mention, at most Weeks), μ
// their mean and σ their standard deviation, it is a spike when
//
//	c ≥ max(Min, μ + K·max(σ, √μ, 1))
//
// √μ is the noise a count of μ has anyway (Poisson), and 1 keeps a
// perfectly flat baseline from alerting on one more mention; Min keeps a
// quiet brand going from 0 to 3 mentions from alerting at all. Fewer
// than MinWeeks weeks of history judge nothing.
type SpikeOptions struct {
	// Weeks is how many weeks back the baseline looks; default 6.
	Weeks int
	// MinWeeks is how many of them must have passed since the first
	// mention; default 3.
	MinWeeks int
	// K is how many deviations above the mean count as a spike; default 3.
	K float64
	// MinMentions and MinNegative are the floors of the two spikes:
	// default 10 mentions and 5 negative ones in the hour.
	MinMentions, MinNegative int
	// Off turns both spike detectors off.
	Off bool
}

// AlertsOptions tune Alerts. The zero value runs the spike detectors with
// their defaults, no large-reach or overdue detector, and delivers nowhere.
type AlertsOptions struct {
	Logger *slog.Logger
	// Interval is how often the detectors look; default 30s.
	Interval time.Duration
	// Cooldown keeps an alert of the same kind and key from being raised
	// again within it; default 2h, at least LargeReachWindow.
	Cooldown time.Duration
	Spike    SpikeOptions
	// LargeReachFollowers, when positive, alerts on each negative mention
	// whose author has at least this many followers (once per person
	// within the cooldown).
	LargeReachFollowers int
	// ResponseTarget, when positive, alerts once on each conversation
	// waiting longer than it (the inbox's overdue mark).
	ResponseTarget time.Duration
	// Emit hands a raised alert to the webhooks (Webhooks.Emit, as
	// parley.EventAlertRaised); nil sends none. It must not block.
	Emit func(typ string, personID int64, data any)
	// Notify delivers a raised alert to the staff channels (the digest's
	// Discord and email delivery); nil delivers none. It is called on the
	// detectors' goroutine, with a context bounded by NotifyTimeout.
	Notify func(ctx context.Context, a parley.Alert) error
	// NotifyTimeout bounds one Notify; default 45s, so an alert reaches
	// the channels within a minute of being raised or not at all.
	NotifyTimeout time.Duration
	// BaseURL, when set, makes the webhook payload carry the alert's link.
	BaseURL string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// LargeReachWindow is how far back each look reads negative posts: a
// post stored late (a connector catching up) is still seen.
const LargeReachWindow = time.Hour

// overdueWindow is how long after passing the target a conversation is
// still alerted on: older ones are not news (the inbox marks them).
const overdueWindow = 24 * time.Hour

// Alerts runs the real-time alert detectors: a spike of mentions and of
// negative mentions, a negative post with a large reach, a conversation
// past its response target. Each raised alert is stored (the store
// drops a repeat within the cooldown), handed to the webhooks and
// delivered to the staff channels. Run looks every Interval until its
// context ends.
type Alerts struct {
	st   AlertsStore
	opts AlertsOptions
	log  *slog.Logger
}

// NewAlerts returns the detectors on st; Run starts them.
func NewAlerts(st AlertsStore, o AlertsOptions) *Alerts {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Cooldown <= 0 {
		o.Cooldown = 2 * time.Hour
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = 45 * time.Second
	}
	s := &o.Spike
	if s.Weeks <= 0 {
		s.Weeks = 6
	}
	if s.MinWeeks <= 0 {
		s.MinWeeks = min(3, s.Weeks)
	}
	if s.K <= 0 {
		s.K = 3
	}
	if s.MinMentions <= 0 {
		s.MinMentions = 10
	}
	if s.MinNegative <= 0 {
		s.MinNegative = 5
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Alerts{st: st, opts: o, log: o.Logger}
}

// Run looks at once and then every Interval until ctx ends. A failed
// look is logged and the next one tries again.
func (a *Alerts) Run(ctx context.Context) error {
	t := time.NewTicker(a.opts.Interval)
	defer t.Stop()
	for {
		if _, err := a.Check(ctx, a.opts.Now()); err != nil && ctx.Err() == nil {
			a.log.Warn("alerts: a look failed; trying again at the next", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// candidate is an alert a detector found, with the cooldown it is raised
// under.
type candidate struct {
	alert    parley.Alert
	cooldown time.Duration
}

// Check runs every detector as of now and returns the alerts it raised
// (those the cooldown did not suppress), each already handed on. The
// detectors' errors are joined; one failing does not stop the others.
func (a *Alerts) Check(ctx context.Context, now time.Time) ([]parley.Alert, error) {
	var found []candidate
	var errs []error
	run := func(detect func(context.Context, time.Time) ([]candidate, error)) {
		c, err := detect(ctx, now)
		found, errs = append(found, c...), append(errs, err)
	}
	if !a.opts.Spike.Off {
		run(a.spikes)
	}
	if a.opts.LargeReachFollowers > 0 {
		run(a.largeReach)
	}
	if a.opts.ResponseTarget > 0 {
		run(a.overdue)
	}
	var raised []parley.Alert
	for _, c := range found {
		got, ok, err := a.st.RaiseAlert(ctx, c.alert, c.cooldown)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			raised = append(raised, got)
			a.deliver(ctx, got)
		}
	}
	return raised, errors.Join(errs...)
}

// deliver hands a raised alert to the webhooks and the channels.
func (a *Alerts) deliver(ctx context.Context, al parley.Alert) {
	a.log.Info("alert raised", "kind", al.Kind, "key", al.Key, "alert_id", al.ID, "title", al.Title)
	if a.opts.Emit != nil {
		a.opts.Emit(parley.EventAlertRaised, al.PersonID, map[string]any{"alert": AlertView(al, a.opts.BaseURL)})
	}
	if a.opts.Notify == nil {
		return
	}
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.opts.NotifyTimeout)
	defer cancel()
	if err := a.opts.Notify(nctx, al); err != nil {
		a.log.Error("alert not delivered to every channel", "alert_id", al.ID, "kind", al.Kind, "err", err)
	}
}

// AlertPayload is an alert as the alert.raised event carries it.
type AlertPayload struct {
	parley.Alert
	KindTitle string `json:"kind_title"`
	// URL is the link to what it is about, when web.base_url is set.
	URL string `json:"url,omitempty"`
}

// AlertView is al as webhooks and channels show it.
func AlertView(al parley.Alert, baseURL string) AlertPayload {
	v := AlertPayload{Alert: al, KindTitle: parley.AlertKindTitle(al.Kind)}
	if baseURL != "" {
		v.URL = trimSlash(baseURL) + al.Path()
	}
	return v
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}

// Baseline is what a spike is judged against.
type Baseline struct {
	Weeks     int     // how many weeks it averages
	Mean, Dev float64 // μ and σ of their counts
	Threshold float64 // the count that makes a spike
}

// SpikeThreshold computes the baseline of counts (the same hour in
// earlier weeks) and the threshold max(floor, μ + k·max(σ, √μ, 1)).
func SpikeThreshold(counts []int, k float64, floor int) Baseline {
	b := Baseline{Weeks: len(counts)}
	if len(counts) == 0 {
		return b
	}
	for _, c := range counts {
		b.Mean += float64(c)
	}
	b.Mean /= float64(len(counts))
	for _, c := range counts {
		b.Dev += (float64(c) - b.Mean) * (float64(c) - b.Mean)
	}
	b.Dev = math.Sqrt(b.Dev / float64(len(counts)))
	b.Threshold = math.Max(float64(floor), b.Mean+k*math.Max(b.Dev, math.Max(math.Sqrt(b.Mean), 1)))
	return b
}

// spikes compares the last hour with the same hour of the earlier weeks.
func (a *Alerts) spikes(ctx context.Context, now time.Time) ([]candidate, error) {
	first, err := a.st.EarliestMention(ctx)
	if err != nil || first.IsZero() {
		return nil, err
	}
	o := a.opts.Spike
	cur, err := a.st.CountMentions(ctx, now.Add(-time.Hour), now)
	if err != nil {
		return nil, err
	}
	var all, neg []int
	for i := 1; i <= o.Weeks; i++ {
		end := now.Add(-time.Duration(i) * 7 * 24 * time.Hour)
		if !end.After(first) {
			break // before the first mention: no history, not a quiet hour
		}
		c, err := a.st.CountMentions(ctx, end.Add(-time.Hour), end)
		if err != nil {
			return nil, err
		}
		all, neg = append(all, c.All), append(neg, c.Negative)
	}
	if len(all) < o.MinWeeks {
		return nil, nil
	}
	var out []candidate
	if b := SpikeThreshold(all, o.K, o.MinMentions); float64(cur.All) >= b.Threshold {
		out = append(out, candidate{spikeAlert(parley.AlertMentionSpike, "mentions", cur.All, b, o, now), a.opts.Cooldown})
	}
	if b := SpikeThreshold(neg, o.K, o.MinNegative); float64(cur.Negative) >= b.Threshold {
		out = append(out, candidate{spikeAlert(parley.AlertNegativeSpike, "negative mentions", cur.Negative, b, o, now), a.opts.Cooldown})
	}
	return out, nil
}

func spikeAlert(kind, what string, count int, b Baseline, o SpikeOptions, now time.Time) parley.Alert {
	return parley.Alert{Kind: kind, Key: "all", At: now, Count: count, Threshold: b.Threshold,
		Title: fmt.Sprintf("%d %s in the last hour; usually %.1f at this hour of the week", count, what, b.Mean),
		Detail: fmt.Sprintf("threshold %.1f = max(%d, mean %.1f + %g × max(deviation %.1f, √mean %.1f, 1)) over the same hour of the last %d weeks",
			b.Threshold, floorOf(kind, o), b.Mean, o.K, b.Dev, math.Sqrt(b.Mean), b.Weeks)}
}

func floorOf(kind string, o SpikeOptions) int {
	if kind == parley.AlertNegativeSpike {
		return o.MinNegative
	}
	return o.MinMentions
}

// largeReach finds the negative posts of the last LargeReachWindow by
// authors with LargeReachFollowers or more.
func (a *Alerts) largeReach(ctx context.Context, now time.Time) ([]candidate, error) {
	ms, err := a.st.NegativeMentionsFrom(ctx, now.Add(-LargeReachWindow), now.Add(time.Minute), a.opts.LargeReachFollowers)
	if err != nil {
		return nil, err
	}
	out := make([]candidate, 0, len(ms))
	for _, m := range ms {
		out = append(out, candidate{cooldown: a.opts.Cooldown, alert: parley.Alert{Kind: parley.AlertLargeReach, Key: "person:" + strconv.FormatInt(m.PersonID, 10),
			At: now, ConversationID: m.ThreadID, PersonID: m.PersonID, MentionID: m.ID, Count: m.Author.Followers,
			Title:  fmt.Sprintf("Negative post by @%s (%d followers) on %s", m.Author.Handle, m.Author.Followers, m.Platform),
			Detail: textutil.Truncate(textutil.OneLine(m.Text), 280)}})
	}
	return out, nil
}

// overdue finds the conversations waiting past the response target,
// passed within overdueWindow, once per waiting period: the cooldown
// reaches back to when the customer started waiting.
func (a *Alerts) overdue(ctx context.Context, now time.Time) ([]candidate, error) {
	page, err := a.st.InboxPage(ctx, parley.InboxQuery{View: parley.ViewNeedsReply, Overdue: a.opts.ResponseTarget,
		Now: now, Limit: 500})
	if err != nil {
		return nil, err
	}
	var out []candidate
	for _, r := range page.Rows {
		c := r.Conversation
		if c.WaitingSince.IsZero() || now.Sub(c.WaitingSince.Add(a.opts.ResponseTarget)) > overdueWindow {
			continue
		}
		waited := now.Sub(c.WaitingSince).Round(time.Minute)
		out = append(out, candidate{cooldown: now.Sub(c.WaitingSince), alert: parley.Alert{Kind: parley.AlertOverdue, Key: "conversation:" + strconv.FormatInt(c.ID, 10),
			At: now, ConversationID: c.ID, PersonID: r.Last.PersonID, MentionID: r.Last.ID,
			Title: fmt.Sprintf("@%s has waited %s for a reply on %s (target %s)", r.Last.Author.Handle, waited,
				r.Last.Platform, a.opts.ResponseTarget),
			Detail: textutil.Truncate(textutil.OneLine(r.Last.Text), 280)}})
	}
	return out, nil
}

// AlertText is an alert as a staff channel shows it: what, why, and the
// link when baseURL is set.
func AlertText(al parley.Alert, baseURL string) string {
	text := "⚠ " + parley.AlertKindTitle(al.Kind) + ": " + al.Title
	if al.Detail != "" {
		text += "\n" + al.Detail
	}
	if v := AlertView(al, baseURL); v.URL != "" {
		text += "\n" + v.URL
	}
	return text
}
