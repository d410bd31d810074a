// Package bot runs Parley: the pipeline that takes mentions from connectors
// to the store (normalize, classify, evaluate rules, persist), and the
// outbox that posts approved drafts. It owns every goroutine it starts and
// shuts them down in order without losing accepted work.
package bot

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/backoff"
	"github.com/parleybot/parley/rules"
)

// PipelineOptions tune a Pipeline. The zero value is sensible.
type PipelineOptions struct {
	Logger *slog.Logger
	// Decide evaluates the rules for a mention (rules.Set.Decide); nil
	// stores mentions without tags or drafts.
	Decide parley.DecideFunc
	// ConcurrentDecide says Decide is safe for concurrent use (as
	// rules.Set.Decide is). When the store offers it (store.Store's
	// IngestBatchConcurrent), the rules of a batch are then evaluated on
	// Workers goroutines rather than one after the other inside the
	// writer's transaction, with exactly the same results.
	ConcurrentDecide bool
	// DecideOptions says which History counts Decide ignores
	// (IgnoresPendingDrafts, IgnoresRepliesInThread, from rules.Set.Reads),
	// so fewer mentions are decided twice; the pipeline sets Workers and
	// ExpectDrafts itself.
	DecideOptions parley.DecideOptions
	// Prepare, when set, is called on each mention once it is classified,
	// on the classifying goroutines (rules.Set.Prepare): work Decide would
	// otherwise do inside the single writer's transaction. It must be
	// safe for concurrent use.
	Prepare func(*parley.Mention)
	// Workers classify in parallel; default GOMAXPROCS.
	Workers int
	// BatchSize is the most mentions written in one transaction; default
	// 2048. A batch holds what is ready when the writer is free, so at low
	// load batches are small and latency stays low; under a backlog large
	// batches spread SQLite's per-transaction costs.
	BatchSize int
	// ChunkSize is how many mentions a worker classifies at a time; default 64.
	ChunkSize int
	// Linger is how long a partly filled chunk waits for more mentions
	// before it is processed anyway; default 2ms. It bounds the latency
	// added at low load.
	Linger time.Duration
	// MaxAttempts bounds the tries to write a batch when the database
	// fails (disk full, locked). 0 retries until Close; a batch still not
	// written then is reported by Close.
	MaxAttempts int
	// RetryDelay is the first wait after a failed write; it doubles up to
	// 30s. Default 500ms.
	RetryDelay time.Duration
	// OnStored, when set, is called from the writer after each batch is
	// committed with the stored mentions and the result.
	OnStored func(stored []*parley.Mention, res parley.IngestResult)
	// Blocked, when set, is asked about every submitted mention; one it
	// reports is dropped, never stored (an account erased with a
	// tombstone: Tombstones.Blocked). It must be fast and safe for
	// concurrent use.
	Blocked func(m *parley.Mention) bool
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// WithRules returns opts set up to run the rule set rs: its Decide
// (evaluated concurrently: rules.Set.Decide is safe for that), its
// Prepare on the classifying goroutines, and the History counts it never
// reads (so fewer mentions are decided twice).
func (opts PipelineOptions) WithRules(rs *rules.Set, logger *slog.Logger) PipelineOptions {
	opts.Decide = rs.Decide(logger)
	opts.ConcurrentDecide = true
	opts.Prepare = rs.Prepare
	opts.DecideOptions = rs.DecideOptions()
	return opts
}

// Pipeline takes mentions from Submit through normalization, sentiment,
// rules and into the store, in order, in batches. Classification runs on
// several goroutines; one writer commits batches, so the database sees one
// transaction per batch, not per mention.
type Pipeline struct {
	store      parley.MentionStore
	classifier parley.Classifier
	opts       PipelineOptions
	logger     *slog.Logger

	mu       sync.RWMutex // guards closed against Submit
	closed   bool
	closing  chan struct{} // closed first by Close: blocked Submits give up
	in       chan item
	work     chan *chunk
	order    chan *chunk
	done     chan struct{} // closed when the writer has finished
	quit     chan struct{} // closed by Close: stop retrying forever
	quitOnce sync.Once
	closeOne sync.Once
	// writeCtx is what store calls run under; it ends with quit, so a
	// write in flight when Close's deadline passes is cut off.
	writeCtx  context.Context
	endWrites context.CancelFunc

	// draftRate is the share of recent stored mentions that got a draft
	// (float64 bits; the writer sets it, the planner reads it).
	draftRate atomic.Uint64

	submitted, stored, duplicates, drafts, lost atomic.Int64
	errMu                                       sync.Mutex
	err                                         error
}

// item is what Submit and Checkpoint queue, in order: a mention or a
// cursor to save once the mentions before it are stored.
type item struct {
	m    *parley.Mention
	save *cursorSave
}

type cursorSave struct{ key, value string }

// chunk is mentions classified together; saves are the cursors queued
// after all of them (and before any later mention).
type chunk struct {
	ms    []*parley.Mention
	saves []cursorSave
	done  chan struct{}
}

// NewPipeline builds a pipeline and starts its goroutines. Call Close to
// stop it.
func NewPipeline(store parley.MentionStore, classifier parley.Classifier, opts PipelineOptions) *Pipeline {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2048
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 64
	}
	if opts.Linger <= 0 {
		opts.Linger = 2 * time.Millisecond
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 500 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	// A batch's worth of chunks may wait for the writer (besides the batch
	// being planned and the one being written): enough to keep it busy,
	// little memory.
	queue := max(2, opts.BatchSize/opts.ChunkSize)
	p := &Pipeline{
		store:      store,
		classifier: classifier,
		opts:       opts,
		logger:     opts.Logger,
		in:         make(chan item, opts.ChunkSize*2),
		work:       make(chan *chunk, queue),
		order:      make(chan *chunk, queue),
		done:       make(chan struct{}),
		quit:       make(chan struct{}),
		closing:    make(chan struct{}),
	}
	p.writeCtx, p.endWrites = context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			p.classifyLoop()
		}()
	}
	go func() {
		p.chunkLoop()
		close(p.work)
		close(p.order)
		workers.Wait()
	}()
	ps, planning := store.(planningStore)
	if planning && opts.ConcurrentDecide && opts.Decide != nil {
		// Two stages: the next batch is read and decided while the one
		// before is written.
		plans := make(chan planned, 1)
		go func() {
			defer close(plans)
			p.planLoop(ps, plans)
		}()
		go func() {
			defer close(p.done)
			for pl := range plans {
				p.commitPlan(ps, pl)
			}
		}()
		return p
	}
	go func() {
		defer close(p.done)
		p.writeLoop()
	}()
	return p
}

