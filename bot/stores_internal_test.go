package bot

import "github.com/parleybot/parley/store"

// The SQLite store's fast paths: the pipeline finds them by these
// interfaces, so a change of signature must fail here, not silently slow
// ingest down.
var (
	_ planningStore      = (*store.Store)(nil)
	_ concurrentIngester = (*store.Store)(nil)
)
