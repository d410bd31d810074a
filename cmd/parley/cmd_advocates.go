package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/internal/textutil"
	"github.com/parleybot/parley/rules/advocate"
)

func init() {
	register(&command{
		name:    "advocates",
		summary: "find and invite fans: list, show, explain, confirm, optout, optin",
		usage: `parley advocates list [--state candidate|advocate|lapsed|all] [--limit N] [--json]
parley advocates show PERSON [--json]
parley advocates explain PERSON [--as-of TIME] [--json]
parley advocates confirm PERSON [--as NAME]
parley advocates optout PERSON [--reason "why"] [--as NAME]
parley advocates optin PERSON [--reason "why"] [--as NAME]
parley advocates rescore [--as-of TIME] [--no-prompts] [--json]
parley advocates conversion [--days N] [--json]

Parley scores every person from their history (positive posts by recency,
reach, replies others made to them, positive days, minus recent negative
posts; the advocates: section of the config sets the weights) and moves
them candidate -> advocate -> lapsed. 'explain' shows each term of a score.
'confirm' makes a candidate an advocate (with states.confirm: manager
candidates wait for it). 'optout' stops all prompts to a person and
withdraws the ones waiting in the queue; 'optin' lifts it. 'rescore' runs
one pass of the worker 'parley run' runs every advocates.interval: it
scores everyone and queues the prompts the prompt rules choose, as pending
drafts ('parley queue'), within the consent rules. 'conversion' shows how
each invitation template did.

PERSON is a handle (@ana@example.social, kelpkid), a platform id, or
mastodon:HANDLE / discord:HANDLE to pick a platform, or id:N for the
store id. TIME is RFC 3339 (2026-11-23T10:00:00Z), a date (the end of that
day, UTC) or "latest" (the newest stored mention: for replayed data).

Example:
  parley advocates rescore --as-of latest
  parley advocates list
  parley advocates explain jules@skate.social --as-of latest
  parley advocates optout kelpkid --reason "asked us on the phone"`,
		run: runAdvocates,
	})
}

// advocateEngine compiles the config's advocates: section (the defaults
// without a config).
func (c *Config) advocateEngine() (*advocate.Engine, error) {
	if c == nil {
		return advocate.New(advocate.Config{}, "", "")
	}
	return advocate.New(c.Advocates, c.Brand.Name, c.Brand.TimeZone)
}

func runAdvocates(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	state := fs.String("state", "all", "list people in this state: candidate, advocate, lapsed or all")
	limit := fs.Int("limit", 50, "list at most this many people")
	asOf := fs.String("as-of", "", "score as of this time (default now; \"latest\" is the newest mention)")
	noPrompts := fs.Bool("no-prompts", false, "rescore without queueing prompts")
	reason := fs.String("reason", "", "why (kept in the audit log)")
	actor := fs.String("as", defaultActor(e), "who is acting, for the audit log")
	days := fs.Int("days", 30, "conversion: prompts sent in the last N days (before --as-of)")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want list, show, explain, confirm, optout, optin, rescore or conversion", errUsage)
	}
	sub, rest := rest[0], rest[1:]
	switch sub {
	case "list", "rescore", "conversion":
		if len(rest) > 0 {
			return fmt.Errorf("%w: %s takes no arguments", errUsage, sub)
		}
	case "show", "explain", "confirm", "optout", "optin":
		if len(rest) != 1 {
			return fmt.Errorf("%w: %s takes one person (a handle, or id:N)", errUsage, sub)
		}
	default:
		return fmt.Errorf("%w: unknown advocates command %q: want list, show, explain, confirm, optout, optin, rescore or conversion", errUsage, sub)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	eng, err := cfg.advocateEngine()
	if err != nil {
		return err
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	now, err := parseAsOf(ctx, st, *asOf)
	if err != nil {
		return err
	}

	switch sub {
	case "list":
		var states []string
		if *state != "all" {
			switch *state {
			case parley.AdvocateCandidate, parley.AdvocateActive, parley.AdvocateLapsed:
				states = []string{*state}
			default:
				return fmt.Errorf("%w: --state %q: want candidate, advocate, lapsed or all", errUsage, *state)
			}
		}
		return advocatesList(ctx, e, st, states, *limit)
	case "rescore":
		return advocatesRescore(ctx, e, st, eng, now, *noPrompts)
	case "conversion":
		if *days <= 0 {
			return fmt.Errorf("%w: --days must be 1 or more", errUsage)
		}
		return advocatesConversion(ctx, e, st, now.Add(-time.Duration(*days)*24*time.Hour), now)
	}
	p, err := findPerson(ctx, st, rest[0])
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		return advocatesShow(ctx, e, st, p, now)
	case "explain":
		return advocatesExplain(ctx, e, st, eng, p, now)
	case "confirm":
		return advocatesConfirm(ctx, e, st, p, *actor)
	case "optout":
		return advocatesOptOut(ctx, e, st, p, *actor, *reason)
	case "optin":
		return advocatesOptIn(ctx, e, st, p, *actor, *reason)
	}
	return nil
}

