package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
)

func init() {
	register(&command{
		name:    "ingest",
		summary: "import mentions from a replay file (JSONL) through the pipeline",
		usage: `parley ingest [--config FILE] [--db PATH] FILE.jsonl|-

Reads one mention a line in the replay format and runs each through the same
pipeline as a live connector: sentiment, rules, drafts. Mentions are unique
per platform and id, so ingesting a file again changes nothing. A bad line is
reported with its number and field; the lines around it are still stored and
the exit status is 1. On a terminal a progress bar shows the rate.

Replay format (platform, id, author.id, text and created_at are required):
  {"platform":"mastodon","id":"109","author":{"id":"42","handle":"ana@example.social",
   "name":"Ana","followers":120},"text":"...","created_at":"2026-11-02T10:00:00Z",
   "in_reply_to":"108","url":"https://...","channel":"..."}

Example:
  parley ingest --config config.example.yaml mentions.jsonl
  zcat old.jsonl.gz | parley ingest --db ./parley-data/parley.db -`,
		run: runIngest,
	})
}

func runIngest(ctx context.Context, e *env, args []string) (retErr error) {
	quiet := e.flags().Bool("quiet", false, "print only errors and the summary")
	rescore := e.flags().Bool("rescore", true, "rescore advocates afterwards, so 'advocates list' is current (--rescore=false skips it)")
	progress := e.flags().String("progress", "auto", "progress bar: auto (on a terminal), always or never")
	rest, err := e.parse(args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return fmt.Errorf("%w: want one replay file (or - for standard input)", errUsage)
	}
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg == nil {
		// Stored mentions are never decided again by a later ingest (they
		// are duplicates then), so say it before, not after.
		fmt.Fprintln(e.stderr, "note: no --config: mentions are stored and classified with the default model, "+
			"but no rules run and no drafts are queued; a later ingest with --config will not revisit them: "+
			"'parley rules apply --config FILE --since DATE' runs the rules over them")
	}
	var in io.Reader
	var size int64 = -1
	name := rest[0]
	if name == "-" {
		in = e.stdin
		name = "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return parley.Errorf(parley.EINVALID, "open replay file: %w", err)
		}
		defer f.Close() //nolint:errcheck // read-only: the reads report failures
		if st, err := f.Stat(); err == nil {
			size = st.Size()
		}
		in = f
	}
	st, err := e.openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer joinErr(&retErr, st.Close)
	var bar bool
	switch *progress {
	case "auto":
		bar = !*quiet && isTerminal(e.stderr)
	case "always":
		bar = true
	case "never":
	default:
		return fmt.Errorf("%w: --progress %q: want auto, always or never", errUsage, *progress)
	}
	sum, err := ingest(ctx, e, cfg, st, in, ingestOptions{size: size, bar: bar, name: name})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %d mentions stored, %d already known, %d drafts queued, %d bad lines (%.0f mentions/s)\n",
		name, sum.stats.Stored, sum.stats.Duplicates, sum.stats.Drafts, sum.badLines, sum.rate())
	if sum.stats.Stored > 0 && *rescore && ctx.Err() == nil { // a stopped ingest stops here
		if err := rescoreAfterIngest(ctx, e, cfg, st); err != nil {
			return err
		}
	}
	if sum.badLines > 0 {
		return &exitError{code: 1, msg: fmt.Sprintf("%d lines were not valid (listed above); the others were stored", sum.badLines)}
	}
	return nil
}

type ingestOptions struct {
	size int64 // bytes, -1 when unknown
	bar  bool  // show a progress bar on stderr
	name string
}

type ingestSummary struct {
	stats    bot.PipelineStats
	badLines int64
	elapsed  time.Duration
}

func (s ingestSummary) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.stats.Submitted) / s.elapsed.Seconds()
}

// newPipeline builds the pipeline a config describes; metrics may be nil.
func newPipeline(e *env, cfg *Config, st parley.MentionStore, metrics *bot.Metrics, opts bot.PipelineOptions) (*bot.Pipeline, error) {
	cl, err := cfg.classifier("")
	if err != nil {
		return nil, err
	}
	opts.Logger = e.logger
	opts = opts.WithRules(cfg.ruleSet(), e.logger)
	if metrics != nil {
		next := opts.OnStored
		opts.OnStored = func(ms []*parley.Mention, res parley.IngestResult) {
			metrics.ObserveIngest(res)
			if next != nil {
				next(ms, res)
			}
		}
	}
	if tl, ok := st.(bot.TombstoneLister); ok && opts.Blocked == nil {
		// Accounts erased with --block stay out, whichever command ingests.
		opts.Blocked = bot.NewTombstones(tl, 0, e.logger).Blocked
	}
	return bot.NewPipeline(st, cl, opts), nil
}

