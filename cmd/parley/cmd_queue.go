package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
	"github.com/parleybot/parley/web"
)

func init() {
	register(&command{
		name:    "queue",
		summary: "work the approval queue: list, show, approve, edit, reject, retry drafts",
		usage: `parley queue list [--state STATE] [--platform P] [--limit N] [--json]
parley queue show ID [--json]
parley queue approve ID [--text "new text"] [--as NAME]
parley queue edit ID --text "new text" (or the text on standard input) [--as NAME]
parley queue reject ID [--reason "why"] [--as NAME]
parley queue undo ID [--as NAME]
parley queue retry ID [--as NAME]

Drafts wait as pending until a person approves or rejects them; an approved
draft is posted by 'parley run'. 'retry' sends a failed draft again (see
'parley status' for the failing ones and their errors). 'show' prints the post, the person's
history and the whole thread, so you can answer in context. --as names who
acts in the audit log (default: your login name). Two people acting on the
same draft: the second is told who was first, and nothing is sent twice.
An approved draft waits outbox.undo_grace (default 10s) before it is
posted; 'undo' within that time returns it to pending.

Example:
  parley queue list
  parley queue show 12
  parley queue approve 12 --text "Sorry Ana! DM us your order number and we'll fix it today."`,
		run: runQueue,
	})
}

func runQueue(ctx context.Context, e *env, args []string) (retErr error) {
	flags := e.flags()
	state := flags.String("state", "pending", "list drafts in this state: pending, approved, sending, sent, rejected, failed or all")
	platform := flags.String("platform", "", "list drafts for this platform only")
	limit := flags.Int("limit", 50, "list at most this many drafts")
	text := flags.String("text", "", "the draft's new text (approve, edit)")
	reason := flags.String("reason", "", "why the draft is rejected (kept in the audit log)")
	actor := flags.String("as", defaultActor(e), "who is acting, for the audit log")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if err := checkPlatform(*platform); err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: want list, show, approve, edit, reject, undo or retry", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)

	sub, rest := rest[0], rest[1:]
	fs := e.flags()
	if sub == "list" {
		if len(rest) > 0 {
			return fmt.Errorf("%w: list takes no arguments", errUsage)
		}
		f := parley.DraftFilter{Platform: *platform, Limit: *limit}
		if *state != "all" {
			s, err := parley.ParseDraftState(*state)
			if err != nil {
				return fmt.Errorf("%w: --state: %v", errUsage, err)
			}
			f.States = []parley.DraftState{s}
		}
		return queueList(ctx, e, st, f)
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: %s takes one draft id", errUsage, sub)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: %q is not a draft id (a number, as 'parley queue list' shows)", errUsage, rest[0])
	}
	if sub == "show" {
		return queueShow(ctx, e, st, id)
	}
	dec, err := cliDecisions(e, cfg, st)
	if err != nil {
		return err
	}
	textSet := false
	fs.Visit(func(f *flag.Flag) { textSet = textSet || f.Name == "text" })
	return queueDecide(ctx, e, dec, sub, id, *actor, *text, textSet, *reason)
}

// queueDecide runs one decision through the decision service. An
// explicit --text "" is refused like a blank text, never read as "keep it".
func queueDecide(ctx context.Context, e *env, dec parley.Decider, sub string, id int64, actor, text string, textSet bool,
	reason string) error {
	switch sub {
	case "approve":
		var t *string
		if textSet {
			t = &text
		}
		d, err := dec.Approve(ctx, actor, id, t)
		if err != nil {
			return err
		}
		if d.SendAfter.IsZero() {
			fmt.Fprintf(e.stdout, "draft %d approved by %s; 'parley run' posts it\n", d.ID, d.DecidedBy)
		} else {
			fmt.Fprintf(e.stdout, "draft %d approved by %s; 'parley run' posts it after %s (until then: parley queue undo %d)\n",
				d.ID, d.DecidedBy, d.SendAfter.UTC().Format("15:04:05 UTC"), d.ID)
		}
	case "undo":
		d, err := dec.Undo(ctx, actor, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "draft %d is pending again; nothing was posted\n", d.ID)
	case "edit":
		if !textSet {
			b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
			if err != nil {
				return err
			}
			text = strings.TrimSpace(string(b))
		}
		d, err := dec.Edit(ctx, actor, id, text)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "draft %d edited; it still waits for approval:\n\n%s\n", d.ID, indent(d.Text, "  "))
	case "reject":
		d, err := dec.Reject(ctx, actor, id, reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "draft %d rejected by %s\n", d.ID, d.DecidedBy)
	case "retry":
		d, err := dec.Retry(ctx, actor, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "draft %d goes out again: 'parley run' posts it (attempts so far: %d; last error: %s)\n",
			d.ID, d.Attempts, textutil.OneLine(d.LastError))
	default:
		return fmt.Errorf("%w: unknown queue command %q: want list, show, approve, edit, reject, undo or retry", errUsage, sub)
	}
	return nil
}

func defaultActor(e *env) string {
	if u := e.getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "cli"
}

// draftView is a draft with what a person needs to judge it.
type draftView struct {
	parley.Draft
	Mention *mentionView  `json:"mention,omitempty"`
	Person  parley.Person `json:"person"`
}

// mentionView is the post a draft answers; its author is the draft's
// Person, given once and in full.
type mentionView struct {
	parley.Mention
	Author *parley.Person `json:"author,omitempty"`
}

func loadView(ctx context.Context, st cliStore, d parley.Draft) (draftView, error) {
	v := draftView{Draft: d}
	if d.MentionID != 0 {
		m, err := st.Mention(ctx, d.MentionID)
		if err != nil {
			return v, err
		}
		v.Mention = &mentionView{Mention: m}
	}
	p, err := st.Person(ctx, d.PersonID)
	if err != nil {
		return v, err
	}
	v.Person = p
	return v, nil
}

