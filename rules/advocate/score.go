package advocate

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Term is one part of an advocate score.
type Term struct {
	// Name is positive, reach, engagement, consistency or negative.
	Name string `json:"name"`
	// Points is what the term adds (negative for the negative term).
	Points float64 `json:"points"`
	// Weight is the config's weight; Value what it multiplies.
	Weight float64 `json:"weight"`
	Value  float64 `json:"value"`
	// Formula and Detail say how Value was made, for people.
	Formula string `json:"formula"`
	Detail  string `json:"detail"`
}

// Explanation is how a person's score and state were made at At.
type Explanation struct {
	PersonID int64     `json:"person_id"`
	At       time.Time `json:"at"`
	Score    float64   `json:"score"`
	Terms    []Term    `json:"terms"`

	// What the window held.
	Mentions        int       `json:"mentions"`
	Positive        int       `json:"positive"`
	Negative        int       `json:"negative"`
	PositiveDays    int       `json:"positive_days"`
	RepliesReceived int       `json:"replies_received"`
	LastPositive    time.Time `json:"last_positive,omitzero"`
	LastNegative    time.Time `json:"last_negative,omitzero"`

	// From is the stored state; State the state the score gives (the
	// same when nothing changes) and Reason why it changes.
	From   string `json:"from"`
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Qualifies says whether the person meets the advocate thresholds;
	// AwaitingConfirmation that they do but states.confirm is manager.
	Qualifies            bool `json:"qualifies"`
	AwaitingConfirmation bool `json:"awaiting_confirmation,omitempty"`
	// Note sums up the state for lists ("qualifies; waiting for a
	// manager to confirm").
	Note string `json:"note,omitempty"`
}

// Changed reports whether the state changes.
func (x Explanation) Changed() bool { return x.State != x.From }

// Explain scores h's person at now and works out their next state. Only
// mentions in (now − score.window, now] count; ignored ones (spam) never do.
func (e *Engine) Explain(h parley.AdvocateHistory, now time.Time) Explanation {
	c := e.cfg.Score
	x := Explanation{PersonID: h.Person.ID, At: now, From: h.Person.AdvocateState, RepliesReceived: h.RepliesReceived}
	loc := e.location(h.Person)
	since := now.Add(-c.Window.D())
	var pos, neg float64
	days := map[string]bool{}
	for _, m := range h.Mentions {
		if m.Ignored || m.CreatedAt.After(now) || !m.CreatedAt.After(since) {
			continue
		}
		x.Mentions++
		age := now.Sub(m.CreatedAt)
		switch m.Sentiment.Label {
		case parley.Positive:
			x.Positive++
			pos += decay(age, c.HalfLife.D())
			days[m.CreatedAt.In(loc).Format(time.DateOnly)] = true
			if m.CreatedAt.After(x.LastPositive) {
				x.LastPositive = m.CreatedAt
			}
		case parley.Negative:
			x.Negative++
			neg += decay(age, c.NegativeHalfLife.D())
			if m.CreatedAt.After(x.LastNegative) {
				x.LastNegative = m.CreatedAt
			}
		}
	}
	x.PositiveDays = len(days)
	hasPositive := x.Positive > 0

	add := func(name string, weight, value float64, formula, detail string) {
		pts := weight * value
		if name == "negative" {
			pts = -pts
		}
		x.Terms = append(x.Terms, Term{Name: name, Points: pts, Weight: weight, Value: value, Formula: formula, Detail: detail})
		x.Score += pts
	}
	window := c.Window.String()
	add("positive", c.Positive, pos, fmt.Sprintf("Σ 0.5^(age/%s) over positive posts", c.HalfLife),
		fmt.Sprintf("%s in the last %s", plural(x.Positive, "positive post"), window))
	reach, reachDetail := 0.0, plural(h.Person.Followers, "follower")
	engage, engageDetail := 0.0, fmt.Sprintf("%s from others (boosts and reactions are not stored)", plural(h.RepliesReceived, "reply", "replies"))
	if hasPositive {
		reach = math.Log10(1 + float64(max(h.Person.Followers, 0)))
		engage = math.Log2(1 + float64(h.RepliesReceived))
	} else {
		reachDetail += "; counts only with a positive post in the window"
		engageDetail += "; counts only with a positive post in the window"
	}
	add("reach", c.Reach, reach, "log10(1 + followers)", reachDetail)
	add("engagement", c.Engagement, engage, "log2(1 + replies from others)", engageDetail)
	consistency := 0.0
	if x.PositiveDays > 0 {
		consistency = math.Log2(float64(x.PositiveDays))
	}
	add("consistency", c.Consistency, consistency, "log2(days with a positive post)",
		fmt.Sprintf("%s (%s)", plural(x.PositiveDays, "day"), loc))
	add("negative", c.Negative, neg, fmt.Sprintf("Σ 0.5^(age/%s) over negative posts", c.NegativeHalfLife),
		fmt.Sprintf("%s in the last %s", plural(x.Negative, "negative post"), window))
	x.Score = round2(x.Score)
	for i := range x.Terms {
		x.Terms[i].Points = round2(x.Terms[i].Points)
		x.Terms[i].Value = round2(x.Terms[i].Value)
	}
	e.nextState(&x, h, now)
	return x
}