// ingest runs a replay stream through a fresh pipeline into st.
func ingest(ctx context.Context, e *env, cfg *Config, st cliStore, in io.Reader, opts ingestOptions) (ingestSummary, error) {
	var sum ingestSummary
	eng, err := cfg.advocateEngine()
	if err != nil {
		return sum, err
	}
	// Opt-outs and prompt answers in the file are recorded; an old post is
	// not acknowledged late.
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Logger: e.logger, NoAcknowledge: true})
	p, err := newPipeline(e, cfg, st, nil, bot.PipelineOptions{MaxAttempts: 5, OnStored: adv.OnStored})
	if err != nil {
		return sum, err
	}
	var errMu sync.Mutex
	var bar *progressbar.ProgressBar
	src := replay.NewSource(in, replay.Options{Logger: e.logger, OnError: func(le replay.LineError) {
		errMu.Lock()
		defer errMu.Unlock()
		if bar != nil {
			bar.Clear()
		}
		fmt.Fprintf(e.stderr, "%s: %v\n", opts.name, &le)
	}})
	stopBar := func() {}
	if opts.bar {
		bar = newBar(e, opts.size)
		stopBar = watchProgress(bar, src, opts.size, &errMu)
	}
	start := time.Now()
	// Stop reading once the pipeline gave up on a batch (a full disk):
	// the rest would fail the same way.
	runErr := src.Run(ctx, sinkFunc(func(ctx context.Context, m parley.Mention) error {
		if err := p.Err(); err != nil {
			return err
		}
		return p.Submit(ctx, m)
	}))
	// Whatever happened, store what was accepted: a Ctrl-C keeps the
	// mentions read so far, and re-running the file resumes.
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	closeErr := p.Close(closeCtx)
	stopBar()
	sum = ingestSummary{stats: p.Stats(), badLines: src.Errors(), elapsed: time.Since(start)}
	if runErr != nil && closeErr == nil && stoppedBySIGTERM(ctx) {
		// A service manager stopping us: everything accepted is stored, so
		// this is a clean stop (exit status 0), and re-running resumes.
		fmt.Fprintf(e.stderr, "stopped by SIGTERM: %d mentions stored; run the same command again to resume\n", sum.stats.Stored)
		return sum, nil
	}
	if runErr != nil {
		if errors.Is(runErr, context.Canceled) {
			fmt.Fprintf(e.stderr, "interrupted: %d mentions stored before stopping; run the same command again to resume\n", sum.stats.Stored)
		}
		return sum, errors.Join(runErr, closeErr)
	}
	return sum, closeErr
}

// sinkFunc adapts a function to parley.Sink.
type sinkFunc func(ctx context.Context, m parley.Mention) error

func (f sinkFunc) Submit(ctx context.Context, m parley.Mention) error { return f(ctx, m) }

// stoppedBySIGTERM reports whether ctx (main's signal context) ended
// because of SIGTERM.
func stoppedBySIGTERM(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return cause != nil && strings.Contains(cause.Error(), syscall.SIGTERM.String())
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newBar(e *env, size int64) *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(e.stderr),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetDescription("ingesting"),
	}
	if size > 0 {
		// The bar measures bytes of the file; the description shows the
		// mentions and their rate (see watchProgress).
		return progressbar.NewOptions64(size, append(opts, progressbar.OptionShowBytes(true))...)
	}
	return progressbar.NewOptions64(-1, opts...)
}

// watchProgress updates bar from src until the returned stop is called.
func watchProgress(bar *progressbar.ProgressBar, src *replay.Source, size int64, mu *sync.Mutex) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			mu.Lock()
			n := src.Mentions()
			rate := float64(n) / time.Since(start).Seconds()
			bar.Describe(fmt.Sprintf("ingesting %d mentions, %.0f/s", n, rate))
			if size > 0 {
				bar.Set64(src.Bytes())
			} else {
				bar.Set64(n)
			}
			mu.Unlock()
		}
	}()
	return func() {
		close(done)
		<-finished
		bar.Finish()
	}
}

// rescoreAfterIngest brings advocate scores up to date with what was
// stored, as of the newest mention (an import of old posts is scored as of
// its own time, not today's), so 'advocates list' is current. It queues no
// invitations: those wait for 'parley run' or 'advocates rescore'.
func rescoreAfterIngest(ctx context.Context, e *env, cfg *Config, st cliStore) error {
	latest, err := st.LatestMention(ctx)
	if err != nil || latest.IsZero() {
		return err
	}
	now := latest.Add(time.Second)
	if t := time.Now(); t.Before(now) {
		now = t
	}
	eng, err := cfg.advocateEngine()
	if err != nil {
		return err
	}
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Logger: e.logger, NoPrompts: true,
		Now: func() time.Time { return now }})
	pass, err := adv.RunOnce(ctx)
	if err != nil {
		return fmt.Errorf("rescore advocates after the ingest: %w", err)
	}
	fmt.Fprintf(e.stdout, "advocates: %d people scored, %d state changes ('parley advocates list')\n", pass.People, len(pass.Changes))
	return nil
}
