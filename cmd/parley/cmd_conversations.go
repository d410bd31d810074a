package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

func init() {
	register(&command{
		name:    "conversations",
		summary: "work conversations: list, show, reply, close, reopen, assign, snooze, search, note, tag, untag",
		usage: `parley conversations list [--view needs-reply|all|mine|waiting|snoozed|closed] [--limit N] [--json]
parley conversations show ID [--json]
parley conversations reply ID [--to MENTION_ID] --text "..." [--as NAME]
parley conversations close ID [--reason "why"] | reopen ID | assign ID USER|"" | snooze ID --until 4h|2026-12-01T09:00:00Z
parley conversations search [QUERY] [--since DATE] [--until DATE] [--limit N] [--json]
    [--view V] [--platform P] [--sentiment S] [--tag T] [--rule R] [--assignee USER|-] [--overdue 1h]
parley conversations note ID TEXT [--as NAME] | tag ID TAG... | untag ID TAG...

Every thread is a conversation: it needs a reply (a customer wrote last),
waits on the customer, is snoozed or closed. It has at most one pending
reply draft. 'reply' queues a reply to the message --to names (default
the customer's newest); it waits for approval like any draft. 'search'
finds stored mentions by words, @handle and #tag (all must match), newest
first, each with its mention id, external id and conversation. With any of
--view, --platform, --sentiment, --tag, --rule, --assignee (- for nobody) or
--overdue (waiting longer than this), it lists the matching conversations
instead, as the web inbox's filters do (view all unless --view says).
--as names who acts (default: your login name); 'mine' lists those
assigned to it. 'note' adds an internal note (staff only, never posted);
'tag' adds tags by hand (kept apart from the tags rules put on posts);
'untag' removes them.

Example:
  parley conversations list
  parley conversations show 12
  parley conversations reply 12 --to 40 --text "Sorry Marcus! DM us your order number."
  parley conversations search "@ana wheels #fail" --since 2026-11-01
  parley conversations search refund --platform mastodon --sentiment negative --overdue 1h`,
		run: runConversations,
	})
}

type convFlags struct {
	view, text, reason, until, since, as string
	to                                   int64
	limit                                int
	// Conversation filters of search.
	platform, sentiment, tag, rule, assignee string
	overdue                                  time.Duration
	filtered                                 bool // one of them, or --view, was given
	viewSet                                  bool
}

func runConversations(ctx context.Context, e *env, args []string) (retErr error) {
	fs := e.flags()
	var f convFlags
	fs.StringVar(&f.view, "view", "needs-reply", "list: needs-reply, all, mine, waiting, snoozed or closed")
	fs.IntVar(&f.limit, "limit", 50, "list and search at most this many")
	fs.StringVar(&f.text, "text", "", "reply: the reply's text")
	fs.Int64Var(&f.to, "to", 0, "reply: the id of the message it answers (default the customer's newest)")
	fs.StringVar(&f.reason, "reason", "", "close: why (kept in the audit log)")
	fs.StringVar(&f.until, "until", "", "snooze: a duration (4h) or a time (RFC 3339); search: before this date")
	fs.StringVar(&f.since, "since", "", "search: from this date (2006-01-02 or RFC 3339)")
	fs.StringVar(&f.as, "as", defaultActor(e), "who is acting, for the audit log")
	fs.StringVar(&f.platform, "platform", "", "search: conversations on this platform")
	fs.StringVar(&f.sentiment, "sentiment", "", "search: conversations whose newest message is negative, neutral or positive")
	fs.StringVar(&f.tag, "tag", "", "search: conversations with a message a rule tagged so")
	fs.StringVar(&f.rule, "rule", "", "search: conversations with a message this rule matched")
	fs.StringVar(&f.assignee, "assignee", "", "search: conversations assigned to this user (- for nobody)")
	fs.DurationVar(&f.overdue, "overdue", 0, "search: conversations whose customer has waited longer than this")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "view", "platform", "sentiment", "tag", "rule", "assignee", "overdue":
			f.filtered, f.viewSet = true, f.viewSet || fl.Name == "view"
		}
	})
	if len(rest) == 0 {
		return fmt.Errorf("%w: want list, show, reply, close, reopen, assign, snooze, search, note, tag or untag", errUsage)
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
	switch sub {
	case "list":
		return convList(ctx, e, st, f)
	case "search":
		return convSearch(ctx, e, st, f, strings.Join(rest, " "))
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: %s takes a conversation id (as 'parley conversations list' shows)", errUsage, sub)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("%w: %q is not a conversation id", errUsage, rest[0])
	}
	switch sub {
	case "show":
		return convShow(ctx, e, st, id)
	case "note", "tag", "untag":
		return convNoteTag(ctx, e, st, sub, id, rest[1:], f)
	}
	dec, err := cliDecisions(e, cfg, st)
	if err != nil {
		return err
	}
	return convDecide(ctx, e, dec, sub, id, rest[1:], f)
}

