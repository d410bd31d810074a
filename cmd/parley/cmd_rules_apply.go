package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

type applyFlags struct {
	since    string
	dryRun   bool
	actor    string
	progress string
}

// applyBatch is how many mentions one transaction decides again: small
// enough that a running 'parley run' keeps writing between batches.
const applyBatch = 200

// applySummary counts what 'rules apply' did or would do.
type applySummary struct {
	mentions, changed, queued, autoApproved, superseded int
}

// rulesApply runs the config's rules again over the mentions stored since
// af.since, in batches, through the store's re-decide machinery.
func rulesApply(ctx context.Context, e *env, af applyFlags) (retErr error) {
	if af.since == "" {
		return fmt.Errorf("%w: apply needs --since: a duration back from now (72h, 30d) or a date (2006-01-02)", errUsage)
	}
	since, err := parseSince(af.since, time.Now())
	if err != nil {
		return err
	}
	bar, err := wantBar(e, af.progress)
	if err != nil {
		return err
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg == nil {
		return fmt.Errorf("%w: apply needs the rules: give --config FILE (or set PARLEY_CONFIG)", errUsage)
	}
	st, err := e.openExistingStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	return applyRules(ctx, e, st, cfg.ruleSet().Decide(e.logger), since, af, bar)
}

func applyRules(ctx context.Context, e *env, st parley.RuleReapplier, decide parley.DecideFunc, since time.Time,
	af applyFlags, showBar bool) error {
	ids, err := st.MentionIDsSince(ctx, since)
	if err != nil {
		return err
	}
	var bar *progressbar.ProgressBar
	if showBar && len(ids) > 0 {
		bar = progressbar.NewOptions(len(ids), progressbar.OptionSetWriter(e.stderr), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetDescription("applying rules"))
	}
	var sum applySummary
	for start := 0; start < len(ids); start += applyBatch {
		batch := ids[start:min(start+applyBatch, len(ids))]
		rs, err := st.RedecideMentions(ctx, batch, decide, af.actor, af.dryRun)
		if err != nil {
			return fmt.Errorf("applying the rules (%d of %d mentions done): %w", start, len(ids), err)
		}
		for _, r := range rs {
			sum.add(r)
			if af.dryRun && r.Changed() {
				printReapplied(e.stdout, r)
			}
		}
		if bar != nil {
			_ = bar.Add(len(batch)) // only draws on stderr
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	verb := map[bool]string{true: "would change", false: "changed"}[af.dryRun]
	fmt.Fprintf(e.stdout, "rules applied to %s since %s: %d %s, %s queued (%d auto-approved), %s superseded\n",
		plural(sum.mentions, "mention", "mentions"), since.Local().Format("2006-01-02 15:04"), sum.changed, verb,
		plural(sum.queued, "draft", "drafts"), sum.autoApproved, plural(sum.superseded, "draft", "drafts"))
	if af.dryRun {
		fmt.Fprintln(e.stdout, "dry run: nothing was written")
	}
	return nil
}

func (s *applySummary) add(r parley.Reapplied) {
	s.mentions++
	if r.Changed() {
		s.changed++
	}
	s.queued += len(r.Queued)
	s.superseded += len(r.Replaced)
	for _, d := range r.Queued {
		if d.State == parley.DraftApproved {
			s.autoApproved++
		}
	}
}

// printReapplied says in one line what deciding a mention again changes.
func printReapplied(w io.Writer, r parley.Reapplied) {
	b, a := r.Before, r.Mention
	var what []string
	if !slices.Equal(b.Tags, a.Tags) {
		what = append(what, fmt.Sprintf("tags [%s] -> [%s]", strings.Join(b.Tags, ", "), strings.Join(a.Tags, ", ")))
	}
	if b.Priority != a.Priority {
		what = append(what, fmt.Sprintf("priority %d -> %d", b.Priority, a.Priority))
	}
	if b.Ignored != a.Ignored {
		what = append(what, fmt.Sprintf("ignored %t -> %t", b.Ignored, a.Ignored))
	}
	for _, d := range r.Replaced {
		what = append(what, fmt.Sprintf("supersedes draft %d (rule %s)", d.ID, d.Rule))
	}
	for _, d := range r.Queued {
		how := "pending"
		if d.State == parley.DraftApproved {
			how = "auto-approved"
		}
		what = append(what, fmt.Sprintf("queues a draft by rule %s (%s): %q", d.Rule, how, textutil.OneLine(d.Text)))
	}
	if len(what) == 0 {
		what = append(what, fmt.Sprintf("rules [%s] -> [%s]", strings.Join(b.Rules, ", "), strings.Join(a.Rules, ", ")))
	}
	fmt.Fprintf(w, "mention %d (@%s): %s\n", a.ID, a.Author.Handle, strings.Join(what, "; "))
}

// parseSince reads --since: a duration back from now (90m, 72h, 30d) or a
// date or time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := parseDate(v, "--since")
	if err != nil {
		return t, fmt.Errorf("%w (or a duration back from now: 72h, 30d)", err)
	}
	return t, nil
}

// wantBar reads --progress: auto shows a bar when stderr is a terminal.
func wantBar(e *env, progress string) (bool, error) {
	switch progress {
	case "auto":
		return isTerminal(e.stderr), nil
	case "always":
		return true, nil
	case "never":
		return false, nil
	}
	return false, fmt.Errorf("%w: --progress %q: want auto, always or never", errUsage, progress)
}