// nextState moves the state machine:
//
//	""        → candidate  score ≥ states.candidate
//	""        → advocate   qualifies and confirm is auto
//	candidate → advocate   qualifies and (confirm is auto or a manager confirmed)
//	candidate → ""         no longer scores as a candidate, or no positive post for lapse_after
//	advocate  → lapsed     no positive post for lapse_after
//	lapsed    → advocate   qualifies again (and confirm auto or confirmed before)
//
// qualifies: score ≥ states.advocate with min_positive positive posts on
// min_days different days. Both candidates and advocates must have more
// positive than negative posts in the window.
func (e *Engine) nextState(x *Explanation, h parley.AdvocateHistory, now time.Time) {
	st := e.cfg.States
	netPositive := x.Positive > x.Negative
	x.Qualifies = netPositive && x.Score >= st.Advocate && x.Positive >= st.MinPositive && x.PositiveDays >= st.MinDays
	candidate := netPositive && x.Score >= st.Candidate
	confirmed := st.Confirm == ConfirmAuto || !h.ConfirmedAt.IsZero()
	lapse := st.LapseAfter.D()
	quiet := x.LastPositive.IsZero() || now.Sub(x.LastPositive) > lapse
	qualifiesWhy := fmt.Sprintf("score %.2f ≥ %g with %s on %s", x.Score, st.Advocate,
		plural(x.Positive, "positive post"), plural(x.PositiveDays, "day"))
	lapseWhy := fmt.Sprintf("no positive post in %s", st.LapseAfter)
	if !x.LastPositive.IsZero() {
		lapseWhy += fmt.Sprintf(" (last %s)", x.LastPositive.Format(time.DateOnly))
	}

	x.State = x.From
	switch x.From {
	case "":
		switch {
		case x.Qualifies && confirmed:
			x.State, x.Reason = parley.AdvocateActive, qualifiesWhy
		case x.Qualifies || candidate:
			x.State, x.Reason = parley.AdvocateCandidate, fmt.Sprintf("score %.2f ≥ %g", x.Score, st.Candidate)
		}
	case parley.AdvocateCandidate:
		switch {
		case x.Qualifies && confirmed:
			x.State, x.Reason = parley.AdvocateActive, qualifiesWhy
		case quiet:
			x.State, x.Reason = "", lapseWhy
		case !candidate && !x.Qualifies:
			x.State, x.Reason = "", fmt.Sprintf("score %.2f < %g", x.Score, st.Candidate)
		}
	case parley.AdvocateActive:
		if quiet {
			x.State, x.Reason = parley.AdvocateLapsed, lapseWhy
		}
	case parley.AdvocateLapsed:
		if x.Qualifies && confirmed {
			x.State, x.Reason = parley.AdvocateActive, "back: "+qualifiesWhy
		}
	}
	x.AwaitingConfirmation = x.Qualifies && !confirmed && x.State != parley.AdvocateActive
	x.Note = e.stateNote(x, h, netPositive, lapseWhy)
}

// stateNote says, for people, where x's person stands: waiting for a
// manager, confirmed by whom, what a candidate lacks, or why they lapsed.
func (e *Engine) stateNote(x *Explanation, h parley.AdvocateHistory, netPositive bool, lapseWhy string) string {
	st := e.cfg.States
	switch {
	case x.AwaitingConfirmation:
		return "qualifies as an advocate; waiting for a manager to confirm"
	case x.State == parley.AdvocateActive && !h.ConfirmedAt.IsZero():
		return "confirmed by " + h.ConfirmedBy
	case x.State == parley.AdvocateCandidate:
		var missing []string
		if !netPositive {
			missing = append(missing, fmt.Sprintf("%d positive ≤ %d negative posts", x.Positive, x.Negative))
		}
		if x.Score < st.Advocate {
			missing = append(missing, fmt.Sprintf("score %.2f < %g", x.Score, st.Advocate))
		}
		if x.Positive < st.MinPositive {
			missing = append(missing, fmt.Sprintf("%s < %d", plural(x.Positive, "positive post"), st.MinPositive))
		}
		if x.PositiveDays < st.MinDays {
			missing = append(missing, fmt.Sprintf("%s < %d", plural(x.PositiveDays, "day"), st.MinDays))
		}
		return "not yet an advocate: " + strings.Join(missing, ", ")
	case x.State == parley.AdvocateLapsed:
		return lapseWhy
	}
	return ""
}

// decay is 0.5^(age/halfLife).
func decay(age, halfLife time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// plural writes "1 post", "3 posts"; a third argument gives an irregular
// plural.
func plural(n int, singular string, pluralForm ...string) string {
	if n == 1 {
		return "1 " + singular
	}
	p := singular + "s"
	if len(pluralForm) > 0 {
		p = pluralForm[0]
	}
	return fmt.Sprintf("%d %s", n, p)
}
