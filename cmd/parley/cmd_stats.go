package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleybot/parley"
)

func init() {
	register(&command{
		name:    "stats",
		summary: "print the headline counts: mentions, people, threads, drafts",
		usage: `parley stats [--json] [--db PATH]

Example:
  parley stats --json
  {"mentions":336,"people":183,"threads":250,"drafts":{"pending":120,...},"sentiment":{...}}`,
		run: runStats,
	})
}

func runStats(ctx context.Context, e *env, args []string) (retErr error) {
	e.jsonFlag()
	if _, err := e.parse(args); err != nil {
		return err
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
	s, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	if e.jsonOut {
		return json.NewEncoder(e.stdout).Encode(s)
	}
	printStats(e, s)
	return nil
}

func printStats(e *env, s parley.Stats) {
	fmt.Fprintf(e.stdout, "mentions  %d\npeople    %d\nthreads   %d\n", s.Mentions, s.People, s.Threads)
	fmt.Fprintf(e.stdout, "sentiment %s\n", sentimentMix(s))
	fmt.Fprintf(e.stdout, "drafts    %d pending, %d approved, %d sending, %d sent, %d rejected, %d failed\n",
		s.Drafts[parley.DraftPending], s.Drafts[parley.DraftApproved], s.Drafts[parley.DraftSending],
		s.Drafts[parley.DraftSent], s.Drafts[parley.DraftRejected], s.Drafts[parley.DraftFailed])
}

func sentimentMix(s parley.Stats) string {
	total := 0
	for _, n := range s.Sentiment {
		total += n
	}
	if total == 0 {
		return "no mentions yet"
	}
	pct := func(l parley.Label) float64 { return 100 * float64(s.Sentiment[l]) / float64(total) }
	return fmt.Sprintf("%.0f%% positive, %.0f%% neutral, %.0f%% negative", pct(parley.Positive), pct(parley.Neutral), pct(parley.Negative))
}