func advocatesConfirm(ctx context.Context, e *env, st cliStore, p parley.Person, actor string) error {
	c, err := st.ConfirmAdvocate(ctx, p.ID, actor)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(c)
	}
	fmt.Fprintf(e.stdout, "@%s is an advocate now (was %s), confirmed by %s\n", p.Handle, stateLabel(c.From), c.Actor)
	return nil
}

func advocatesOptOut(ctx context.Context, e *env, st cliStore, p parley.Person, actor, reason string) error {
	res, err := st.OptOut(ctx, parley.OptOutRequest{PersonID: p.ID, Actor: actor, Reason: reason})
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	if !res.Changed {
		fmt.Fprintf(e.stdout, "@%s had already opted out; nothing changed\n", p.Handle)
		return nil
	}
	fmt.Fprintf(e.stdout, "@%s opted out of prompts by %s", p.Handle, actor)
	if len(res.Withdrawn) > 0 {
		fmt.Fprintf(e.stdout, "; withdrew %d waiting prompt(s): %s", len(res.Withdrawn), joinIDs(res.Withdrawn))
	}
	fmt.Fprintln(e.stdout, "\n(they still get replies to their own posts)")
	return nil
}

func advocatesOptIn(ctx context.Context, e *env, st cliStore, p parley.Person, actor, reason string) error {
	res, err := st.OptIn(ctx, p.ID, actor, reason)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	if !res.Changed {
		fmt.Fprintf(e.stdout, "@%s was not opted out; nothing changed\n", p.Handle)
		return nil
	}
	fmt.Fprintf(e.stdout, "@%s opted in to prompts again by %s\n", p.Handle, actor)
	return nil
}

// parseAsOf reads --as-of: "" is now, "latest" the newest mention, else
// RFC 3339 or a date (the end of that day, UTC).
func parseAsOf(ctx context.Context, st cliStore, s string) (time.Time, error) {
	switch strings.TrimSpace(s) {
	case "":
		return time.Now().UTC(), nil
	case "latest":
		t, err := st.LatestMention(ctx)
		if err != nil {
			return t, err
		}
		if t.IsZero() {
			return time.Now().UTC(), nil
		}
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.Add(24*time.Hour - time.Second), nil
	}
	return time.Time{}, fmt.Errorf("%w: --as-of %q: want 2026-11-23T10:00:00Z, 2026-11-23 or latest", errUsage, s)
}

