package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bench"
	"github.com/parleybot/parley/store/postgres"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure the pipeline on synthetic mentions: throughput, latency, memory, size",
		usage: `parley bench [--n N] [--rate R/s] [--raw] [--db PATH|postgres://...] [--json]

Generates N realistic synthetic mentions (the demo sample's texts, varied in
length and emoji; a long tail of authors with a few very active ones; 20%
replies forming threads; 1% re-delivered duplicates) and runs them through
the full pipeline (the config's classifier and rules, by default those of
config.example.yaml) into a fresh database. It prints:

  throughput   mentions/s from the first Submit to the last batch committed
  latency      p50/p99 from arrival (Submit) to stored with drafts queued
  memory       peak resident memory of the process (max RSS)
  size         database bytes per 1,000 mentions
  queries      the inbox, a person's history, a thread and a week's digest
               on the database just filled

--rate 1000/s paces the mentions at a steady rate instead (latency at load,
not throughput); without --n it runs for 30 seconds. --raw also measures raw
batched SQLite inserts of the same mention and author rows (no classifier,
no rules) into another fresh database in the same run, and prints the
pipeline's share of that. The database is removed afterwards unless --db
names it (it must not exist yet).

--db postgres://... fills that PostgreSQL database instead (it must hold no
mention yet: make an empty one), and --raw then COPYs the same mention and
author rows into scratch tables of it, dropped afterwards.

--inbox N then times the web inbox on that database with N conversations
left needing a reply (the older ones closed, as if answered): each page
rendered in process (the server's time, slowest of --runs), its weight,
searches, and a new mention's way to an open page over the live stream.
With --db naming a database that exists, it skips the fill and times the
inbox on it (build it once, time it often).

Example:
  parley bench --n 100000 --raw
  parley bench --rate 1000/s --json
  parley bench --n 1000000 --db /tmp/1m.db --inbox 10000
  parley bench --db /tmp/1m.db --inbox 10000`,
		run: runBench,
	})
}

func runBench(ctx context.Context, e *env, args []string) error {
	fs := e.flags()
	e.jsonFlag()
	n := fs.Int("n", 100_000, "mentions to generate (with --rate and no --n: 30 seconds' worth)")
	rateFlag := fs.String("rate", "", "pace mentions at this rate, e.g. 1000/s (default: as fast as possible)")
	raw := fs.Bool("raw", false, "also measure raw batched inserts of the same rows, and print the ratio")
	model := fs.String("model", "", "sentiment model (default the config's, else default)")
	seed := fs.Int64("seed", 1, "random seed of the generator")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the pipeline run to this file (go tool pprof)")
	memProfile := fs.String("memprofile", "", "write a heap profile taken halfway through the run to this file")
	batch := fs.Int("batch", 0, "most mentions per store transaction (default the pipeline's)")
	inboxOpen := fs.Int("inbox", 0, "then time the web inbox with this many conversations needing a reply")
	runs := fs.Int("runs", 10, "with --inbox: render each page this many times and keep the slowest")
	if _, err := e.parse(args); err != nil {
		return err
	}
	if *inboxOpen > 0 && e.dbPath != "" {
		if _, err := os.Stat(e.dbPath); err == nil {
			return benchInbox(ctx, e, e.dbPath, *inboxOpen, *runs)
		}
	}
	nSet := false
	fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
	rate := 0.0
	if *rateFlag != "" {
		r, err := bench.ParseRate(*rateFlag)
		if err != nil {
			return fmt.Errorf("%w: --rate %q: %v", errUsage, *rateFlag, err)
		}
		rate = r
		if !nSet {
			*n = int(math.Ceil(rate * 30))
		}
	}
	if *n <= 0 {
		return fmt.Errorf("%w: --n must be positive", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg == nil {
		if cfg, err = ParseConfig("config.example.yaml", parley.ExampleConfig, e.getenv); err != nil {
			return fmt.Errorf("the example config: %w", err)
		}
	}
	o := bench.Options{N: *n, Rate: rate, Seed: *seed, Batch: *batch, Raw: *raw, Rules: cfg.ruleSet(), Logger: e.logger,
		CPUProfile: *cpuProfile, MemProfile: *memProfile}
	if postgres.IsURL(e.dbPath) {
		if *inboxOpen > 0 {
			return fmt.Errorf("%w: --inbox times the inbox on a SQLite file; on PostgreSQL the queries line reports the inbox", errUsage)
		}
		o.DBURL = e.dbPath
		return benchFill(ctx, e, cfg, o, *model)
	}
	dbPath, cleanup, err := benchDBPath(e.dbPath)
	if err != nil {
		return err
	}
	defer cleanup()
	o.DBPath = dbPath
	if err := benchFill(ctx, e, cfg, o, *model); err != nil {
		return err
	}
	if *inboxOpen > 0 {
		return benchInbox(ctx, e, dbPath, *inboxOpen, *runs)
	}
	return nil
}

// benchFill fills a fresh database through the pipeline and reports it.
func benchFill(ctx context.Context, e *env, cfg *Config, o bench.Options, model string) error {
	cl, err := cfg.classifier(model)
	if err != nil {
		return err
	}
	o.Classifier = cl
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(e.stdout)
	return nil
}

// benchInbox times the web inbox on the database at path.
func benchInbox(ctx context.Context, e *env, path string, open, runs int) error {
	rep, err := bench.Inbox(ctx, path, open, runs, e.logger)
	if err != nil {
		return err
	}
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.Print(e.stdout)
	return nil
}

// benchDBPath returns the database to fill: dbFlag (which must not exist),
// else a file in a fresh temporary folder removed by cleanup.
func benchDBPath(dbFlag string) (path string, cleanup func(), err error) {
	if dbFlag != "" {
		if _, err := os.Stat(dbFlag); err == nil {
			return "", nil, parley.Errorf(parley.EINVALID, "--db %s exists: bench needs a fresh database (remove it or name another)", dbFlag)
		}
		return dbFlag, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "parley-bench")
	if err != nil {
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	return filepath.Join(dir, "bench.db"), func() { _ = os.RemoveAll(dir) }, nil
}
