package store

import (
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"time"
)

// checkpointEvery is how often the background checkpointer looks at the
// write-ahead log.
const checkpointEvery = 250 * time.Millisecond

// checkpointer copies the write-ahead log back into the database file on
// a connection of its own, so the writer never stops to do it (SQLite's
// automatic checkpoint runs inside the committing writer, with an fsync,
// and costs a tenth of the ingest time). It runs PASSIVE checkpoints: it
// never waits for, nor blocks, the writer or the readers. The writer
// connection has wal_autocheckpoint(0).
type checkpointer struct {
	db     *sql.DB
	logger *slog.Logger
	stop   chan struct{}
	done   chan struct{}
}

func startCheckpointer(path string, busy time.Duration, logger *slog.Logger) (*checkpointer, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "cache_size(-1024)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		_ = db.Close() // the ping error says what went wrong
		return nil, describeOpenError(path, err)
	}
	c := &checkpointer{db: db, logger: logger, stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c, nil
}

func (c *checkpointer) loop() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A no-op when the log has nothing new; else it copies what no
		// reader still needs, and the writer starts the log over once
		// everything was copied.
		var busy, frames, done int
		err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &done)
		switch {
		case err != nil && !failing:
			// Said once, not four times a second: the log keeps the
			// commits safe meanwhile, it only grows.
			c.logger.Warn("background checkpoint failed; the write-ahead log grows until it works again", "err", dbError("checkpoint", err))
			failing = true
		case err == nil && failing:
			c.logger.Info("background checkpoint works again")
			failing = false
		}
	}
}

// Close stops the checkpointer and closes its connection.
func (c *checkpointer) Close() error {
	close(c.stop)
	<-c.done
	return c.db.Close()
}
