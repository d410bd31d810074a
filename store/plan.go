package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/parleybot/parley"
)

// Planned ingest (the pipeline's planningStore, bot/pipeline.go). A batch is worked out (read,
// placed, decided) on a read transaction while the batch before it is
// still being written, then written in a transaction of its own. The plan
// takes what the batch before it will have written from that batch's plan
// (its overlay) and the rest from the database, so it holds exactly when:
//
//   - the plan before it was written as planned, and was the last ingest
//     commit (or the plan read the database only, after the last ingest
//     commit), and
//   - nobody else committed between the last ingest commit and this one's
//     start: PRAGMA data_version, read at the start of each ingest
//     transaction, is unchanged (nobody can commit while an ingest
//     transaction holds the write lock, and the plan's reads start after
//     the plan before it took it).
//
// A plan that does not hold is worked out again inside its transaction,
// as IngestBatchConcurrent does.

// Plan is a batch worked out ahead of its write.
type Plan struct {
	batch   []*parley.Mention
	decide  parley.DecideFunc
	opts    parley.DecideOptions
	in      *ingest // the worked-out batch; nil when nothing could be planned
	res     parley.IngestResult
	assumes uint64 // the number of ingest commits the plan builds on
	base    *Plan  // the plan whose overlay it used; nil if it read the database only

	began     chan struct{} // closed once the first CommitPlan holds the write lock
	valid     bool          // set before began closes: the plan holds
	beginOnce sync.Once
	settled   chan struct{} // closed once the first CommitPlan ended
	settle    sync.Once
	held      atomic.Bool // written as planned
}

// newPlan is a plan of batch with nothing worked out yet: committing it
// ingests the batch in the transaction (IngestBatch, IngestBatchConcurrent).
func newPlan(batch []*parley.Mention, decide parley.DecideFunc, o parley.DecideOptions) *Plan {
	o.ExpectDrafts = o.ExpectDrafts && o.Workers > 1
	return &Plan{batch: batch, decide: decide, opts: o, began: make(chan struct{}), settled: make(chan struct{})}
}

// Batch implements parley.IngestPlan.
func (p *Plan) Batch() []*parley.Mention { return p.batch }

// PlanBatch does what IngestBatch does before writing (skip the
// duplicates, place people and threads, give ids, call decide, which must
// be safe for concurrent use) without writing, on top of prev: the plan
// made just before this one, nil for none. prev must be (or be about to
// be) given to CommitPlan: PlanBatch waits until its commit has started.
// Errors: the database's, and ctx's.
func (s *Store) PlanBatch(ctx context.Context, batch []*parley.Mention, decide parley.DecideFunc, o parley.DecideOptions,
	prev parley.IngestPlan) (parley.IngestPlan, error) {
	p := newPlan(batch, decide, concurrent(o))
	var overlay *ingest
	pp, _ := prev.(*Plan)
	if pp != nil {
		select {
		case <-pp.began:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if pp.valid && pp.in != nil {
			overlay, p.assumes, p.base = pp.in, pp.assumes+1, pp
		} else {
			select {
			case <-pp.settled:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	if overlay == nil {
		s.ingestMu.Lock()
		seq, ok := s.ingestSeq, s.haveIngest
		s.ingestMu.Unlock()
		if !ok {
			// No ingest commit yet to check the plan against: CommitPlan
			// works the batch out in its transaction.
			return p, nil
		}
		p.assumes = seq
	}
	if len(batch) == 0 {
		return p, nil
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, dbError("plan ingest", err)
	}
	in := &ingest{ctx: ctx, tx: tx, now: s.now().UTC(), s: s, workers: p.opts.Workers, expect: p.opts.ExpectDrafts,
		opts: p.opts, overlay: overlay, reader: true}
	p.res, err = in.work(batch, decide, false)
	tx.Rollback()
	in.overlay, in.tx = nil, nil // the plan before is not needed any more
	s.cacheStmts(ctx, in.uncached, true)
	in.uncached = nil
	if err != nil {
		return nil, dbError("plan ingest", err)
	}
	p.in = in
	return p, nil
}

// CommitPlan writes a plan in one transaction and returns what
// IngestBatch would have. Plans must be committed in the order they were
// made. A plan that no longer holds (someone else wrote since it was
// made, or the plan before it was not written as planned) is worked out
// again inside the transaction, so what is stored is always what
// IngestBatch would store. It may be called again after an error.
func (s *Store) CommitPlan(ctx context.Context, plan parley.IngestPlan) (res parley.IngestResult, err error) {
	p, ok := plan.(*Plan)
	if !ok {
		return res, parley.Errorf(parley.EINVALID, "commit plan: %T is not this store's plan", plan)
	}
	return s.commitPlan(ctx, p)
}

// commitPlan writes p as planned when it holds, else works its batch out
// in the transaction: the one ingest transaction, on the ingest connection
// (connIngest: no foreign-key checks).
func (s *Store) commitPlan(ctx context.Context, p *Plan) (res parley.IngestResult, err error) {
	defer p.beginOnce.Do(func() { close(p.began) }) // on an early error
	defer p.settle.Do(func() { close(p.settled) })
	if len(p.batch) == 0 {
		return res, nil
	}
	tx, err := s.idb.BeginTx(ctx, nil)
	if err != nil {
		return res, dbError("begin ingest", err)
	}
	defer tx.Rollback()
	in := &ingest{ctx: ctx, tx: tx, now: s.now().UTC(), s: s, workers: p.opts.Workers, expect: p.opts.ExpectDrafts, opts: p.opts}
	dv, err := in.dataVersion()
	if err != nil {
		return res, dbError("ingest", err)
	}
	s.ingestMu.Lock()
	valid := p.in != nil && s.haveIngest && s.ingestSeq == p.assumes && s.ingestDV == dv &&
		(p.base == nil || s.lastPlan == p.base)
	s.ingestMu.Unlock()
	p.beginOnce.Do(func() {
		p.valid = valid
		close(p.began)
	})
	if valid {
		w := p.in
		w.ctx, w.tx, w.reader = ctx, tx, false
		if err = w.writePeopleThreads(); err == nil {
			err = w.writeMentionsDrafts()
		}
		in.uncached, w.uncached = w.uncached, nil
		res = p.res
	} else {
		p.unplace()
		res, err = in.run(p.batch, p.decide)
	}
	if err == nil {
		var written *Plan
		if valid {
			written = p
		}
		err = s.commitIngest(tx, dv, written)
	} else {
		err = dbError("ingest", err)
	}
	tx.Rollback()
	// Statements first prepared in the transaction are cached once it has
	// given the ingest connection back.
	s.cacheStmts(ctx, in.uncached, false)
	if err != nil {
		return parley.IngestResult{}, err
	}
	// Written: the plan before is not needed any more (a chain of them
	// would keep every batch ever planned). Until then a retry checks
	// against it.
	p.base = nil
	p.held.Store(valid)
	return res, nil
}

// unplace puts the batch's mentions back as they were before planning, for
// working them out again.
func (p *Plan) unplace() {
	if p.in == nil {
		return
	}
	for i := range p.in.placed {
		pl := &p.in.placed[i]
		m := pl.m
		if p.decide != nil {
			m.Tags, m.Priority, m.Rules, m.Ignored = pl.tags, pl.priority, pl.rules, pl.ignored
		}
		m.ID, m.PersonID, m.ThreadID, m.Author.ID = 0, 0, 0, 0
	}
	p.in = nil
}

// Held reports whether CommitPlan wrote the plan as planned (false before
// it succeeded, or when it worked the batch out again).
func (p *Plan) Held() bool { return p.held.Load() }