// findPerson resolves PERSON: id:N, PLATFORM:HANDLE, or a handle or
// platform id on any platform.
func findPerson(ctx context.Context, st cliStore, arg string) (parley.Person, error) {
	arg = strings.TrimSpace(arg)
	if v, ok := strings.CutPrefix(arg, "id:"); ok {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return parley.Person{}, fmt.Errorf("%w: %q: want id:N with N a person's number", errUsage, arg)
		}
		return st.Person(ctx, id)
	}
	platform := ""
	for _, pl := range []string{parley.PlatformMastodon, parley.PlatformDiscord} {
		if v, ok := strings.CutPrefix(arg, pl+":"); ok {
			platform, arg = pl, v
		}
	}
	p, err := st.FindPerson(ctx, platform, arg)
	if parley.ErrorCode(err) != parley.ENOTFOUND || strings.Contains(strings.TrimPrefix(arg, "@"), "@") {
		return p, err
	}
	// "oldmanhank" for oldmanhank@mastodon.online, when only one matches.
	user := strings.TrimPrefix(arg, "@")
	found, serr := st.SearchPeople(ctx, user, 50)
	if serr != nil {
		return p, serr
	}
	var matches []parley.Person
	for _, c := range found {
		if strings.HasPrefix(strings.ToLower(c.Handle), strings.ToLower(user)+"@") && (platform == "" || c.Platform == platform) {
			matches = append(matches, c)
		}
	}
	switch len(matches) {
	case 0:
		return p, err
	case 1:
		return matches[0], nil
	}
	var hs []string
	for _, m := range matches {
		hs = append(hs, "@"+m.Handle)
	}
	return p, parley.Errorf(parley.EINVALID, "%q could be %s: give the whole handle", arg, strings.Join(hs, ", "))
}