// convNoteTag adds a note to a conversation, or adds and removes its
// manual tags, printing its notes or tags after.
func convNoteTag(ctx context.Context, e *env, st parley.ConversationNoteStore, sub string, id int64, rest []string, f convFlags) error {
	if sub == "note" {
		text := strings.TrimSpace(strings.Join(rest, " "))
		if text == "" {
			text = f.text
		}
		n, err := st.AddConversationNote(ctx, id, f.as, text)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "note %d added to conversation %d (staff only, never posted)\n", n.ID, id)
		return nil
	}
	if len(rest) == 0 {
		return fmt.Errorf("%w: %s takes a conversation id and tags", errUsage, sub)
	}
	var tags []string
	for _, t := range rest {
		var err error
		if tags, err = st.TagConversation(ctx, id, f.as, t, sub == "untag"); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stdout, "conversation %d tags: %s\n", id, strings.Join(tags, ", "))
	return nil
}

func convDecide(ctx context.Context, e *env, dec parley.Decider, sub string, id int64, rest []string, f convFlags) error {
	var c parley.Conversation
	var err error
	switch sub {
	case "reply":
		d, err := dec.Reply(ctx, f.as, id, f.to, f.text)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "draft %d queued in conversation %d, answering mention %d; approve it with 'parley queue approve %d'\n",
			d.ID, id, d.MentionID, d.ID)
		return nil
	case "close":
		c, err = dec.Close(ctx, f.as, id, f.reason)
	case "reopen":
		c, err = dec.Reopen(ctx, f.as, id)
	case "assign":
		if len(rest) != 1 {
			return fmt.Errorf("%w: assign takes a conversation id and a user name (\"\" to release it)", errUsage)
		}
		c, err = dec.Assign(ctx, f.as, id, rest[0])
	case "snooze":
		until, perr := parseUntil(f.until, time.Now())
		if perr != nil {
			return perr
		}
		c, err = dec.Snooze(ctx, f.as, id, until)
	default:
		return fmt.Errorf("%w: unknown conversations command %q", errUsage, sub)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "conversation %d is %s", c.ID, strings.ReplaceAll(string(c.State), "_", " "))
	if c.State == parley.Snoozed {
		fmt.Fprintf(e.stdout, " until %s", c.SnoozedUntil.Local().Format("2006-01-02 15:04"))
	}
	if c.Assignee != "" {
		fmt.Fprintf(e.stdout, ", assigned to %s", c.Assignee)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// parseUntil reads a duration from now (4h, 90m) or a time (RFC 3339 or a date).
func parseUntil(v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("%w: snooze needs --until (a duration like 4h, or a time)", errUsage)
	}
	if d, err := time.ParseDuration(v); err == nil {
		return now.Add(d), nil
	}
	return parseDate(v, "--until")
}

func parseDate(v, flagName string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: %s %q: want a date (2006-01-02) or a time (RFC 3339)", errUsage, flagName, v)
}

