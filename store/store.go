// Package store keeps Parley's state in SQLite (modernc.org/sqlite, pure Go).
//
// The database runs in WAL mode with foreign keys on and a busy timeout, so a
// reader never blocks the writer and a writer waits for another instead of
// failing. Writes go through one connection; reads use a small pool.
// Migrations are embedded, ordered, append-only and applied one transaction
// each when the store opens.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// DefaultBusyTimeout is how long a write waits for another process holding
// the database lock before it fails.
const DefaultBusyTimeout = 10 * time.Second

// Options tune Open. The zero value is fine.
type Options struct {
	Logger      *slog.Logger
	BusyTimeout time.Duration // default DefaultBusyTimeout
	// Now returns the current time; tests set it. Default time.Now.
	Now func() time.Time
}

// Store is the SQLite implementation of parley.Store.
type Store struct {
	path   string
	db     *sql.DB // the writer connection: every write but ingest
	idb    *sql.DB // the ingest writer connection (see connIngest)
	rdb    *sql.DB // readers
	logger *slog.Logger
	now    func() time.Time

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared on idb, by SQL text
	rstmts map[string]*sql.Stmt // prepared on rdb (ingest's planning reads)

	// What the ingest connection committed (see Plan): the number of
	// batches, and PRAGMA data_version at the start of the last one.
	ingestMu   sync.Mutex
	ingestSeq  uint64
	ingestDV   int64
	haveIngest bool
	lastPlan   *Plan // the last commit, when it wrote a plan as planned

	ckpt *checkpointer   // folds the WAL back off the writer (checkpoint.go)
	feed storelogic.Feed // tells live pages of commits (changes.go)
	// inboxTrace, set by tests, sees every query the inbox runs; a page
	// runs some on two goroutines at once.
	inboxTrace func(query string, args []any)

	closeOnce sync.Once
	closeErr  error
}

var _ parley.Store = (*Store)(nil)
var _ parley.WebStore = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies pending
// migrations. The folder is created when missing. Errors name the path.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, parley.Errorf(parley.EINVALID, "database path is empty")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	s := &Store{path: path, logger: opts.Logger, now: opts.Now, stmts: map[string]*sql.Stmt{},
		rstmts: map[string]*sql.Stmt{}}
	var err error
	if s.db, err = openDB(path, opts.BusyTimeout, connWriter); err != nil {
		return nil, err
	}
	s.db.SetMaxOpenConns(1)
	// On the error paths below the open error is the one to report;
	// closing what was opened only releases it.
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if s.rdb, err = openDB(path, opts.BusyTimeout, connReader); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	if s.idb, err = openDB(path, opts.BusyTimeout, connIngest); err != nil {
		_ = s.rdb.Close()
		_ = s.db.Close()
		return nil, err
	}
	s.idb.SetMaxOpenConns(1)
	s.rdb.SetMaxOpenConns(max(2, runtime.GOMAXPROCS(0)))
	if s.ckpt, err = startCheckpointer(path, opts.BusyTimeout, opts.Logger); err != nil {
		_ = s.idb.Close()
		_ = s.rdb.Close()
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// privateFiles creates the database's folder (0700) and file (0600) when
// missing, and makes an existing database, WAL and shared-memory file
// private: the database holds people's messages and the inbox's sessions.
// SQLite creates the WAL and shared-memory files with the database file's
// permissions.
func privateFiles(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // G304: the database path is the operator's own choice
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil && fi.Mode().Perm()&0o077 != 0 {
			err = os.Chmod(p, fi.Mode().Perm()&0o700)
		}
		if err != nil {
			return fmt.Errorf("make %s private (chmod 600): %w", p, err)
		}
	}
	return nil
}

// The kinds of connection a Store opens.
const (
	connWriter = iota // every write but ingest: approvals, the outbox, the web
	// connIngest writes the pipeline's batches (ingest.go). Its foreign-key
	// checks are off: ingest assigns every person, thread and mention id
	// itself, from rows it writes in the same transaction, and checking each
	// reference again costs a lookup per reference (TestIngestReferences
	// runs PRAGMA foreign_key_check after ingest). Turning them off per
	// batch on the shared writer instead would expire its prepared
	// statements every time. SQLite serializes it with connWriter
	// (BEGIN IMMEDIATE on both, the busy timeout).
	connIngest
	connReader
)

func openDB(path string, busy time.Duration, kind int) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("foreign_keys(%d)", b2i(kind != connIngest)))
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(busy.Milliseconds(), 10)+")")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "temp_store(MEMORY)")
	// A page cache costs nearly twice its size in resident memory (parley
	// bench: 32 MiB for the writer made 58 MB of RSS). The writer's holds
	// the hot index pages of ingest; a reader's serves the inbox and
	// history pages, whose misses the OS page cache answers.
	switch kind {
	case connReader:
		q.Add("_pragma", "cache_size(-32768)") // 32 MiB
		// Pages the cache does not hold are read from the mapped file
		// (the OS page cache) without a read call and a copy each: the
		// first inbox page after a start reads some thousands.
		q.Add("_pragma", "mmap_size(1073741824)") // 1 GiB
		q.Add("_pragma", "query_only(1)")
	default:
		if kind == connIngest {
			q.Add("_pragma", "cache_size(-16384)") // 16 MiB
		} else {
			q.Add("_pragma", "cache_size(-4096)") // 4 MiB: single rows
		}
		q.Set("_txlock", "immediate")
		// The background checkpointer does it (checkpoint.go).
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		_ = db.Close() // the ping error says what went wrong
		return nil, describeOpenError(path, err)
	}
	return db, nil
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Where names the database for people: its file's path (the PostgreSQL
// store names its server and database).
func (s *Store) Where() string { return s.path }

// Close closes the database. Later calls do nothing and return the first
// call's error, so a test helper's cleanup may close a store the test closed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.feed.Stop()
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	for _, st := range s.rstmts {
		errs = append(errs, st.Close())
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.Close())
	}
	if s.idb != nil {
		errs = append(errs, s.idb.Close())
	}
	if s.db != nil {
		// Fold the WAL back into the main file so the database is one file
		// at rest.
		if _, err := s.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.logger.Warn("wal checkpoint at close", "err", err)
		}
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration file %q: want NNNN_name.sql", name)
		}
		b, err := migrationFS.ReadFile("migrations/" + name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3... without gaps", m.name)
		}
	}
	return ms, nil
}

// migrate applies every migration the database lacks, each in its own
// transaction. A database written by a newer Parley is refused.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return describeOpenError(s.path, err)
	}
	var current int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if current > len(ms) {
		return parley.Errorf(parley.EINVALID, "database schema version %d is newer than this parley knows (%d): upgrade parley", current, len(ms))
	}
	for _, m := range ms[current:] {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, s.now().UnixMilli()); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		s.logger.Info("database migrated", "version", m.version, "name", m.name)
	}
	return nil
}

// SchemaVersion returns the number of migrations applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := s.rdb.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// ms converts a time to stored Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts stored Unix milliseconds to a UTC time; 0 is the zero time.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func joinList(xs []string) string { return strings.Join(xs, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