// queueDrafts lists the drafts f selects: the pending ones in the web
// inbox's order (web.RankItems), the others newest first.
func queueDrafts(ctx context.Context, st cliStore, f parley.DraftFilter) ([]parley.Draft, error) {
	if len(f.States) != 1 || f.States[0] != parley.DraftPending {
		return st.Drafts(ctx, f)
	}
	items, err := st.InboxItems(ctx, parley.InboxFilter{Platform: f.Platform})
	if err != nil {
		return nil, err
	}
	web.RankItems(items, time.Now())
	out := make([]parley.Draft, 0, len(items))
	for _, it := range items {
		out = append(out, it.Draft)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	return out[:min(limit, len(out))], nil
}

func queueList(ctx context.Context, e *env, st cliStore, f parley.DraftFilter) error {
	drafts, err := queueDrafts(ctx, st, f)
	if err != nil {
		return err
	}
	views := make([]draftView, 0, len(drafts))
	for _, d := range drafts {
		v, err := loadView(ctx, st, d)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(views)
	}
	if len(views) == 0 {
		what := "drafts"
		if len(f.States) == 1 {
			what = string(f.States[0]) + " drafts"
		}
		fmt.Fprintf(e.stdout, "No %s. New mentions that match a rule with a reply appear here.\n", what)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPRI\tAGE\tSTATE\tPLATFORM\tAUTHOR\tSENTIMENT\tPOST\tDRAFT")
	now := time.Now()
	for _, v := range views {
		post, sent := "", ""
		if v.Mention != nil {
			post, sent = v.Mention.Text, string(v.Mention.Sentiment.Label)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\t@%s\t%s\t%s\t%s\n", v.ID, v.Priority, age(now.Sub(v.CreatedAt)), v.State,
			v.Platform, v.Person.Handle, sent, textutil.Truncate(textutil.OneLine(post), 40), textutil.Truncate(textutil.OneLine(v.Text), 40))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n'parley queue show ID' for the whole thread; 'parley queue approve ID' to send.\n")
	return nil
}

func queueShow(ctx context.Context, e *env, st cliStore, id int64) error {
	d, err := st.Draft(ctx, id)
	if err != nil {
		return err
	}
	v, err := loadView(ctx, st, d)
	if err != nil {
		return err
	}
	var thread []parley.Mention
	if d.ThreadID != 0 {
		if thread, err = st.ThreadMentions(ctx, d.ThreadID); err != nil {
			return err
		}
	}
	history, err := st.PersonMentions(ctx, d.PersonID, 10)
	if err != nil {
		return err
	}
	ours, err := st.Drafts(ctx, parley.DraftFilter{ThreadID: d.ThreadID, States: []parley.DraftState{parley.DraftSent}})
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"draft": v, "thread": thread, "history": history, "sent_in_thread": ours})
	}
	w := e.stdout
	p := v.Person
	fmt.Fprintf(w, "Draft %d  [%s]  %s reply by rule %q, priority %d, created %s\n\n", d.ID, d.State, d.Platform,
		d.Rule, d.Priority, d.CreatedAt.Local().Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "Person   @%s (%s), %d followers\n", p.Handle, p.DisplayName(), p.Followers)
	fmt.Fprintf(w, "         %d mentions since %s: %d positive, %d neutral, %d negative; %d replies from us",
		p.Mentions, p.FirstSeen.Format("2006-01-02"), p.Positive, p.Neutral, p.Negative, p.RepliesSent)
	if p.OptedOut {
		fmt.Fprint(w, "; opted out of prompts")
	}
	if p.AdvocateState != "" {
		fmt.Fprintf(w, "; advocate: %s", p.AdvocateState)
	}
	fmt.Fprintln(w)
	if len(thread) > 0 {
		fmt.Fprintln(w, "\nThread")
		type item struct {
			at   time.Time
			line string
		}
		var items []item
		for _, m := range thread {
			mark := "  "
			if v.Mention != nil && m.ID == v.Mention.ID {
				mark = "> "
			}
			items = append(items, item{m.CreatedAt, fmt.Sprintf("%s%s @%s [%s]: %s", mark, m.CreatedAt.Format("01-02 15:04"),
				m.Author.Handle, m.Sentiment.Label, textutil.OneLine(m.Text))})
		}
		for _, o := range ours {
			items = append(items, item{o.SentAt, fmt.Sprintf("  %s us (draft %d): %s", o.SentAt.Format("01-02 15:04"), o.ID, textutil.OneLine(o.Text))})
		}
		sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
		for _, it := range items {
			fmt.Fprintln(w, it.line)
		}
	}
	if len(history) > 0 {
		fmt.Fprintf(w, "\nRecent mentions by @%s\n", p.Handle)
		for _, m := range history {
			fmt.Fprintf(w, "  %s [%s] %s\n", m.CreatedAt.Format("2006-01-02"), m.Sentiment.Label, textutil.Truncate(textutil.OneLine(m.Text), 90))
		}
	}
	fmt.Fprintf(w, "\nDraft\n%s\n", indent(d.Text, "  "))
	if d.OriginalText != "" {
		fmt.Fprintf(w, "\n(edited; the rule wrote:)\n%s\n", indent(d.OriginalText, "  "))
	}
	if d.LastError != "" {
		fmt.Fprintf(w, "\nLast error (attempt %d): %s\n", d.Attempts, d.LastError)
	}
	if d.State == parley.DraftPending {
		fmt.Fprintf(w, "\nparley queue approve %d | parley queue edit %d --text \"...\" | parley queue reject %d\n", d.ID, d.ID, d.ID)
	}
	return nil
}

func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