func convList(ctx context.Context, e *env, st cliStore, f convFlags) error {
	view, err := parley.ParseConversationView(f.view)
	if err != nil {
		return fmt.Errorf("%w: --view: %v", errUsage, err)
	}
	cs, err := st.Conversations(ctx, parley.ConversationFilter{View: view, User: f.as, Limit: f.limit})
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(cs)
	}
	if len(cs) == 0 {
		fmt.Fprintf(e.stdout, "No conversations in the %s view.\n", view)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tWAITED\tMSGS\tASSIGNEE\tDRAFT\tLAST MESSAGE")
	now := time.Now()
	for _, c := range cs {
		last := ""
		if m, err := st.Mention(ctx, c.LastMentionID); err == nil {
			last = "@" + m.Author.Handle + ": " + textutil.Truncate(textutil.OneLine(m.Text), 50)
		}
		waited, draft := "-", "-"
		if w := c.Waited(now); w > 0 {
			waited = age(w)
		}
		if c.PendingDraftID != 0 {
			draft = "#" + strconv.FormatInt(c.PendingDraftID, 10)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, strings.ReplaceAll(string(c.Effective(now)), "_", " "),
			waited, c.Messages, c.Assignee, draft, last)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\n'parley conversations show ID' for every message; 'parley conversations reply ID --text ...' to answer.")
	return nil
}

func convShow(ctx context.Context, e *env, st cliStore, id int64) error {
	c, err := st.Conversation(ctx, id)
	if err != nil {
		return err
	}
	ms, err := st.ThreadMentions(ctx, id)
	if err != nil {
		return err
	}
	ds, err := st.Drafts(ctx, parley.DraftFilter{ThreadID: id, Limit: 500})
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"conversation": c, "messages": ms, "drafts": ds})
	}
	w := e.stdout
	fmt.Fprintf(w, "Conversation %d on %s  [%s]", c.ID, c.Platform, strings.ReplaceAll(string(c.Effective(time.Now())), "_", " "))
	if c.Assignee != "" {
		fmt.Fprintf(w, "  assigned to %s", c.Assignee)
	}
	fmt.Fprintf(w, "\n%d customer messages", c.Messages)
	if !c.WaitingSince.IsZero() {
		fmt.Fprintf(w, "; waiting since %s", c.WaitingSince.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, m := range ms {
		lines = append(lines, line{m.CreatedAt, fmt.Sprintf("  %s  mention %d (%s) @%s [%s]: %s", m.CreatedAt.Local().Format("01-02 15:04"),
			m.ID, m.ExternalID, m.Author.Handle, m.Sentiment.Label, textutil.OneLine(m.Text))})
	}
	for _, d := range ds {
		switch d.State {
		case parley.DraftSent:
			lines = append(lines, line{d.SentAt, fmt.Sprintf("  %s  us (draft %d, to mention %d): %s", d.SentAt.Local().Format("01-02 15:04"),
				d.ID, d.MentionID, textutil.OneLine(d.Text))})
		case parley.DraftPending:
			lines = append(lines, line{d.CreatedAt, fmt.Sprintf("  ...          pending draft %d (to mention %d): %s", d.ID, d.MentionID, textutil.OneLine(d.Text))})
		}
	}
	sortLines := func(i, j int) bool { return lines[i].at.Before(lines[j].at) }
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && sortLines(j, j-1); j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	for _, l := range lines {
		fmt.Fprintln(w, l.text)
	}
	fmt.Fprintf(w, "\nparley conversations reply %d [--to MENTION_ID] --text \"...\" | close %d | snooze %d --until 4h\n", c.ID, c.ID, c.ID)
	return nil
}

// searchResult is one found mention with where it lives.
type searchResult struct {
	MentionID      int64     `json:"mention_id"`
	ExternalID     string    `json:"external_id"`
	ConversationID int64     `json:"conversation_id"`
	Platform       string    `json:"platform"`
	Author         string    `json:"author"`
	CreatedAt      time.Time `json:"created_at"`
	Text           string    `json:"text"`
	URL            string    `json:"url,omitempty"`
}

func convSearch(ctx context.Context, e *env, st cliStore, f convFlags, query string) error {
	q := parley.MentionQuery{Text: query, Limit: f.limit}
	var err error
	if f.since != "" {
		if q.Since, err = parseDate(f.since, "--since"); err != nil {
			return err
		}
	}
	if f.until != "" {
		if q.Until, err = parseDate(f.until, "--until"); err != nil {
			return err
		}
	}
	if f.filtered {
		return convFilter(ctx, e, st, f, q)
	}
	ms, err := st.SearchMentions(ctx, q)
	if err != nil {
		return err
	}
	out := make([]searchResult, 0, len(ms))
	for _, m := range ms {
		out = append(out, searchResult{MentionID: m.ID, ExternalID: m.ExternalID, ConversationID: m.ThreadID, Platform: m.Platform,
			Author: m.Author.Handle, CreatedAt: m.CreatedAt, Text: m.Text, URL: m.URL})
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "Nothing found.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MENTION\tEXTERNAL ID\tCONVERSATION\tWHEN\tAUTHOR\tTEXT")
	for _, r := range out {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t@%s\t%s\n", r.MentionID, r.ExternalID, r.ConversationID,
			r.CreatedAt.Local().Format("2006-01-02 15:04"), r.Author, textutil.Truncate(textutil.OneLine(r.Text), 60))
	}
	return tw.Flush()
}

