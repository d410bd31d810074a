package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/store"
)

func init() {
	register(&command{
		name:    "bench",
		summary: "measure the pipeline on synthetic mentions: throughput, latency, memory, size",
		usage: `parley bench [--n N] [--rate R/s] [--raw] [--db PATH] [--json]

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

Example:
  parley bench --n 100000 --raw
  parley bench --rate 1000/s --json`,
		run: runBench,
	})
}

// benchReport is what `parley bench --json` prints.
type benchReport struct {
	N          int     `json:"n"`
	Mode       string  `json:"mode"` // "throughput" or "paced"
	Rate       float64 `json:"rate,omitempty"`
	Model      string  `json:"model"`
	Rules      int     `json:"rules"`
	Stored     int64   `json:"stored"`
	Duplicates int64   `json:"duplicates"`
	Drafts     int64   `json:"drafts"`
	People     int     `json:"people"`
	Threads    int     `json:"threads"`

	Seconds         float64 `json:"seconds"`
	MentionsPerSec  float64 `json:"mentions_per_sec"`
	CPUMicrosPerMsg float64 `json:"cpu_us_per_mention"`
	LatencyP50Ms    float64 `json:"latency_p50_ms"`
	LatencyP99Ms    float64 `json:"latency_p99_ms"`
	LatencyMaxMs    float64 `json:"latency_max_ms"`
	PeakRSSBytes    int64   `json:"peak_rss_bytes"`
	PeakHeapBytes   uint64  `json:"peak_go_heap_bytes"`
	DBBytes         int64   `json:"db_bytes"`
	DBBytesPer1000  float64 `json:"db_bytes_per_1000"`

	Queries map[string]float64 `json:"queries_ms,omitempty"`

	RawMentionsPerSec float64 `json:"raw_mentions_per_sec,omitempty"`
	RawSeconds        float64 `json:"raw_seconds,omitempty"`
	RawRatio          float64 `json:"raw_ratio,omitempty"`

	Machine benchMachine `json:"machine"`
}

