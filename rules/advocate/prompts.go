package advocate

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/expr-lang/expr"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
)

// env is what a prompt rule's `when` sees. doc.go lists the names; keep
// the two in step.
type env struct {
	Person  personVars  `expr:"person"`
	Prompts promptsVars `expr:"prompts"`
	Brand   string      `expr:"brand"`
}

type personVars struct {
	Handle    string `expr:"handle"`
	Name      string `expr:"name"`
	Platform  string `expr:"platform"`
	TimeZone  string `expr:"timezone"`
	Followers int    `expr:"followers"`
	// All-time counts.
	Mentions int `expr:"mentions"`
	Positive int `expr:"positive"`
	Negative int `expr:"negative"`
	Neutral  int `expr:"neutral"`
	// The advocate state and score (after this run's scoring).
	State     string  `expr:"state"`
	Advocate  bool    `expr:"advocate"`
	Score     float64 `expr:"score"`
	Confirmed bool    `expr:"confirmed"`
	OptedOut  bool    `expr:"opted_out"`
	NoBot     bool    `expr:"nobot"`
	// The scoring window.
	RecentMentions    int      `expr:"recent_mentions"`
	RecentPositive    int      `expr:"recent_positive"`
	RecentNegative    int      `expr:"recent_negative"`
	PositiveDays      int      `expr:"positive_days"`
	DaysSincePositive int      `expr:"days_since_positive"` // -1 when none in the window
	DaysSinceNegative int      `expr:"days_since_negative"` // -1 when none in the window
	DaysKnown         int      `expr:"days_known"`
	RepliesReceived   int      `expr:"replies_received"`
	Tags              []string `expr:"tags"`     // tags of their mentions in the window
	Channels          []string `expr:"channels"` // where they posted in the window
	Langs             []string `expr:"langs"`    // languages they posted in
	LastText          string   `expr:"last_text"`
}

type promptsVars struct {
	Count         int      `expr:"count"` // prompts made, any state
	Sent          int      `expr:"sent"`
	Asked         []string `expr:"asked"`     // asks of every prompt made
	Converted     []string `expr:"converted"` // asks they took up
	Declined      []string `expr:"declined"`  // asks they said no to
	Expired       []string `expr:"expired"`   // asks they let pass
	LastOutcome   string   `expr:"last_outcome"`
	LastAsk       string   `expr:"last_ask"`
	LastTemplate  string   `expr:"last_template"`
	DaysSinceLast int      `expr:"days_since_last"` // -1 when never prompted
}

func exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(env{}),
		expr.AsBool(),
		expr.Function("contains_any", func(params ...any) (any, error) {
			text, ok := params[0].(string)
			if !ok {
				return nil, fmt.Errorf("contains_any: first argument is %T, want a string", params[0])
			}
			switch list := params[1].(type) {
			case []string:
				for _, p := range list {
					if rules.ContainsPhrase(text, p) {
						return true, nil
					}
				}
			case []any:
				for _, v := range list {
					p, ok := v.(string)
					if !ok {
						return nil, fmt.Errorf("contains_any: list holds %T, want strings", v)
					}
					if rules.ContainsPhrase(text, p) {
						return true, nil
					}
				}
			default:
				return nil, fmt.Errorf("contains_any: second argument is %T, want a list of strings", params[1])
			}
			return false, nil
		}, new(func(string, []any) bool), new(func(string, []string) bool)),
	}
}

// PromptData is what a prompt template sees as its dot:
//
//	Hi {{first .Person}}! {{if eq .LastPrompt.Outcome "declined"}}No pressure at all. {{end}}...
//	{{.Link}}  {{.Hashtag}}  {{.Brand}}  {{.Score}}
type PromptData struct {
	Person  parley.Person
	Brand   string
	Link    string
	Hashtag string
	Ask     string
	// Template is the template's name.
	Template string
	// Score is the person's advocate score now.
	Score float64
	// LastPrompt is the person's previous prompt (zero when none): its
	// .Ask, .Template and .Outcome ("converted", "declined", "expired",
	// "withdrawn" or "" while open).
	LastPrompt parley.Prompt
}

func promptSample(t Template) []any {
	t0 := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	p := parley.Person{ID: 1, Platform: parley.PlatformMastodon, Handle: "ana@example.social", Name: "Ana Lima",
		Followers: 120, Mentions: 9, Positive: 7, AdvocateState: parley.AdvocateActive, AdvocateScore: 8.5}
	return []any{
		PromptData{Person: p, Brand: "Sample Brand", Link: t.Link, Hashtag: t.Hashtag, Ask: t.Ask, Template: t.Name, Score: 8.5},
		PromptData{Person: parley.Person{Handle: "kickflip_kid"}, Brand: "Sample Brand", Ask: t.Ask, Template: t.Name,
			LastPrompt: parley.Prompt{Ask: "review", Template: "review", Outcome: parley.OutcomeDeclined, CreatedAt: t0}},
		PromptData{},
	}
}

// Choice is a prompt a rule chose for a person, ready to queue.
type Choice struct {
	Rule        string `json:"rule"`
	Template    string `json:"template"`
	Ask         string `json:"ask"`
	Link        string `json:"link,omitempty"`
	Hashtag     string `json:"hashtag,omitempty"`
	Text        string `json:"text"`
	AutoApprove bool   `json:"auto_approve,omitempty"`
	Priority    int    `json:"priority,omitempty"`
}

