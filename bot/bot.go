package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Bot owns the long-running parts of a Parley process: each is started
// with Go (a loop that runs until its context ends) or registered with
// OnStop (a part with its own Close), and Close stops them in the reverse
// order, each within the deadline, so what feeds a part stops before the
// part does (sources before the pipeline, the pipeline before the outbox).
// A part that does not stop in time is reported, never waited for past
// the deadline.
type Bot struct {
	mu     sync.Mutex
	parts  []part
	closed bool
}

type part struct {
	name string
	stop func(ctx context.Context) error
}

// New returns a Bot with nothing running.
func New() *Bot { return &Bot{} }

// Go runs run on its own goroutine with a context that Close cancels when
// it reaches this part. run should return once its context ends; an error
// it returns (other than the context's own) is reported by Close, so run
// logs it when it happens if people need to know at once.
func (b *Bot) Go(ctx context.Context, name string, run func(ctx context.Context) error) {
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = run(rctx)
	}()
	b.OnStop(name, func(sctx context.Context) error {
		cancel()
		select {
		case <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("%s: %w", name, err)
			}
			return nil
		case <-sctx.Done():
			return fmt.Errorf("%s did not stop in time: %w", name, sctx.Err())
		}
	})
}

// OnStop registers stop to be called by Close, before the parts
// registered earlier.
func (b *Bot) OnStop(name string, stop func(ctx context.Context) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.parts = append(b.parts, part{name, stop})
}

// Close stops every part in the reverse order of registering, each
// within ctx, and returns their errors joined. A part whose stop did not
// return by ctx's end is reported and the others are still stopped (with
// an ended context, so each returns at once). Close is idempotent.
func (b *Bot) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	parts := b.parts
	b.mu.Unlock()
	var errs []error
	for i := len(parts) - 1; i >= 0; i-- {
		if err := parts[i].stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