type benchMachine struct {
	CPUs        int       `json:"cpus"`
	LoadStart   []float64 `json:"load_average_start"`
	LoadEnd     []float64 `json:"load_average_end"`
	GoVersion   string    `json:"go"`
	GOOS        string    `json:"goos"`
	GOARCH      string    `json:"goarch"`
	GOMAXPROCS  int       `json:"gomaxprocs"`
	StartedUnix int64     `json:"started_unix"`
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
	if _, err := e.parse(args); err != nil {
		return err
	}
	nSet := false
	fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
	rate := 0.0
	if *rateFlag != "" {
		r, err := parseRate(*rateFlag)
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
	cl, err := cfg.classifier(*model)
	if err != nil {
		return err
	}

	dbPath, cleanup, err := benchDBPath(e.dbPath)
	if err != nil {
		return err
	}
	defer cleanup()

	rep := benchReport{N: *n, Mode: "throughput", Rate: rate, Model: cl.Name(), Rules: cfg.ruleSet().Len()}
	if rate > 0 {
		rep.Mode = "paced"
	}
	rep.Machine = benchMachine{CPUs: runtime.NumCPU(), LoadStart: loadAverage(), GoVersion: runtime.Version(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GOMAXPROCS: runtime.GOMAXPROCS(0), StartedUnix: time.Now().Unix()}
	base, err := benchBase()
	if err != nil {
		return err
	}

	st, err := store.Open(ctx, dbPath, store.Options{Logger: e.logger})
	if err != nil {
		return err
	}
	lat := make([]int32, 0, *n) // microseconds, appended by the writer only
	heap := startHeapWatch()
	p := bot.NewPipeline(st, cl, bot.PipelineOptions{
		Logger:           e.logger,
		Decide:           cfg.ruleSet().Decide(e.logger),
		ConcurrentDecide: true,
		Prepare:          cfg.ruleSet().Prepare,
		DecideOptions:    cfg.ruleSet().DecideOptions(),
		BatchSize:        *batch,
		OnStored: func(stored []*parley.Mention, _ parley.IngestResult) {
			now := time.Now()
			for _, m := range stored {
				lat = append(lat, int32(min(now.Sub(m.ReceivedAt).Microseconds(), math.MaxInt32)))
			}
		},
	})
	gen := newBenchGen(base, *n, *seed)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	cpu0 := cpuTime()
	start := time.Now()
	var submitErr error
	for i := 0; i < *n; i++ {
		if rate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		}
		if err := p.Submit(ctx, gen.next()); err != nil {
			submitErr = err
			break
		}
		if i == *n/2 && *memProfile != "" {
			if err := writeHeapProfile(*memProfile); err != nil {
				return err
			}
		}
	}
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	closeErr := p.Close(closeCtx)
	cancel()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	rep.PeakHeapBytes = heap.stop()
	rep.PeakRSSBytes = maxRSS()
	if err := errors.Join(submitErr, closeErr); err != nil {
		st.Close()
		return fmt.Errorf("bench interrupted: %w", err)
	}
	ps := p.Stats()
	rep.Stored, rep.Duplicates, rep.Drafts = ps.Stored, ps.Duplicates, ps.Drafts
	rep.Seconds = elapsed.Seconds()
	rep.MentionsPerSec = float64(*n) / elapsed.Seconds()
	rep.CPUMicrosPerMsg = float64(cpu.Microseconds()) / float64(*n)
	slices.Sort(lat)
	rep.LatencyP50Ms, rep.LatencyP99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.99)
	if len(lat) > 0 {
		rep.LatencyMaxMs = float64(lat[len(lat)-1]) / 1000
	}
	lat = nil

	counts, err := st.Stats(ctx)
	if err != nil {
		st.Close()
		return err
	}
	rep.People, rep.Threads = counts.People, counts.Threads
	if rep.Queries, err = benchQueries(ctx, st); err != nil {
		st.Close()
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	rep.DBBytes = fileSizes(dbPath, dbPath+"-wal", dbPath+"-shm")
	if rep.Stored > 0 {
		rep.DBBytesPer1000 = float64(rep.DBBytes) / float64(rep.Stored) * 1000
	}

	if *raw {
		rawPath := dbPath + ".raw"
		rawElapsed, err := benchRaw(ctx, rawPath, newBenchGen(base, *n, *seed), *n, rate)
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(rawPath + suffix)
		}
		if err != nil {
			return err
		}
		rep.RawSeconds = rawElapsed.Seconds()
		rep.RawMentionsPerSec = float64(*n) / rawElapsed.Seconds()
		rep.RawRatio = rep.MentionsPerSec / rep.RawMentionsPerSec
	}
	rep.Machine.LoadEnd = loadAverage()
	if e.jsonOut {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printBench(e.stdout, rep)
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return nil
}

// parseRate reads "1000/s", "1000", "60/m" or "1000/ms".
func parseRate(s string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("want a positive number of mentions per second, e.g. 1000/s")
	}
	switch strings.TrimSpace(unit) {
	case "", "s":
		return v, nil
	case "m", "min":
		return v / 60, nil
	case "ms":
		return v * 1000, nil
	}
	return 0, fmt.Errorf("unknown unit %q: want /s, /m or /ms", unit)
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
	return filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }, nil
}

func printBench(w io.Writer, r benchReport) {
	mode := "as fast as possible"
	if r.Mode == "paced" {
		mode = fmt.Sprintf("paced at %s/s", thousands(r.Rate))
	}
	fmt.Fprintf(w, "parley bench: %s mentions %s (model %s, %d rules)\n", thousands(float64(r.N)), mode, r.Model, r.Rules)
	fmt.Fprintf(w, "  stored       %s mentions, %s duplicates skipped, %s drafts, %s people, %s threads\n",
		thousands(float64(r.Stored)), thousands(float64(r.Duplicates)), thousands(float64(r.Drafts)),
		thousands(float64(r.People)), thousands(float64(r.Threads)))
	fmt.Fprintf(w, "  throughput   %s mentions/s (%.2f s; %.0f µs of CPU per mention)\n",
		thousands(r.MentionsPerSec), r.Seconds, r.CPUMicrosPerMsg)
	fmt.Fprintf(w, "  latency      p50 %.1f ms, p99 %.1f ms, max %.1f ms (arrival to stored, drafts queued)\n",
		r.LatencyP50Ms, r.LatencyP99Ms, r.LatencyMaxMs)
	fmt.Fprintf(w, "  memory       %.1f MB peak RSS (Go heap peak %.1f MB)\n", float64(r.PeakRSSBytes)/1e6, float64(r.PeakHeapBytes)/1e6)
	fmt.Fprintf(w, "  database     %s bytes per 1,000 mentions (%.1f MB)\n", thousands(r.DBBytesPer1000), float64(r.DBBytes)/1e6)
	if len(r.Queries) > 0 {
		fmt.Fprintf(w, "  queries      inbox %.2f ms, person history %.2f ms, thread %.2f ms, week digest %.1f ms (slowest of 5)\n",
			r.Queries["inbox"], r.Queries["person_history"], r.Queries["thread"], r.Queries["week_digest"])
	}
	if r.RawMentionsPerSec > 0 {
		fmt.Fprintf(w, "  raw inserts  %s mentions/s (%.2f s): the pipeline runs at %.0f%% of raw SQLite inserts\n",
			thousands(r.RawMentionsPerSec), r.RawSeconds, 100*r.RawRatio)
	}
	m := r.Machine
	fmt.Fprintf(w, "  machine      %d CPUs, load average %s at start, %s at end; %s %s/%s\n", m.CPUs,
		fmtLoad(m.LoadStart), fmtLoad(m.LoadEnd), m.GoVersion, m.GOOS, m.GOARCH)
}

