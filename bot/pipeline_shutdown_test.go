package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/store/storetest"
)

// stuckStore blocks in IngestBatch: until its context ends when it heeds
// it, else until release is closed.
type stuckStore struct {
	parley.MentionStore
	heed     bool
	entered  chan struct{}
	release  chan struct{}
	canceled chan struct{}
}

func newStuckStore(s parley.MentionStore, heed bool) *stuckStore {
	return &stuckStore{MentionStore: s, heed: heed, entered: make(chan struct{}, 1000),
		release: make(chan struct{}), canceled: make(chan struct{}, 1000)}
}

func (s *stuckStore) IngestBatch(ctx context.Context, ms []*parley.Mention, d parley.DecideFunc) (parley.IngestResult, error) {
	s.entered <- struct{}{}
	if s.heed {
		select {
		case <-ctx.Done():
			s.canceled <- struct{}{}
			return parley.IngestResult{}, ctx.Err()
		case <-s.release:
		}
	} else {
		<-s.release
	}
	return s.MentionStore.IngestBatch(ctx, ms, d)
}

// closeWithin runs Close with a deadline of after and returns its error,
// failing the test if Close has not returned long after (a liveness
// check: Close must not hang, however slow the machine).
func closeWithin(t *testing.T, p *bot.Pipeline, after time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), after)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- p.Close(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return after its deadline")
		return nil
	}
}

// The writer's store calls run under a context Close cancels once its
// deadline passes.
func TestPipelineCloseCancelsTheWriteInFlight(t *testing.T) {
	st := newStuckStore(storetest.Open(t), true)
	defer close(st.release)
	p := bot.NewPipeline(st, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond})
	require.NoError(t, p.Submit(context.Background(), mention(1, "ana", "hi")))
	<-st.entered
	err := closeWithin(t, p, 20*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shutdown cut short")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-st.canceled:
	default:
		t.Fatal("the store call in flight never saw its context end")
	}
}

// A store that ignores cancellation cannot hold Close past its grace.
func TestPipelineCloseIsBoundedWhenTheStoreHangs(t *testing.T) {
	st := newStuckStore(storetest.Open(t), false)
	defer close(st.release)
	p := bot.NewPipeline(st, wordClassifier{}, bot.PipelineOptions{RetryDelay: time.Millisecond})
	require.NoError(t, p.Submit(context.Background(), mention(1, "ana", "hi")))
	<-st.entered
	err := closeWithin(t, p, 20*time.Millisecond)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the writer did not stop")
}

// A Submit waiting for room does not keep Close from taking its lock:
// it gives up with EUNAVAILABLE and Close goes on.
func TestPipelineSubmitWaitingForRoomDoesNotBlockClose(t *testing.T) {
	st := newStuckStore(storetest.Open(t), true)
	defer close(st.release)
	p := bot.NewPipeline(st, wordClassifier{}, bot.PipelineOptions{Workers: 1, BatchSize: 1, ChunkSize: 1})
	blocked := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			if err := p.Submit(context.Background(), mention(i, "ana", "hi")); err != nil {
				blocked <- err
				return
			}
		}
	}()
	<-st.entered
	// Let the queues fill up behind the stuck write so a Submit blocks.
	require.Eventually(t, func() bool { return p.Stats().Submitted > 4 && len(blocked) == 0 }, 5*time.Second, time.Millisecond)
	err := closeWithin(t, p, 50*time.Millisecond)
	require.Error(t, err)
	select {
	case serr := <-blocked:
		assert.Equal(t, parley.EUNAVAILABLE, parley.ErrorCode(serr), "%v", serr)
	case <-time.After(30 * time.Second):
		t.Fatal("the blocked Submit never returned")
	}
}
