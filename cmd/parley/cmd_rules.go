package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules/sentiment"
)

func init() {
	register(&command{
		name:    "rules",
		summary: "debug rules on one message, or run them again over stored mentions",
		usage: `parley rules test --config FILE [--author HANDLE] [--mentions N] [--followers N] "some text"
parley rules apply --config FILE --since DURATION|DATE [--dry-run] [--as NAME]

Shows, for one message, its sentiment (label, score, calibrated confidence,
language and whether the model reads it), the words that decided it (and any
slang or brand lexicon entry that applied), every
rule that matched and why, the tags and priority, and the draft it would
queue. Nothing is read from or written to the database: describe the author
with --author, --mentions (their earlier mentions: 0 is a first-timer),
--followers and --last-sentiment.

'apply' runs the config's rules again over the mentions stored since a
time (a duration back from now, like 72h or 30d, or a date): after an ingest
without --config, or after the rules changed. Each mention is decided as at
ingest, over its history: its tags, priority and rules follow the rules, a
rule's pending draft they no longer write is superseded (kept, never sent),
and a conversation keeps at most one pending reply. A reply a person wrote,
or one approved or sent, stays and nothing is queued beside it, so running
it twice queues nothing twice. Sentiment is not classified again. Every
draft change is in the audit log under --as. --dry-run shows what would
change and writes nothing. Drafts of rules marked auto_approve are
approved: a running 'parley run' posts them.

Example:
  parley rules test --config config.example.yaml --author ana@example.social --mentions 3 \
    "my trucks snapped after two days, not happy"
  parley rules apply --config parley.yaml --since 30d --dry-run`,
		run: runRules,
	})
}

func runRules(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	var af applyFlags
	fs.StringVar(&af.since, "since", "", "apply: the mentions created since this duration ago (72h, 30d) or date (2006-01-02, RFC 3339)")
	fs.BoolVar(&af.dryRun, "dry-run", false, "apply: show what would change, write nothing")
	fs.StringVar(&af.actor, "as", defaultActor(e), "apply: who runs the rules, for the audit log")
	fs.StringVar(&af.progress, "progress", "auto", "apply: progress bar: auto (on a terminal), always or never")
	author := fs.String("author", "someone@example.social", "the author's handle")
	name := fs.String("name", "", "the author's display name")
	mentions := fs.Int("mentions", 0, "the author's earlier mentions (0: a first-timer)")
	followers := fs.Int("followers", 100, "the author's followers")
	last := fs.String("last-sentiment", "", "the sentiment of the author's previous mention")
	platform := fs.String("platform", parley.PlatformMastodon, "platform: mastodon or discord")
	replies := fs.Int("thread-replies", 0, "our replies already in the thread")
	e.jsonFlag()
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if err := checkPlatform(*platform); err != nil {
		return err
	}
	if len(rest) >= 1 && rest[0] == "apply" {
		if len(rest) > 1 {
			return fmt.Errorf("%w: apply takes no arguments: give --since", errUsage)
		}
		return rulesApply(ctx, e, af)
	}
	if len(rest) < 1 || rest[0] != "test" {
		return fmt.Errorf("%w: want 'parley rules test --config FILE \"text\"' or 'parley rules apply --config FILE --since 30d'", errUsage)
	}
	text := strings.Join(rest[1:], " ")
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: give the message text to test, in quotes", errUsage)
	}
	cfg, err := e.requireConfig()
	if err != nil {
		return err
	}
	cl, err := cfg.classifier("")
	if err != nil {
		return err
	}
	var lastLabel parley.Label
	if *last != "" {
		if lastLabel, err = parley.ParseLabel(*last); err != nil {
			return fmt.Errorf("%w: --last-sentiment: %v", errUsage, err)
		}
	}
	m := &parley.Mention{
		Platform: *platform, ExternalID: "test", Text: bot.Normalize(text), CreatedAt: time.Now().UTC(),
		Author: parley.Person{Platform: *platform, ExternalID: "test", Handle: strings.TrimPrefix(*author, "@"), Name: *name, Followers: *followers},
	}
	m.Sentiment, m.Lang = cl.ClassifyWithLang(m.Text)
	decided := sentiment.Explain(cl, m.Text, m.Sentiment, 3)
	h := parley.History{Person: m.Author, RepliesInThread: *replies}
	h.Person.Mentions = *mentions
	h.Person.LastSentiment = lastLabel
	res := cfg.ruleSet().Evaluate(m, h)
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(map[string]any{"sentiment": m.Sentiment, "lang": m.Lang,
			"known": m.Sentiment.Known(), "decided_by": decided, "result": res})
	}
	w := e.stdout
	printVerdict(w, m, decided)
	if len(res.Matches) == 0 {
		fmt.Fprintf(w, "rules      none of the %d rules matched\n", cfg.ruleSet().Len())
	}
	for _, match := range res.Matches {
		fmt.Fprintf(w, "matched    %s\n           because %s\n", match.Rule, match.Why)
	}
	for _, re := range res.Errors {
		fmt.Fprintf(w, "error      %v\n", re)
	}
	if len(res.Tags) > 0 {
		fmt.Fprintf(w, "tags       %s\n", strings.Join(res.Tags, ", "))
	}
	fmt.Fprintf(w, "priority   %d\n", res.Priority)
	if res.Ignored {
		fmt.Fprintln(w, "ignored    yes: stored, never answered")
	}
	switch {
	case len(res.Drafts) > 0:
		d := res.Drafts[0]
		how := "waits for approval"
		if d.State == parley.DraftApproved {
			how = "auto-approved: would be sent without review"
		}
		fmt.Fprintf(w, "draft      by rule %s, %s:\n\n%s\n", d.Rule, how, indent(d.Text, "  "))
	case res.NoDraft != "":
		fmt.Fprintf(w, "draft      none: %s\n", res.NoDraft)
	default:
		fmt.Fprintln(w, "draft      none: no matching rule has a reply")
	}
	return nil
}

// printVerdict prints a mention's sentiment for rules test: label, score,
// confidence, model and language, and what decided it.
func printVerdict(w io.Writer, m *parley.Mention, decided []sentiment.WordEffect) {
	fmt.Fprintf(w, "sentiment  %s (score %.2f, confidence %.2f, model %s, language %s)\n", m.Sentiment.Label,
		m.Sentiment.Score, m.Sentiment.Confidence, m.Sentiment.Model, langName(m.Lang))
	if !m.Sentiment.Known() {
		fmt.Fprintf(w, "           the model does not read %s: sentiment.known is false, the label is a placeholder\n", langName(m.Lang))
	}
	if len(decided) > 0 {
		words := make([]string, len(decided))
		for i, d := range decided {
			words[i] = fmt.Sprintf("%q (%+.2f)", d.Word, d.Effect)
		}
		fmt.Fprintf(w, "           decided by %s\n", strings.Join(words, ", "))
	}
	if len(m.Sentiment.Overrides) > 0 {
		fmt.Fprintf(w, "           slang/brand lexicon applied: %s\n", strings.Join(m.Sentiment.Overrides, ", "))
	}
}

// langName is a detected language code for people: "unknown" for "".
func langName(code string) string {
	if code == "" {
		return "unknown"
	}
	return code
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
