package bot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/parleybot/parley"
)

// TombstoneLister reads the keys of blocked accounts (parley.EraseStore).
type TombstoneLister interface {
	Tombstones(ctx context.Context) ([]string, error)
}

// Tombstones keeps the posts of accounts erased with --block out of the
// store. It holds the (few) tombstone keys in memory and reads them again
// when they are older than Refresh, so an erasure made by another process
// (the CLI) takes effect within that.
type Tombstones struct {
	st      TombstoneLister
	log     *slog.Logger
	refresh time.Duration
	now     func() time.Time

	mu     sync.Mutex
	keys   map[string]bool
	loaded time.Time
}

// NewTombstones returns a checker reading st every refresh (default 30s).
func NewTombstones(st TombstoneLister, refresh time.Duration, log *slog.Logger) *Tombstones {
	if refresh <= 0 {
		refresh = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Tombstones{st: st, log: log, refresh: refresh, now: time.Now}
}

// Blocked reports whether m's author was erased with a tombstone: a
// PipelineOptions.Blocked. When the store cannot be read it goes on with
// the keys it has (none at first) and says so in the log.
func (t *Tombstones) Blocked(m *parley.Mention) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if now := t.now(); t.keys == nil || now.Sub(t.loaded) >= t.refresh {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		keys, err := t.st.Tombstones(ctx)
		cancel()
		t.loaded = now
		if err != nil {
			t.log.Error("read tombstones", "err", err)
			if t.keys == nil {
				t.keys = map[string]bool{}
			}
		} else {
			t.keys = make(map[string]bool, len(keys))
			for _, k := range keys {
				t.keys[k] = true
			}
		}
	}
	if len(t.keys) == 0 || !t.keys[parley.TombstoneKey(m.Platform, m.Author.ExternalID)] {
		return false
	}
	t.log.Info("a post from an erased account was not stored", "platform", m.Platform)
	return true
}