// Request turns the choice into a store request for person at.
func (c Choice) Request(personID int64, at time.Time) parley.PromptRequest {
	return parley.PromptRequest{PersonID: personID, Rule: c.Rule, Template: c.Template, Ask: c.Ask, Link: c.Link,
		Hashtag: c.Hashtag, Text: c.Text, Priority: c.Priority, AutoApprove: c.AutoApprove, At: at}
}

// Choose evaluates the prompt rules, in order, for h's person with their
// scoring x at now, and returns the prompts of the matching rules whose
// ask the person was never given and whose text renders non-blank, best
// first. The caller queues the first the store accepts. No choice is made
// for a person who opted out or has #nobot (the store would refuse them
// anyway). Rules that fail at run time are returned as errors and skipped.
func (e *Engine) Choose(h parley.AdvocateHistory, x Explanation, now time.Time) ([]Choice, []error) {
	p := h.Person
	if p.OptedOut || p.NoBot || len(e.rules) == 0 {
		return nil, nil
	}
	ev := e.ruleEnv(h, x, now)
	asked := ev.Prompts.Asked
	var last parley.Prompt
	if len(h.Prompts) > 0 {
		last = h.Prompts[0]
	}
	p.AdvocateState, p.AdvocateScore = x.State, x.Score
	var out []Choice
	var errs []error
	used := map[string]bool{}
	for _, r := range e.rules {
		res, err := expr.Run(r.prog, ev)
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt rule %q: %w", r.Name, err))
			continue
		}
		if ok, _ := res.(bool); !ok {
			continue
		}
		t := e.templates[r.Template]
		if slices.Contains(asked, t.Ask) || used[t.Ask] {
			continue
		}
		text, err := render(t.tmpl, PromptData{Person: p, Brand: e.brand, Link: t.Link, Hashtag: t.Hashtag, Ask: t.Ask,
			Template: t.Name, Score: x.Score, LastPrompt: last})
		if err != nil {
			errs = append(errs, fmt.Errorf("prompt rule %q: template %q: %w", r.Name, t.Name, err))
			continue
		}
		if text == "" {
			continue
		}
		used[t.Ask] = true
		out = append(out, Choice{Rule: r.Name, Template: t.Name, Ask: t.Ask, Link: t.Link, Hashtag: t.Hashtag,
			Text: text, AutoApprove: r.AutoApprove, Priority: r.Priority})
	}
	return out, errs
}

// ruleEnv builds what prompt rules see.
func (e *Engine) ruleEnv(h parley.AdvocateHistory, x Explanation, now time.Time) env {
	p := h.Person
	daysSince := func(t time.Time) int {
		if t.IsZero() {
			return -1
		}
		return int(math.Floor(now.Sub(t).Hours() / 24))
	}
	ev := env{Brand: e.brand, Person: personVars{
		Handle: p.Handle, Name: p.Name, Platform: p.Platform, TimeZone: p.TimeZone, Followers: p.Followers,
		Mentions: p.Mentions, Positive: p.Positive, Negative: p.Negative, Neutral: p.Neutral,
		State: x.State, Advocate: x.State == parley.AdvocateActive, Score: x.Score, Confirmed: !h.ConfirmedAt.IsZero(),
		OptedOut: p.OptedOut, NoBot: p.NoBot,
		RecentMentions: x.Mentions, RecentPositive: x.Positive, RecentNegative: x.Negative, PositiveDays: x.PositiveDays,
		DaysSincePositive: daysSince(x.LastPositive), DaysSinceNegative: daysSince(x.LastNegative),
		DaysKnown: max(daysSince(p.FirstSeen), 0), RepliesReceived: h.RepliesReceived,
	}}
	tags, channels, langs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	since := now.Add(-e.Window())
	for _, m := range h.Mentions {
		if m.Ignored || m.CreatedAt.After(now) || !m.CreatedAt.After(since) {
			continue
		}
		for _, t := range m.Tags {
			tags[t] = true
		}
		if m.Channel != "" {
			channels[m.Channel] = true
		}
		if m.Lang != "" {
			langs[m.Lang] = true
		}
		ev.Person.LastText = m.Text
	}
	ev.Person.Tags, ev.Person.Channels, ev.Person.Langs = keys(tags), keys(channels), keys(langs)
	pv := &ev.Prompts
	pv.DaysSinceLast = -1
	for i, pr := range h.Prompts {
		pv.Count++
		if !pr.SentAt.IsZero() {
			pv.Sent++
		}
		pv.Asked = append(pv.Asked, pr.Ask)
		switch pr.Outcome {
		case parley.OutcomeConverted:
			pv.Converted = append(pv.Converted, pr.Ask)
		case parley.OutcomeDeclined:
			pv.Declined = append(pv.Declined, pr.Ask)
		case parley.OutcomeExpired:
			pv.Expired = append(pv.Expired, pr.Ask)
		}
		if i == 0 {
			pv.LastOutcome = pr.Status(now)
			pv.LastAsk, pv.LastTemplate = pr.Ask, pr.Template
			at := pr.SentAt
			if at.IsZero() {
				at = pr.CreatedAt
			}
			pv.DaysSinceLast = daysSince(at)
		}
	}
	return ev
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