// Submit implements parley.Sink. It copies m, so the caller may reuse it.
// Errors: ctx.Err() when ctx ends first; EUNAVAILABLE after Close, or
// when Close starts while Submit waits for room.
func (p *Pipeline) Submit(ctx context.Context, m parley.Mention) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errShuttingDown
	}
	if p.opts.Blocked != nil && p.opts.Blocked(&m) {
		return nil
	}
	if m.ReceivedAt.IsZero() {
		m.ReceivedAt = p.opts.Now()
	}
	select {
	case p.in <- item{m: &m}:
		p.submitted.Add(1)
		return nil
	case <-p.closing:
		return errShuttingDown
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Checkpoint implements parley.Checkpointer: the writer saves value under
// key once every mention submitted before is stored, and never after a
// batch was given up (those mentions must be read again).
func (p *Pipeline) Checkpoint(ctx context.Context, key, value string) error {
	if _, ok := p.store.(parley.CursorStore); !ok {
		return parley.Errorf(parley.EINVALID, "the pipeline's store keeps no cursors")
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return errShuttingDown
	}
	select {
	case p.in <- item{save: &cursorSave{key, value}}:
		return nil
	case <-p.closing:
		return errShuttingDown
	case <-ctx.Done():
		return ctx.Err()
	}
}

var errShuttingDown = parley.Errorf(parley.EUNAVAILABLE, "the pipeline is shutting down")

// writerGrace bounds how long Close waits for the writer once ctx has
// ended and the store calls in flight were cancelled.
const writerGrace = 2 * time.Second

// Close stops accepting mentions, stores every mention already accepted and
// waits for the writer, or for ctx to end. It returns an error if some
// accepted mentions could not be stored, or ctx ended first. Once ctx ends
// the writer's store calls are cancelled and Close returns within
// writerGrace, even if the store does not heed the cancellation.
func (p *Pipeline) Close(ctx context.Context) error {
	p.closeOne.Do(func() { close(p.closing) }) // Submits waiting for room let go of mu
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.in)
	}
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		p.quitOnce.Do(func() { close(p.quit) })
		p.endWrites()
		select {
		case <-p.done:
		case <-time.After(writerGrace):
			return fmt.Errorf("pipeline shutdown cut short: the writer did not stop within %s of the deadline (%d mentions not stored): %w",
				writerGrace, p.submitted.Load()-p.stored.Load()-p.duplicates.Load(), ctx.Err())
		}
		return fmt.Errorf("pipeline shutdown cut short (%d mentions not stored): %w", p.lost.Load(), ctx.Err())
	}
	p.endWrites()
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// Err returns the error that made the pipeline give up storing some
// mentions (see PipelineOptions.MaxAttempts), or nil while none was lost.
// A source can stop reading when it is set.
func (p *Pipeline) Err() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// PipelineStats counts what a pipeline did.
type PipelineStats struct {
	Submitted, Stored, Duplicates, Drafts, Lost int64
}

