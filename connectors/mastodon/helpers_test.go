package mastodon

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/stretchr/testify/require"
)

// memCursors is an in-memory parley.CursorStore.
type memCursors struct {
	mu   sync.Mutex
	m    map[string]string
	sets int
}

func newMemCursors() *memCursors { return &memCursors{m: map[string]string{}} }

func (s *memCursors) Cursor(_ context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

func (s *memCursors) SetCursor(_ context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = value
	s.sets++
	return nil
}

func (s *memCursors) get(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key]
}

// recSink records every mention submitted, in order.
type recSink struct {
	mu  sync.Mutex
	ms  []parley.Mention
	at  []time.Time
	err error // returned by Submit when set
}

func (s *recSink) Submit(ctx context.Context, m parley.Mention) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.ms = append(s.ms, m)
	s.at = append(s.at, time.Now())
	return nil
}

func (s *recSink) all() []parley.Mention {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]parley.Mention(nil), s.ms...)
}

func (s *recSink) count(id string) int {
	n := 0
	for _, m := range s.all() {
		if m.ExternalID == id {
			n++
		}
	}
	return n
}

func (s *recSink) get(id string) (parley.Mention, time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, m := range s.ms {
		if m.ExternalID == id {
			return m, s.at[i], true
		}
	}
	return parley.Mention{}, time.Time{}, false
}

func (s *recSink) waitID(t *testing.T, id string) parley.Mention {
	t.Helper()
	require.Eventually(t, func() bool { return s.count(id) > 0 }, 5*time.Second, 5*time.Millisecond, "status %s never delivered; delivered: %v", id, ids(s.all()))
	m, _, _ := s.get(id)
	return m
}

func (s *recSink) waitN(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.all()) >= n }, 10*time.Second, 5*time.Millisecond, "want %d deliveries, have %d", n, len(s.all()))
}

func ids(ms []parley.Mention) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ExternalID
	}
	return out
}

// tracer records the connector's trace events.
type tracer struct {
	mu sync.Mutex
	ev []string
}

func (tr *tracer) record(feed, event string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.ev = append(tr.ev, feed+" "+event)
}

func (tr *tracer) count(e string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, x := range tr.ev {
		if x == e {
			n++
		}
	}
	return n
}

// wait waits until event e has happened n times in all.
func (tr *tracer) wait(t *testing.T, e string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return tr.count(e) >= n }, 5*time.Second, 2*time.Millisecond, "trace %q never reached %d", e, n)
}

// syncBuf is a goroutine-safe log buffer.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness is a connector against a fake server.
type harness struct {
	t       *testing.T
	srv     *mastodontest.Server
	c       *Connector
	cursors *memCursors
	sink    *recSink
	tr      *tracer
	logs    *syncBuf
	cancel  context.CancelFunc
	done    chan error
}

type hopts struct {
	cfg     Config
	cursors *memCursors
	opts    []Option
}

func newHarness(t *testing.T, srv *mastodontest.Server, ho hopts) *harness {
	t.Helper()
	h := &harness{t: t, srv: srv, cursors: ho.cursors, sink: &recSink{}, tr: &tracer{}, logs: &syncBuf{}}
	if h.cursors == nil {
		h.cursors = newMemCursors()
	}
	cfg := ho.cfg
	cfg.Server = srv.URL
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := append([]Option{
		WithBackoff(5*time.Millisecond, 100*time.Millisecond),
		WithPollInterval(time.Hour),
		WithPingInterval(time.Second),
		withTrace(h.tr.record),
	}, ho.opts...)
	c, err := New(cfg, mastodontest.Token, h.cursors, logger, opts...)
	require.NoError(t, err)
	h.c = c
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("connector log:\n%s", h.logs.String())
		}
	})
	return h
}

// start runs the connector until the test ends (or stop).
func (h *harness) start() *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- h.c.Run(ctx, h.sink) }()
	h.t.Cleanup(func() { h.stop() })
	return h
}

// stop cancels Run and checks it returned nil promptly.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		require.NoError(h.t, err)
	case <-time.After(5 * time.Second):
		h.t.Fatal("Run did not return within 5s of cancellation")
	}
}

// waitReady waits until feed's stream is connected and its catch-up poll
// done, n times in all.
func (h *harness) waitReady(feed string, n int) {
	h.t.Helper()
	h.tr.wait(h.t, feed+" stream_ready", n)
}

func (h *harness) dumpLogs() string { return h.logs.String() }

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("log does not contain %q:\n%s", sub, s)
	}
}