func stateLabel(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = "#" + strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

func advocatesList(ctx context.Context, e *env, st cliStore, states []string, limit int) error {
	list, err := st.AdvocateEntries(ctx, states, limit)
	if err != nil {
		return err
	}
	if e.jsonOut {
		if list == nil {
			list = []parley.AdvocateEntry{}
		}
		return json.NewEncoder(e.stdout).Encode(list)
	}
	if len(list) == 0 {
		if len(states) > 0 {
			fmt.Fprintf(e.stdout, "No %s people.\n", states[0])
			return nil
		}
		fmt.Fprintln(e.stdout, "Nobody yet. 'parley advocates rescore' scores everyone ('parley run' does it every hour).")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tHANDLE\tPLATFORM\tSTATE\tSCORE\tPOSTS\tPOSITIVE\tNOTE")
	for _, a := range list {
		note := a.Note
		if a.OptedOut {
			note = strings.TrimPrefix(note+"; opted out", "; ")
		}
		if a.NoBot {
			note = strings.TrimPrefix(note+"; #nobot", "; ")
		}
		fmt.Fprintf(tw, "%d\t@%s\t%s\t%s\t%.2f\t%d\t%d\t%s\n", a.ID, a.Handle, a.Platform, a.AdvocateState, a.AdvocateScore,
			a.Mentions, a.Positive, textutil.Truncate(textutil.OneLine(note), 60))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\n'parley advocates explain HANDLE' shows how a score is made.")
	return nil
}

type advocateShow struct {
	Person  parley.AdvocateEntry    `json:"person"`
	Changes []parley.AdvocateChange `json:"changes"`
	Prompts []promptView            `json:"prompts"`
	Consent []parley.AuditEntry     `json:"consent"`
}

type promptView struct {
	parley.Prompt
	Status string `json:"status"`
}

func advocatesShow(ctx context.Context, e *env, st cliStore, p parley.Person, now time.Time) error {
	v := advocateShow{Person: parley.AdvocateEntry{Person: p}, Changes: []parley.AdvocateChange{}, Prompts: []promptView{},
		Consent: []parley.AuditEntry{}}
	entries, err := st.AdvocateEntries(ctx, []string{p.AdvocateState}, 100000)
	if err != nil {
		return err
	}
	for _, en := range entries {
		if en.ID == p.ID {
			v.Person = en
		}
	}
	changes, err := st.PersonAdvocateChanges(ctx, p.ID)
	if err != nil {
		return err
	}
	v.Changes = append(v.Changes, changes...)
	prompts, err := st.PersonPrompts(ctx, p.ID)
	if err != nil {
		return err
	}
	for _, pr := range prompts {
		v.Prompts = append(v.Prompts, promptView{pr, pr.Status(now)})
	}
	consent, err := st.ConsentLog(ctx, p.ID)
	if err != nil {
		return err
	}
	v.Consent = append(v.Consent, consent...)
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(v)
	}
	w := e.stdout
	fmt.Fprintf(w, "@%s (%s, %s, id %d), %d followers\n", p.Handle, p.DisplayName(), p.Platform, p.ID, p.Followers)
	fmt.Fprintf(w, "  %d mentions since %s: %d positive, %d neutral, %d negative\n", p.Mentions,
		p.FirstSeen.Format(time.DateOnly), p.Positive, p.Neutral, p.Negative)
	fmt.Fprintf(w, "  advocate state: %s, score %.2f", stateLabel(p.AdvocateState), p.AdvocateScore)
	if !v.Person.ScoredAt.IsZero() {
		fmt.Fprintf(w, " (scored %s)", v.Person.ScoredAt.Format("2006-01-02 15:04 MST"))
	}
	fmt.Fprintln(w)
	if v.Person.Note != "" {
		fmt.Fprintf(w, "  %s\n", v.Person.Note)
	}
	switch {
	case p.OptedOut:
		fmt.Fprintln(w, "  opted out of prompts (still gets replies to their own posts)")
	case p.NoBot:
		fmt.Fprintln(w, "  #nobot: never prompted")
	}
	if len(changes) > 0 {
		fmt.Fprintln(w, "\nState changes")
		for _, c := range changes {
			fmt.Fprintf(w, "  %s  %s -> %s  by %s  (%s)\n", c.At.Format("2006-01-02 15:04"), stateLabel(c.From), stateLabel(c.To),
				c.Actor, c.Reason)
		}
	}
	if len(prompts) > 0 {
		fmt.Fprintln(w, "\nPrompts")
		for _, pr := range v.Prompts {
			fmt.Fprintf(w, "  #%d  %s  %s (ask %s, rule %s): %s", pr.DraftID, pr.CreatedAt.Format(time.DateOnly), pr.Template,
				pr.Ask, pr.Rule, pr.Status)
			if pr.OutcomeDetail != "" {
				fmt.Fprintf(w, ", %s", pr.OutcomeDetail)
			}
			fmt.Fprintf(w, "\n      %s\n", textutil.Truncate(textutil.OneLine(pr.Text), 100))
		}
	}
	if len(consent) > 0 {
		fmt.Fprintln(w, "\nConsent")
		for _, c := range consent {
			fmt.Fprintf(w, "  %s  %s by %s  %s\n", c.At.Format("2006-01-02 15:04"), c.Action, c.Actor, c.Detail)
		}
	}
	return nil
}

func advocatesExplain(ctx context.Context, e *env, st cliStore, eng *advocate.Engine, p parley.Person, now time.Time) error {
	h, err := st.AdvocateHistory(ctx, p.ID, now.Add(-eng.Window()), now.Add(time.Millisecond))
	if err != nil {
		return err
	}
	x := eng.Explain(h, now)
	choices, _ := eng.Choose(h, x, now)
	// Would the store take the first choice now?
	consent := ""
	if len(choices) > 0 {
		if err := st.CheckPrompt(ctx, choices[0].Request(p.ID, now), eng.Policy()); err != nil {
			if parley.ErrorCode(err) != parley.ECONFLICT {
				return err
			}
			consent = parley.ErrorMessage(err)
		}
	}
	if e.jsonOut {
		if choices == nil {
			choices = []advocate.Choice{}
		}
		return json.NewEncoder(e.stdout).Encode(map[string]any{"person": p, "explanation": x, "would_prompt": choices,
			"held_back": consent})
	}
	w := e.stdout
	c := eng.Config()
	fmt.Fprintf(w, "@%s (%s) as of %s: score %.2f\n\n", p.Handle, p.Platform, now.Format("2006-01-02 15:04 MST"), x.Score)
	for _, t := range x.Terms {
		fmt.Fprintf(w, "  %-12s %+7.2f  = %g × %s\n", t.Name, t.Points, t.Weight, t.Formula)
		fmt.Fprintf(w, "  %-12s %7s    %.2f from %s\n", "", "", t.Value, t.Detail)
	}
	fmt.Fprintf(w, "  %-12s %7.2f\n", "score", x.Score)
	fmt.Fprintf(w, "\nState: %s", stateLabel(x.From))
	if x.Changed() {
		fmt.Fprintf(w, " -> %s (%s)", stateLabel(x.State), x.Reason)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  thresholds: candidate %g, advocate %g with %d positive posts on %d days (confirm: %s); lapsed after %s without a positive post\n",
		c.States.Candidate, c.States.Advocate, c.States.MinPositive, c.States.MinDays, c.States.Confirm, c.States.LapseAfter)
	if x.Note != "" {
		fmt.Fprintf(w, "  %s\n", x.Note)
	}
	switch {
	case p.OptedOut:
		fmt.Fprintln(w, "\nPrompts: none (opted out)")
	case p.NoBot:
		fmt.Fprintln(w, "\nPrompts: none (#nobot)")
	case len(choices) == 0:
		fmt.Fprintln(w, "\nPrompts: no prompt rule matches now")
	default:
		fmt.Fprintf(w, "\nPrompts: the rules would offer %s (rule %s):\n%s\n", choices[0].Template, choices[0].Rule,
			indent(choices[0].Text, "  "))
		if consent != "" {
			fmt.Fprintf(w, "  but the consent rules hold it back: %s\n", consent)
		} else {
			fmt.Fprintln(w, "  the consent rules allow it now ('parley advocates rescore' queues it)")
		}
	}
	return nil
}

func advocatesRescore(ctx context.Context, e *env, st cliStore, eng *advocate.Engine, now time.Time, noPrompts bool) error {
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Logger: e.logger, NoPrompts: noPrompts,
		Now: func() time.Time { return now }})
	pass, err := adv.RunOnce(ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		if pass.Changes == nil {
			pass.Changes = []parley.AdvocateChange{}
		}
		if pass.Prompts == nil {
			pass.Prompts = []parley.Prompt{}
		}
		return json.NewEncoder(e.stdout).Encode(pass)
	}
	w := e.stdout
	fmt.Fprintf(w, "Scored %d people as of %s; %d prompt(s) met silence and expired.\n", pass.People,
		now.Format("2006-01-02 15:04 MST"), pass.Expired)
	for _, c := range pass.Changes {
		fmt.Fprintf(w, "  @%s: %s -> %s (%s)\n", c.Handle, stateLabel(c.From), stateLabel(c.To), c.Reason)
	}
	if noPrompts {
		return nil
	}
	fmt.Fprintf(w, "%d prompt(s) queued", len(pass.Prompts))
	if len(pass.Refused) > 0 {
		var rs []string
		for _, r := range []string{parley.RefusedCooldown, parley.RefusedQuietHours, parley.RefusedCap, parley.RefusedSameAsk,
			parley.RefusedOptedOut, parley.RefusedNoBot} {
			if n := pass.Refused[r]; n > 0 {
				rs = append(rs, fmt.Sprintf("%d %s", n, strings.ReplaceAll(r, "_", " ")))
			}
		}
		fmt.Fprintf(w, "; held back by consent: %s", strings.Join(rs, ", "))
	}
	fmt.Fprintln(w)
	for _, p := range pass.Prompts {
		fmt.Fprintf(w, "  #%d  %s (rule %s) [%s]\n", p.DraftID, p.Template, p.Rule, p.State)
	}
	if len(pass.Prompts) > 0 {
		fmt.Fprintln(w, "'parley queue list' shows them with the replies waiting for approval.")
	}
	return nil
}

func advocatesConversion(ctx context.Context, e *env, st cliStore, from, to time.Time) error {
	stats, err := st.PromptConversion(ctx, from, to)
	if err != nil {
		return err
	}
	if e.jsonOut {
		type row struct {
			parley.PromptStats
			Rate float64 `json:"rate"`
		}
		rows := []row{}
		for _, s := range stats {
			rows = append(rows, row{s, s.Rate()})
		}
		return json.NewEncoder(e.stdout).Encode(rows)
	}
	if len(stats) == 0 {
		fmt.Fprintf(e.stdout, "No prompts sent between %s and %s.\n", from.Format(time.DateOnly), to.Format(time.DateOnly))
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TEMPLATE\tSENT\tCONVERTED\tDECLINED\tEXPIRED\tWATCHING\tRATE")
	for _, s := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.0f%%\n", s.Template, s.Sent, s.Converted, s.Declined, s.Expired, s.Watching, 100*s.Rate())
	}
	return tw.Flush()
}