// Stats returns the counts so far; safe to call at any time.
func (p *Pipeline) Stats() PipelineStats {
	return PipelineStats{
		Submitted:  p.submitted.Load(),
		Stored:     p.stored.Load(),
		Duplicates: p.duplicates.Load(),
		Drafts:     p.drafts.Load(),
		Lost:       p.lost.Load(),
	}
}

// chunkLoop groups incoming mentions into chunks, in arrival order.
func (p *Pipeline) chunkLoop() {
	var cur []*parley.Mention
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	emit := func(saves []cursorSave) {
		if len(cur) == 0 && len(saves) == 0 {
			return
		}
		c := &chunk{ms: cur, saves: saves, done: make(chan struct{})}
		cur = make([]*parley.Mention, 0, p.opts.ChunkSize)
		p.order <- c // the writer's order first, so it never waits on a chunk nobody has
		p.work <- c
	}
	for {
		var (
			it item
			ok bool
		)
		if len(cur) == 0 {
			it, ok = <-p.in
		} else {
			select {
			case it, ok = <-p.in:
			case <-timer.C:
				emit(nil)
				continue
			}
		}
		if !ok {
			emit(nil)
			return
		}
		if it.save != nil {
			// The chunk ends here, so the save follows its mentions.
			timer.Stop()
			emit([]cursorSave{*it.save})
			continue
		}
		m := it.m
		cur = append(cur, m)
		if len(cur) == 1 {
			timer.Reset(p.opts.Linger)
		}
		if len(cur) >= p.opts.ChunkSize {
			timer.Stop()
			emit(nil)
		}
	}
}

// LangClassifier is a classifier that can skip detecting the language of
// a text when the platform already names it (Mastodon posts carry their
// language). The pipeline uses it when the classifier has it and the
// mention's Lang is set.
type LangClassifier interface {
	// ClassifyLang classifies text written in lang (an ISO 639-1 code).
	ClassifyLang(text, lang string) parley.Sentiment
}

func (p *Pipeline) classifyLoop() {
	lc, _ := p.classifier.(LangClassifier)
	dc, _ := p.classifier.(LangDetector)
	for c := range p.work {
		for _, m := range c.ms {
			m.Text = Normalize(m.Text)
			switch {
			case lc != nil && m.Lang != "":
				m.Sentiment = lc.ClassifyLang(m.Text, m.Lang)
			case dc != nil:
				// The language the classifier detected is stored, so
				// rules can match on it.
				var lang string
				m.Sentiment, lang = dc.ClassifyWithLang(m.Text)
				if m.Lang == "" {
					m.Lang = lang
				}
			default:
				m.Sentiment = p.classifier.Classify(m.Text)
			}
			if p.opts.Prepare != nil {
				p.opts.Prepare(m)
			}
		}
		close(c.done)
	}
}

// LangDetector is a classifier that also tells the language it detected
// (rules/sentiment's classifiers).
type LangDetector interface {
	ClassifyWithLang(text string) (parley.Sentiment, string)
}

