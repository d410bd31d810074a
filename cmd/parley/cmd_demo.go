package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"text/tabwriter"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
)

func init() {
	register(&command{
		name:    "demo",
		summary: "try Parley on bundled sample data, with no account anywhere",
		usage: `parley demo [--data DIR]

Creates a database in the data folder (default ./parley-data), replays a
bundled sample of a few hundred mentions of Tidewater Skates, a made-up
skateboard brand, through the pipeline with the rules of config.example.yaml,
and prints what happened and the commands to look closer. Running it again
changes nothing: mentions are stored once.

Example:
  go run ./cmd/parley demo
  parley demo --data /tmp/parley-demo`,
		run: runDemo,
	})
}

// demoConfigName is how messages name the built-in example config.
const demoConfigName = "config.example.yaml (built in)"

func runDemo(ctx context.Context, e *env, args []string) error {
	if _, err := e.parse(args); err != nil {
		return err
	}
	e.setLogLevel(slog.LevelWarn)
	cfg, err := ParseConfig(demoConfigName, parley.ExampleConfig, e.getenv)
	if err != nil {
		return fmt.Errorf("the built-in example config is broken: %w", err)
	}
	cfg.Data = "" // --data, else ./parley-data
	dbPath := e.databasePath(cfg)
	st, err := e.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	fmt.Fprintf(e.stdout, "Parley demo: %s, a made-up skateboard brand, on Mastodon and Discord.\n", cfg.Brand.Name)
	fmt.Fprintf(e.stdout, "Replaying %d sample mentions into %s ...\n\n", bytes.Count(replay.Sample(), []byte("\n")), dbPath)
	sample := replay.Sample()
	sum, err := ingest(ctx, e, cfg, st, bytes.NewReader(sample), ingestOptions{size: int64(len(sample)), bar: isTerminal(e.stderr), name: "sample"})
	if err != nil {
		return err
	}
	stats, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	w := e.stdout
	fmt.Fprintf(w, "This run: %d mentions stored, %d already known (duplicates and earlier runs), %d drafts queued.\n\n",
		sum.stats.Stored, sum.stats.Duplicates, sum.stats.Drafts)
	fmt.Fprintf(w, "In the database now:\n")
	fmt.Fprintf(w, "  mentions   %d\n  people     %d\n  threads    %d\n", stats.Mentions, stats.People, stats.Threads)
	fmt.Fprintf(w, "  sentiment  %s\n", sentimentMix(stats))
	fmt.Fprintf(w, "  drafts     %d waiting for approval, %d approved, %d sent, %d rejected\n\n",
		stats.Drafts[parley.DraftPending], stats.Drafts[parley.DraftApproved], stats.Drafts[parley.DraftSent],
		stats.Drafts[parley.DraftRejected])

	urgent, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 3})
	if err != nil {
		return err
	}
	if len(urgent) > 0 {
		fmt.Fprintln(w, "Most urgent drafts:")
		for _, d := range urgent {
			v, err := loadView(ctx, st, d)
			if err != nil {
				return err
			}
			post := ""
			if v.Mention != nil {
				post = v.Mention.Text
			}
			fmt.Fprintf(w, "  #%d  @%s: %q\n       draft: %q\n", d.ID, v.Person.Handle, clip(post, 70), clip(d.Text, 70))
		}
		fmt.Fprintln(w)
	}
	db := dbFlag(dbPath)
	fmt.Fprintf(w, "Look closer (with 'go run ./cmd/parley' in place of 'parley' if it is not installed):\n")
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintf(tw, "  parley queue list%s\tthe approval queue, most urgent first\n", db)
	if len(urgent) > 0 {
		fmt.Fprintf(tw, "  parley queue show %d%s\ta draft with its person and thread\n", urgent[0].ID, db)
		fmt.Fprintf(tw, "  parley queue approve %d%s\tapprove it ('parley run' posts it)\n", urgent[0].ID, db)
	}
	fmt.Fprintf(tw, "  parley stats --json%s\tthe counts, for scripts\n", db)
	fmt.Fprintf(tw, "  parley rules test --config config.example.yaml \"this deck is sick\"\twhich rules match a message, and why\n")
	fmt.Fprintf(tw, "  echo 'my wheels arrived broken' | parley classify\tthe sentiment of any text\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	return nil
}

// dbFlag returns " --db PATH" unless path is the default database.
func dbFlag(path string) string {
	if filepath.Clean(path) == filepath.Clean(filepath.Join(DefaultDataDir, "parley.db")) {
		return ""
	}
	return " --db " + path
}
