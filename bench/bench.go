// Package bench measures the pipeline on synthetic mentions: throughput,
// latency, memory, database size and the reads people wait for. It drives
// the real parts (bot.Pipeline, the rules, the SQLite store) and reaches
// the store only through its methods; `parley bench` is its command line.
package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/postgres"
)

// Options says what to run. DBPath, Classifier and Rules are required.
type Options struct {
	N      int     // mentions to generate
	Rate   float64 // mentions per second; 0 runs as fast as possible
	Seed   int64   // of the generator: the same seed makes the same mentions
	Batch  int     // most mentions per store transaction (0: the pipeline's default)
	Raw    bool    // also time the raw batched inserts of the same mentions
	DBPath string  // a database that does not exist yet (SQLite)
	// DBURL, when set, is an empty PostgreSQL database to fill instead of
	// DBPath; the raw inserts then COPY into scratch tables in it.
	DBURL      string
	Classifier parley.Classifier
	Rules      *rules.Set
	Logger     *slog.Logger
	CPUProfile string // write a CPU profile of the pipeline run here
	MemProfile string // write a heap profile taken halfway through here
}

// Run fills a fresh database at o.DBPath through the pipeline and reports
// what it measured. The database stays; a --raw database beside it is
// removed.
func Run(ctx context.Context, o Options) (Report, error) {
	if o.N <= 0 {
		return Report{}, parley.Errorf(parley.EINVALID, "bench: the number of mentions must be positive")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	rep := Report{Store: "sqlite", N: o.N, Mode: "throughput", Rate: o.Rate, Model: o.Classifier.Name(), Rules: o.Rules.Len()}
	if o.Rate > 0 {
		rep.Mode = "paced"
	}
	if o.DBURL != "" {
		rep.Store = "postgres"
	}
	rep.Machine = Machine{CPUs: runtime.NumCPU(), LoadStart: loadAverage(), GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GOMAXPROCS: runtime.GOMAXPROCS(0), StartedUnix: time.Now().Unix()}
	base, err := samplePosts()
	if err != nil {
		return rep, err
	}
	st, err := openStore(ctx, o)
	if err != nil {
		return rep, err
	}
	if err := runPipeline(ctx, o, st, newGen(base, o.N, o.Seed), &rep); err != nil {
		_ = st.Close() // a benchmark that failed: its error is the news
		return rep, err
	}
	if err := measureStore(ctx, st, &rep); err != nil {
		_ = st.Close() // a benchmark that failed: its error is the news
		return rep, err
	}
	if err := st.Close(); err != nil {
		return rep, err
	}
	if o.DBURL == "" {
		rep.DBBytes = fileSizes(o.DBPath, o.DBPath+"-wal", o.DBPath+"-shm")
	}
	if rep.Stored > 0 && rep.DBBytes > 0 {
		rep.DBBytesPer1000 = float64(rep.DBBytes) / float64(rep.Stored) * 1000
	}
	if o.Raw {
		if err := runBaseline(ctx, o, newGen(base, o.N, o.Seed), &rep); err != nil {
			return rep, err
		}
	}
	rep.Machine.LoadEnd = loadAverage()
	return rep, nil
}

// benchStore is what the benchmark writes and reads: the SQLite or the
// PostgreSQL store.
type benchStore interface {
	parley.Store
	parley.InboxStore
	parley.DigestStore
	Busiest(ctx context.Context) (person, thread int64, err error)
}

// openStore opens the database to fill: o.DBURL's PostgreSQL database,
// which must hold no mention yet, else a new SQLite file at o.DBPath.
func openStore(ctx context.Context, o Options) (benchStore, error) {
	if o.DBURL == "" {
		return store.Open(ctx, o.DBPath, store.Options{Logger: o.Logger})
	}
	st, err := postgres.Open(ctx, o.DBURL, postgres.Options{Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	empty, err := st.Empty(ctx)
	if err == nil && !empty {
		err = parley.Errorf(parley.EINVALID, "bench: %s holds mentions already: it fills an empty database", st.Where())
	}
	if err != nil {
		_ = st.Close() // the error above is the news
		return nil, err
	}
	return st, nil
}

// runPipeline submits the generated mentions to a pipeline writing to st
// and records throughput, latency and memory.
func runPipeline(ctx context.Context, o Options, st benchStore, g *gen, rep *Report) (retErr error) {
	lat := make([]int32, 0, o.N) // microseconds, appended by the writer only
	heap := startHeapWatch()
	p := bot.NewPipeline(st, o.Classifier, bot.PipelineOptions{
		Logger:    o.Logger,
		BatchSize: o.Batch,
		OnStored: func(stored []*parley.Mention, _ parley.IngestResult) {
			now := time.Now()
			for _, m := range stored {
				lat = append(lat, int32(min(now.Sub(m.ReceivedAt).Microseconds(), math.MaxInt32))) //nolint:gosec // G115: capped at MaxInt32
			}
		},
	}.WithRules(o.Rules, o.Logger))
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() {
			if err := f.Close(); err != nil && retErr == nil {
				retErr = fmt.Errorf("cpu profile: %w", err)
			}
		}()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	submitErr := submitAll(ctx, o, p, g, start)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	closeErr := p.Close(closeCtx)
	cancel()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if o.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	rep.PeakHeapBytes = heap.stop()
	rep.PeakRSSBytes = maxRSS()
	if err := errors.Join(submitErr, closeErr); err != nil {
		return fmt.Errorf("bench interrupted: %w", err)
	}
	ps := p.Stats()
	rep.Stored, rep.Duplicates, rep.Drafts = ps.Stored, ps.Duplicates, ps.Drafts
	rep.Seconds = elapsed.Seconds()
	rep.MentionsPerSec = float64(o.N) / elapsed.Seconds()
	rep.CPUMicrosPerMsg = float64(cpu.Microseconds()) / float64(o.N)
	slices.Sort(lat)
	rep.LatencyP50Ms, rep.LatencyP99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	if len(lat) > 0 {
		rep.LatencyMaxMs = float64(lat[len(lat)-1]) / 1000
	}
	return nil
}

// submitAll hands the pipeline o.N mentions, paced when o.Rate is set.
func submitAll(ctx context.Context, o Options, p *bot.Pipeline, g *gen, start time.Time) error {
	for i := 0; i < o.N; i++ {
		pace(o.Rate, start, i)
		if err := p.Submit(ctx, g.next()); err != nil {
			return err
		}
		if i == o.N/2 && o.MemProfile != "" {
			if err := writeHeapProfile(o.MemProfile); err != nil {
				return err
			}
		}
	}
	return nil
}

// pace sleeps until mention i is due at rate per second from start.
func pace(rate float64, start time.Time, i int) {
	if rate <= 0 {
		return
	}
	if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
		time.Sleep(wait)
	}
}

// measureStore counts what the run stored and times the reads.
func measureStore(ctx context.Context, st benchStore, rep *Report) error {
	counts, err := st.Stats(ctx)
	if err != nil {
		return err
	}
	rep.People, rep.Threads = counts.People, counts.Threads
	rep.Queries, err = timeQueries(ctx, st)
	return err
}

// timeQueries times the reads people wait for on the database just
// filled: the inbox (pending drafts, most urgent first), the history of
// the most active person, the biggest thread, and the last week's digest
// window. Each runs five times; the slowest counts.
func timeQueries(ctx context.Context, st benchStore) (map[string]float64, error) {
	person, thread, err := st.Busiest(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench queries: %w", err)
	}
	latest, err := st.LatestMention(ctx)
	if err != nil {
		return nil, fmt.Errorf("bench queries: %w", err)
	}
	queries := []struct {
		name string
		run  func() error
	}{
		{"inbox", func() error {
			_, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 50})
			return err
		}},
		{"inbox_items", func() error {
			_, err := st.InboxItems(ctx, parley.InboxFilter{Limit: 50})
			return err
		}},
		{"person_history", func() error {
			_, err := st.PersonMentions(ctx, person, 50)
			return err
		}},
		{"thread", func() error {
			_, err := st.ThreadMentions(ctx, thread)
			return err
		}},
		{"week_digest", func() error {
			_, err := st.DigestWindow(ctx, latest.Add(-7*24*time.Hour), latest.Add(time.Millisecond), latest)
			return err
		}},
	}
	out := map[string]float64{}
	for _, q := range queries {
		var worst time.Duration
		for range 5 {
			t := time.Now()
			if err := q.run(); err != nil {
				return nil, fmt.Errorf("bench query %s: %w", q.name, err)
			}
			worst = max(worst, time.Since(t))
		}
		out[q.name] = float64(worst.Microseconds()) / 1000
	}
	return out, nil
}