func fmtLoad(l []float64) string {
	if len(l) == 0 {
		return "unknown"
	}
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, " ")
}

// thousands formats v rounded, with commas.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func percentileMs(sorted []int32, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return float64(sorted[max(0, min(i, len(sorted)-1))]) / 1000
}

func loadAverage() []float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return nil
	}
	f := strings.Fields(string(b))
	var out []float64
	for i := 0; i < 3 && i < len(f); i++ {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// heapWatch samples the Go heap while the pipeline runs.
type heapWatch struct {
	done chan struct{}
	peak chan uint64
}

func startHeapWatch() *heapWatch {
	h := &heapWatch{done: make(chan struct{}), peak: make(chan uint64, 1)}
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-h.done:
				h.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapWatch) stop() uint64 {
	close(h.done)
	return <-h.peak
}

func fileSizes(paths ...string) int64 {
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// benchQueries times the reads people wait for on the database just
// filled: the inbox (pending drafts, most urgent first), the history of
// the most active person, the biggest thread, and the last week's digest
// window. Each runs five times; the slowest counts.
func benchQueries(ctx context.Context, st *store.Store) (map[string]float64, error) {
	out := map[string]float64{}
	var person, thread int64
	var latest time.Time
	db, err := sql.Open("sqlite", "file:"+st.Path()+"?mode=ro")
	if err != nil {
		return nil, fmt.Errorf("bench queries: %w", err)
	}
	err = db.QueryRowContext(ctx, `SELECT coalesce((SELECT person_id FROM mentions GROUP BY person_id ORDER BY count(*) DESC LIMIT 1), 0),
		coalesce((SELECT thread_id FROM mentions GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1), 0)`).Scan(&person, &thread)
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("bench queries: %w", err)
	}
	if latest, err = st.LatestMention(ctx); err != nil {
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
			_, err := st.InboxItems(ctx, store.InboxFilter{Limit: 50})
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

// benchRaw inserts the generator's mentions and their authors into a fresh
// database with the same schema, as plainly as SQLite allows: multi-row
// INSERTs of 64 rows, 512 mentions a transaction, an author upsert per
// mention, ids kept in memory, foreign keys off, no classifier, no rules.
func benchRaw(ctx context.Context, path string, gen *benchGen, n int, rate float64) (time.Duration, error) {
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return 0, err
	}
	if err := st.Close(); err != nil {
		return 0, err
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-32768)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const rowsPer, batch = 64, 512
	mentionCols := []string{"id", "platform", "account", "external_id", "person_id", "thread_id", "text", "created_at",
		"received_at", "in_reply_to", "url", "channel", "visibility", "lang", "direct", "sentiment"}
	personCols := []string{"id", "platform", "external_id", "handle", "name", "followers", "first_seen", "last_seen", "mentions"}
	multi := func(head string, cols []string, rows int, tail string) string {
		row := "(" + placeholders(len(cols)) + ")"
		return head + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.Repeat(row+",", rows-1) + row + tail
	}
	const personTail = ` ON CONFLICT (id) DO UPDATE SET handle = excluded.handle, name = excluded.name,
		followers = excluded.followers, last_seen = excluded.last_seen, mentions = people.mentions + 1`
	// Statements are prepared before the first transaction: the pool has
	// one connection, which a transaction holds.
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	for _, t := range []struct {
		head string
		cols []string
		tail string
	}{{"INSERT INTO people", personCols, personTail}, {"INSERT OR IGNORE INTO mentions", mentionCols, ""}} {
		for _, rows := range []int{rowsPer, 1} {
			q := multi(t.head, t.cols, rows, t.tail)
			s, err := db.PrepareContext(ctx, q)
			if err != nil {
				return 0, fmt.Errorf("raw inserts: %w", err)
			}
			stmts[q] = s
		}
	}
	prep := func(q string) (*sql.Stmt, error) { return stmts[q], nil }
	exec := func(tx *sql.Tx, head string, cols []string, tail string, args []any) error {
		width := len(cols)
		for len(args) > 0 {
			rows := min(rowsPer, len(args)/width)
			if rows < rowsPer {
				rows = 1
			}
			s, err := prep(multi(head, cols, rows, tail))
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, s).ExecContext(ctx, args[:rows*width]...); err != nil {
				return err
			}
			args = args[rows*width:]
		}
		return nil
	}
	people := map[[2]string]int64{}
	threads := map[[2]string]int64{}
	var nextMention, nextThread int64
	var mArgs, pArgs []any
	flush := func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if err := exec(tx, "INSERT INTO people", personCols, personTail, pArgs); err != nil {
			return fmt.Errorf("raw people: %w", err)
		}
		if err := exec(tx, "INSERT OR IGNORE INTO mentions", mentionCols, "", mArgs); err != nil {
			return fmt.Errorf("raw mentions: %w", err)
		}
		mArgs, pArgs = mArgs[:0], pArgs[:0]
		return tx.Commit()
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if rate > 0 {
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		}
		m := gen.next()
		m.ReceivedAt = time.Now()
		pk := [2]string{m.Platform, m.Author.ExternalID}
		pid, ok := people[pk]
		if !ok {
			pid = int64(len(people) + 1)
			people[pk] = pid
		}
		tk := [2]string{m.Platform, m.InReplyTo}
		tid, ok := threads[tk]
		if m.InReplyTo == "" || !ok {
			nextThread++
			tid = nextThread
		}
		threads[[2]string{m.Platform, m.ExternalID}] = tid
		nextMention++
		ca := m.CreatedAt.UnixMilli()
		pArgs = append(pArgs, pid, m.Platform, m.Author.ExternalID, m.Author.Handle, m.Author.Name, m.Author.Followers, ca, ca, 1)
		mArgs = append(mArgs, nextMention, m.Platform, m.Account, m.ExternalID, pid, tid, m.Text, ca,
			m.ReceivedAt.UnixMilli(), m.InReplyTo, m.URL, m.Channel, m.Visibility, m.Lang, 0, "neutral")
		if len(mArgs)/len(mentionCols) >= batch {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if len(mArgs) > 0 {
		if err := flush(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func placeholders(n int) string {
	return strings.Repeat("?,", n-1) + "?"
}

// benchBase is the demo sample's posts, the raw material of the
// generator.
type benchPost struct {
	text, lang, platform string
}

func benchBase() ([]benchPost, error) {
	var out []benchPost
	for _, line := range strings.Split(string(replay.Sample()), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := replay.ParseLine([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("demo sample: %w", err)
		}
		out = append(out, benchPost{text: m.Text, lang: m.Lang, platform: m.Platform})
	}
	if len(out) == 0 {
		return nil, errors.New("demo sample is empty")
	}
	return out, nil
}

// benchGen makes realistic synthetic mentions, deterministically from a
// seed: the sample's texts varied in length and emoji; authors drawn from
// a Zipf law (a long tail of people seen once, a few regulars who post a
// lot); 20% replies to a recent post on the same platform, which form
// threads; 1% re-deliveries of a recent post (duplicates).
type benchGen struct {
	r       *rand.Rand
	zipf    *rand.Zipf
	base    []benchPost
	authors int
	seq     int64
	start   time.Time
	// recent posts per platform, a ring, for replies and duplicates.
	recent map[string]*benchRing
}

type benchRing struct {
	ms []parley.Mention
	at int
}

func (r *benchRing) add(m parley.Mention) {
	if len(r.ms) < 1024 {
		r.ms = append(r.ms, m)
		return
	}
	r.ms[r.at] = m
	r.at = (r.at + 1) % len(r.ms)
}

var (
	benchFirst = []string{"Ana", "Bo", "Chidi", "Dara", "Eli", "Fatou", "Gus", "Hana", "Ivo", "Jules", "Kai", "Lena",
		"Mo", "Nia", "Oskar", "Priya", "Quinn", "Rosa", "Sam", "Tomás", "Uma", "Vik", "Wren", "Yusuf", "Zoe"}
	benchEmoji  = []string{"🛹", "🔥", "😍", "🙏", "😡", "💀", "👏", "🤙", "😭", "✨", "🌊", "👀", "💯", "🥲"}
	benchExtras = []string{"anyone else?", "just saying", "10/10 would skate again", "#skateboarding", "#sk8",
		"lol", "smh", "thanks in advance", "pls help", "update: still nothing", "cc @tidewater",
		"best purchase this year", "never again", "worth every cent", "is this normal?", "(sorry for the rant)",
		"https://example.com/pics/123", "DM'd you", "ordered on the 3rd", "love this community"}
)

func newBenchGen(base []benchPost, n int, seed int64) *benchGen {
	r := rand.New(rand.NewSource(seed))
	authors := max(50, n/3)
	return &benchGen{
		r:       r,
		zipf:    rand.NewZipf(r, 1.1, 10, uint64(authors-1)),
		base:    base,
		authors: authors,
		start:   time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC),
		recent:  map[string]*benchRing{parley.PlatformMastodon: {}, parley.PlatformDiscord: {}},
	}
}

// next returns the next mention.
func (g *benchGen) next() parley.Mention {
	r := g.r
	// 1%: a post delivered again (a reconnect, an overlapping poll).
	if g.seq > 0 && r.Intn(100) == 0 {
		ring := g.recent[parley.PlatformMastodon]
		if r.Intn(2) == 0 || len(ring.ms) == 0 {
			ring = g.recent[parley.PlatformDiscord]
		}
		if len(ring.ms) > 0 {
			return ring.ms[r.Intn(len(ring.ms))]
		}
	}
	g.seq++
	k := int(g.zipf.Uint64())
	// A person belongs to one platform: three in five are on Mastodon.
	platform := parley.PlatformMastodon
	if k%5 >= 3 {
		platform = parley.PlatformDiscord
	}
	post := g.base[r.Intn(len(g.base))]
	m := parley.Mention{
		Platform:   platform,
		ExternalID: strconv.FormatInt(110_000_000_000_000_000+g.seq*7919, 10),
		Author:     benchAuthor(platform, k),
		Text:       g.vary(post.text),
		CreatedAt:  g.start.Add(time.Duration(g.seq)*20*time.Second + time.Duration(r.Intn(20_000))*time.Millisecond),
	}
	ring := g.recent[platform]
	// 20%: a reply to a recent post on the same platform.
	if r.Intn(5) == 0 && len(ring.ms) > 0 {
		parent := ring.ms[len(ring.ms)-1-min(len(ring.ms)-1, int(r.ExpFloat64()*20))]
		m.InReplyTo = parent.ExternalID
		m.Channel = parent.Channel
		if r.Intn(2) == 0 {
			m.Text = "@" + parent.Author.Handle + " " + m.Text
		}
	}
	switch platform {
	case parley.PlatformMastodon:
		m.Visibility = "public"
		m.Lang = post.lang
		if m.Lang == "" {
			m.Lang = "en"
		}
		m.URL = "https://skate.social/@" + m.Author.Handle + "/" + m.ExternalID
	default:
		if m.Channel == "" {
			m.Channel = []string{"#general", "#support", "#show-off"}[r.Intn(3)]
		}
		m.URL = "https://discord.com/channels/1209338410067415040/1453175341059667266/" + m.ExternalID
	}
	ring.add(m)
	return m
}

// vary changes a sample text the way real posts differ: longer, shorter,
// two thoughts in one post, more or fewer emoji.
func (g *benchGen) vary(text string) string {
	r := g.r
	switch n := r.Intn(10); {
	case n < 4: // as written
	case n < 6:
		text += " " + benchExtras[r.Intn(len(benchExtras))]
	case n < 7:
		text += " " + g.base[r.Intn(len(g.base))].text
	case n < 8:
		if words := strings.Fields(text); len(words) > 3 {
			text = strings.Join(words[:2+r.Intn(len(words)-2)], " ")
		}
	case n < 9:
		text = benchEmoji[r.Intn(len(benchEmoji))] + " " + text
	default:
		text = text + " " + g.base[r.Intn(len(g.base))].text + " " + benchExtras[r.Intn(len(benchExtras))]
	}
	if r.Intn(4) == 0 {
		e := benchEmoji[r.Intn(len(benchEmoji))]
		text += " " + strings.Repeat(e, 1+r.Intn(3))
	}
	return text
}

// benchAuthor is person k of a platform, always the same.
func benchAuthor(platform string, k int) parley.Person {
	h := uint64(k)*0x9E3779B97F4A7C15 + 1
	h ^= h >> 31
	name := benchFirst[h%uint64(len(benchFirst))]
	// Followers spread over orders of magnitude; a few have tens of
	// thousands.
	followers := int(math.Exp(float64(h>>20%1000)/1000*11)) - 1
	p := parley.Person{
		ExternalID: strconv.Itoa(100_000 + k),
		Name:       name,
		Followers:  followers,
	}
	if platform == parley.PlatformMastodon {
		p.Handle = strings.ToLower(name) + strconv.Itoa(k) + "@skate.social"
	} else {
		p.Handle = strings.ToLower(name) + strconv.Itoa(k)
		p.Followers = 0
	}
	return p
}