// planningStore is a store that splits a concurrent IngestBatch in
// two, so that a pipeline decides the next batch while the store writes
// the previous one (store.Store is one).
type planningStore interface {
	// PlanBatch does what IngestBatch does before writing (skip the
	// duplicates, place people and threads, give ids, call decide, which
	// must be safe for concurrent use) without writing, on top of prev: the
	// plan made just before this one, nil for none. prev must be (or be
	// about to be) given to CommitPlan: PlanBatch waits until its commit
	// has started. Errors: the database's, and ctx's.
	PlanBatch(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc, o parley.DecideOptions,
		prev parley.IngestPlan) (parley.IngestPlan, error)
	// CommitPlan writes a plan in one transaction and returns what
	// IngestBatch would have. Plans must be committed in the order they
	// were made. A plan that no longer holds (someone else wrote since it
	// was made, or the plan before it was not written as planned) is
	// worked out again inside the transaction, so what is stored is always
	// what IngestBatch would store. It may be called again after an error.
	CommitPlan(ctx context.Context, p parley.IngestPlan) (parley.IngestResult, error)
}

// concurrentIngester is a store that can evaluate a batch's rules on
// several goroutines (store.Store).
type concurrentIngester interface {
	IngestBatchConcurrent(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc,
		o parley.DecideOptions) (parley.IngestResult, error)
}

// decideOptions are the options of a concurrent decide for the next batch.
func (p *Pipeline) decideOptions() parley.DecideOptions {
	o := p.opts.DecideOptions
	// Most mentions got a draft lately: guess so for the batch's earlier
	// mentions, and fewer are decided twice.
	o.Workers, o.ExpectDrafts = p.opts.Workers, math.Float64frombits(p.draftRate.Load()) > 0.5
	return o
}

func (p *Pipeline) ingest(batch []*parley.Mention) (parley.IngestResult, error) {
	if ci, ok := p.store.(concurrentIngester); ok && p.opts.ConcurrentDecide && p.opts.Decide != nil {
		return ci.IngestBatchConcurrent(p.writeCtx, batch, p.opts.Decide, p.decideOptions())
	}
	return p.store.IngestBatch(p.writeCtx, batch, p.opts.Decide)
}

// batches calls yield with the chunks in order, merging the chunks that
// are ready into one batch of at most BatchSize mentions, a fresh slice
// each time, with the cursor saves queued among them (each save comes
// after mentions of its own chunk and before later chunks' mentions, so
// saving them once the whole batch is stored is safe).
func (p *Pipeline) batches(yield func([]*parley.Mention, []cursorSave)) {
	for c := range p.order {
		<-c.done
		batch := append(make([]*parley.Mention, 0, p.opts.BatchSize), c.ms...)
		saves := c.saves
	more:
		for len(batch) < p.opts.BatchSize {
			select {
			case next, ok := <-p.order:
				if !ok {
					break more
				}
				<-next.done
				batch = append(batch, next.ms...)
				saves = append(saves, next.saves...)
			default:
				break more
			}
		}
		yield(batch, saves)
	}
}

// writeLoop commits the batches one after the other.
func (p *Pipeline) writeLoop() {
	p.batches(func(batch []*parley.Mention, saves []cursorSave) {
		if p.write(batch, func() (parley.IngestResult, error) { return p.ingest(batch) }) {
			p.saveCursors(saves)
		}
	})
}

// planned is a batch and its plan; a nil plan is ingested directly.
type planned struct {
	batch []*parley.Mention
	plan  parley.IngestPlan
	saves []cursorSave
}

// planLoop plans each batch on top of the one before while the writer
// commits that one.
func (p *Pipeline) planLoop(st planningStore, plans chan<- planned) {
	var prev parley.IngestPlan
	p.batches(func(batch []*parley.Mention, saves []cursorSave) {
		if len(batch) == 0 {
			plans <- planned{saves: saves} // nothing to plan; prev stays the last plan
			return
		}
		plan, err := st.PlanBatch(p.writeCtx, batch, p.opts.Decide, p.decideOptions(), prev)
		if err != nil {
			// The writer ingests it directly, with its retries.
			p.logger.Warn("planning a batch failed; storing it directly", "mentions", len(batch), "err", err)
			plan = nil
		}
		prev = plan
		plans <- planned{batch, plan, saves}
	})
}