// runBaseline times store.BaselineInsert on the same mentions, in a
// database beside o.DBPath that it removes afterwards.
func runBaseline(ctx context.Context, o Options, g *gen, rep *Report) error {
	if o.DBURL != "" {
		return runCopyBaseline(ctx, o, g, rep)
	}
	rawPath := o.DBPath + ".raw"
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(rawPath + suffix) // scratch files; absent ones are fine
		}
	}()
	start := time.Now()
	err := store.BaselineInsert(ctx, rawPath, feed(o, g, start))
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	rep.RawSeconds = elapsed.Seconds()
	rep.RawMentionsPerSec = float64(o.N) / elapsed.Seconds()
	rep.RawRatio = rep.MentionsPerSec / rep.RawMentionsPerSec
	return nil
}

// runCopyBaseline times postgres.BaselineCopy on the same mentions, in
// scratch tables of the PostgreSQL database.
func runCopyBaseline(ctx context.Context, o Options, g *gen, rep *Report) error {
	st, err := postgres.Open(ctx, o.DBURL, postgres.Options{Logger: o.Logger})
	if err != nil {
		return err
	}
	defer func() { _ = st.Close() }() // only read and scratch tables: nothing to report
	start := time.Now()
	err = st.BaselineCopy(ctx, feed(o, g, start))
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	rep.RawSeconds = elapsed.Seconds()
	rep.RawMentionsPerSec = float64(o.N) / elapsed.Seconds()
	rep.RawRatio = rep.MentionsPerSec / rep.RawMentionsPerSec
	return nil
}

// feed hands out the o.N generated mentions one by one for a baseline,
// paced as the pipeline run was.
func feed(o Options, g *gen, start time.Time) func() (parley.Mention, bool) {
	i := 0
	return func() (parley.Mention, bool) {
		if i >= o.N {
			return parley.Mention{}, false
		}
		pace(o.Rate, start, i)
		i++
		m := g.next()
		m.ReceivedAt = time.Now()
		return m, true
	}
}
