package storelogic

import (
	"context"
	"sync"
)

// Feed fans one watcher's "the database changed" out to the readers of a
// store's Changes (parley.ChangeFeed). The watcher (each store has its own
// way to learn of commits) is started on the first reader and runs until
// Stop.
type Feed struct {
	mu      sync.Mutex
	subs    map[chan struct{}]struct{}
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// Subscribe returns a reader's channel, closed when ctx ends or the feed
// stops. The first reader starts watch, on a context Stop cancels; watch
// calls Broadcast for each change and returns when its context ends.
func (f *Feed) Subscribe(ctx context.Context, watch func(ctx context.Context)) <-chan struct{} {
	ch := make(chan struct{}, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(ch)
		return ch
	}
	if f.subs == nil {
		f.subs = map[chan struct{}]struct{}{}
	}
	f.subs[ch] = struct{}{}
	if !f.started {
		f.started = true
		var wctx context.Context
		wctx, f.cancel = context.WithCancel(context.Background())
		f.done = make(chan struct{})
		go func() {
			defer close(f.done)
			watch(wctx)
		}()
	}
	context.AfterFunc(ctx, func() { f.remove(ch) })
	return ch
}

// remove closes and forgets one reader's channel.
func (f *Feed) remove(ch chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.subs[ch]; ok {
		delete(f.subs, ch)
		close(ch)
	}
}

// Broadcast tells every reader, without waiting on any: a reader that has
// not taken the last value yet gets one value for both.
func (f *Feed) Broadcast() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Stop ends the watcher, waits for it, and closes every reader's channel;
// later readers get a closed channel.
func (f *Feed) Stop() {
	f.mu.Lock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
	started, cancel, done := f.started, f.cancel, f.done
	f.mu.Unlock()
	if started {
		cancel()
		<-done
	}
}