// convResult is one conversation search found.
type convResult struct {
	ID             int64                    `json:"id"`
	State          parley.ConversationState `json:"state"`
	Platform       string                   `json:"platform"`
	Assignee       string                   `json:"assignee,omitempty"`
	Author         string                   `json:"author"`
	Sentiment      parley.Label             `json:"sentiment"`
	WaitingSince   time.Time                `json:"waiting_since,omitzero"`
	LastMessageAt  time.Time                `json:"last_message_at"`
	Text           string                   `json:"text"`
	PendingDraftID int64                    `json:"pending_draft_id,omitempty"`
}

// convFilter lists the conversations the web inbox's filters select.
func convFilter(ctx context.Context, e *env, st cliStore, f convFlags, mq parley.MentionQuery) error {
	view := parley.ViewAll
	if f.viewSet {
		v, err := parley.ParseConversationView(f.view)
		if err != nil {
			return fmt.Errorf("%w: --view: %w", errUsage, err)
		}
		view = v
	}
	q := parley.InboxQuery{View: view, User: f.as, Text: mq.Text, Since: mq.Since, Until: mq.Until, Platform: f.platform,
		Tag: f.tag, Rule: f.rule, Assignee: f.assignee, Overdue: f.overdue, Limit: f.limit}
	if f.sentiment != "" {
		l, err := parley.ParseLabel(f.sentiment)
		if err != nil {
			return fmt.Errorf("%w: --sentiment: %w", errUsage, err)
		}
		q.Sentiment = l
	}
	page, err := st.InboxPage(ctx, q)
	if err != nil {
		return err
	}
	out := make([]convResult, 0, len(page.Rows))
	for _, r := range page.Rows {
		c := r.Conversation
		out = append(out, convResult{ID: c.ID, State: c.Effective(time.Now()), Platform: c.Platform, Assignee: c.Assignee,
			Author: r.Last.Author.Handle, Sentiment: r.Last.Sentiment.Label, WaitingSince: c.WaitingSince,
			LastMessageAt: c.LastMessageAt, Text: r.Last.Text, PendingDraftID: c.PendingDraftID})
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(e.stdout, "No conversation matches.")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONVERSATION\tSTATE\tASSIGNEE\tLAST MESSAGE\tAUTHOR\tSENTIMENT\tTEXT")
	for _, r := range out {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t@%s\t%s\t%s\n", r.ID, strings.ReplaceAll(string(r.State), "_", " "), r.Assignee,
			r.LastMessageAt.Local().Format("2006-01-02 15:04"), r.Author, r.Sentiment, textutil.Truncate(textutil.OneLine(r.Text), 50))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\n%d in view %s", page.Counts[view], view)
	if len(out) < page.Counts[view] {
		fmt.Fprintf(e.stdout, " (the first %d shown; --limit shows more)", len(out))
	}
	fmt.Fprintln(e.stdout)
	return nil
}
