package storetest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/parleybot/parley/store"
)

// Option changes how Open opens the store.
type Option func(*options)

type options struct {
	path  string
	store store.Options
}

// Path opens the database at path instead of a fresh one, for a test that
// reopens a database or hands its file to a command.
func Path(path string) Option { return func(o *options) { o.path = path } }

// Clock makes the store read the time from now.
func Clock(now func() time.Time) Option { return func(o *options) { o.store.Now = now } }

// Logger makes the store log to l (it logs nothing by default).
func Logger(l *slog.Logger) Option { return func(o *options) { o.store.Logger = l } }

// BusyTimeout sets how long a write waits for another connection's lock.
func BusyTimeout(d time.Duration) Option { return func(o *options) { o.store.BusyTimeout = d } }

// Open opens a store with its migrations applied, failing the test when it
// cannot, and closes it when the test ends. The test may close it earlier.
func Open(t testing.TB, opts ...Option) *store.Store {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.path == "" {
		o.path = filepath.Join(t.TempDir(), "parley.db")
	}
	s, err := store.Open(context.Background(), o.path, o.store)
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close test store %s: %v", o.path, err)
		}
	})
	return s
}