// commitPlan writes one planned batch, retrying when the database fails,
// then the cursors saved behind it.
func (p *Pipeline) commitPlan(st planningStore, pl planned) {
	try := func() (parley.IngestResult, error) { return st.CommitPlan(p.writeCtx, pl.plan) }
	if pl.plan == nil {
		try = func() (parley.IngestResult, error) { return p.ingest(pl.batch) }
	}
	if p.write(pl.batch, try) {
		p.saveCursors(pl.saves)
	}
}

// saveCursors saves the sources' cursors queued behind a stored batch,
// the last value of each key, unless a batch was given up since the
// pipeline started (its mentions must be read again after a restart). A
// save that fails is logged: a later one, or the restart reading a little
// again, makes up for it.
func (p *Pipeline) saveCursors(saves []cursorSave) {
	if len(saves) == 0 || p.lost.Load() > 0 {
		return
	}
	cs := p.store.(parley.CursorStore) // Checkpoint refuses stores without cursors
	last := make(map[string]int, len(saves))
	for i, sv := range saves {
		last[sv.key] = i
	}
	for i, sv := range saves {
		if last[sv.key] != i {
			continue
		}
		if err := cs.SetCursor(p.writeCtx, sv.key, sv.value); err != nil {
			p.logger.Warn("saving a source's cursor failed; a restart reads from the one saved before", "key", sv.key, "err", err)
		}
	}
}

// write commits one batch with try, retrying when the database fails; it
// reports whether the batch was stored (an empty batch is, at once).
func (p *Pipeline) write(batch []*parley.Mention, try func() (parley.IngestResult, error)) bool {
	if len(batch) == 0 {
		return true
	}
	retry := backoff.Policy{Base: p.opts.RetryDelay, Max: 30 * time.Second}
	for attempt := 1; ; attempt++ {
		res, err := try()
		if err == nil {
			p.stored.Add(int64(res.Stored))
			if res.Stored > 0 {
				rate := math.Float64frombits(p.draftRate.Load())
				p.draftRate.Store(math.Float64bits(0.7*rate + 0.3*float64(res.Drafts)/float64(res.Stored)))
			}
			p.duplicates.Add(int64(res.Duplicates))
			p.drafts.Add(int64(res.Drafts))
			if p.opts.OnStored != nil {
				stored := make([]*parley.Mention, 0, res.Stored)
				for _, m := range batch {
					if m.ID != 0 {
						stored = append(stored, m)
					}
				}
				p.opts.OnStored(stored, res)
			}
			return true
		}
		// Once a batch was given up, the fault (a full disk, say) is
		// likely still there: later batches get one try each rather than
		// the whole backoff, so the caller learns of it promptly.
		giveUp := p.opts.MaxAttempts > 0 && (attempt >= p.opts.MaxAttempts || p.lost.Load() > 0)
		select {
		case <-p.quit:
			giveUp = true
		default:
		}
		if giveUp {
			p.lost.Add(int64(len(batch)))
			p.setErr(fmt.Errorf("%d mentions not stored: %w", p.lost.Load(), err))
			p.logger.Error("batch not stored", "mentions", len(batch), "attempts", attempt, "err", err)
			return false
		}
		delay := retry.Delay(attempt - 1)
		p.logger.Warn("storing a batch failed; retrying", "mentions", len(batch), "attempt", attempt,
			"retry_in", delay.String(), "err", err)
		select {
		case <-time.After(delay):
		case <-p.quit:
		}
	}
}

func (p *Pipeline) setErr(err error) {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	p.err = err
}

// Normalize cleans a post's text for storage and classification: invalid
// UTF-8 becomes U+FFFD, line ends become \n, control characters other
// than newline and tab are dropped, and surrounding space is trimmed.
func Normalize(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\r' || (unicode.IsControl(r) && r != '\n' && r != '\t') {
			clean = false
			break
		}
		i += size
	}
	if !clean {
		s = strings.ToValidUTF8(s, "\uFFFD")
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.Map(func(r rune) rune {
			switch {
			case r == '\r':
				return '\n'
			case r == '\n' || r == '\t':
				return r
			case unicode.IsControl(r):
				return -1
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}
