// Package postgres is Parley's store on PostgreSQL (github.com/jackc/pgx/v5):
// the store several parley processes share. It implements the same root
// interfaces as the SQLite store (package store), passes the same
// conformance suite (store/storetest), and keeps its own embedded,
// ordered, append-only migrations (migrations/NNNN_name.sql), each applied
// in one transaction.
//
// Times are stored as Unix milliseconds (0 for none), as the SQLite store
// stores them. Full-text search uses a generated tsvector column with a
// GIN index. Writers on several processes are safe: ingest takes a
// transaction-level advisory lock, decisions lock the draft's row, and the
// outbox claims drafts with FOR UPDATE SKIP LOCKED. Triggers NOTIFY
// parley_changes when drafts or conversations change, and Changes (one
// LISTEN connection per store) tells live pages on every node.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune Open. The zero value is fine.
type Options struct {
	Logger *slog.Logger
	// Now returns the current time; tests set it. Default time.Now.
	Now func() time.Time
	// Node, when set, names this process among several sharing the
	// database (a 'parley run' node). The store then holds the liveness
	// lease node:NAME while open (renewed every NodeLeaseTTL/4) and stamps
	// the drafts its outbox claims with it, so that when the process dies
	// mid-send another node takes its drafts over once the lease runs out,
	// not a whole SendLease later.
	Node string
}

// NodeLeaseTTL is how long a node's liveness lease outlives its last
// renewal.
const NodeLeaseTTL = 20 * time.Second

// Store is the PostgreSQL implementation of Parley's store interfaces.
type Store struct {
	where  string // the server and database, for logs
	pool   *pgxpool.Pool
	logger *slog.Logger
	now    func() time.Time
	feed   storelogic.Feed // LISTEN for live pages, opened on first use
	node   string          // Options.Node
	// stopNode ends the liveness lease's renewal and releases it.
	stopNode func()
}

var (
	_ parley.Store           = (*Store)(nil)
	_ parley.WebStore        = (*Store)(nil)
	_ parley.MentionSearcher = (*Store)(nil)
)

// IsURL reports whether dsn names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to the database at dsn (a postgres:// URL or a libpq
// key=value string) and applies pending migrations. Errors name the
// server (never the password): EINVALID for a malformed dsn,
// EUNAVAILABLE when the server does not answer.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "database URL %s: %v", redact(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "database URL %s: %v", redact(dsn), err)
	}
	s := &Store{pool: pool, logger: opts.Logger, now: opts.Now,
		where: fmt.Sprintf("postgres://%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, dbError("connect to "+redact(dsn), err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate %s: %w", redact(dsn), err)
	}
	if err := s.holdNode(ctx, opts.Node); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Where names the server and database (never the password), for logs.
func (s *Store) Where() string { return s.where }

// Close ends the change feed, gives the node's liveness lease up and
// closes every connection.
func (s *Store) Close() error {
	s.feed.Stop()
	if s.stopNode != nil {
		s.stopNode()
	}
	s.pool.Close()
	return nil
}

// redact hides the password of a URL dsn.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(the configured database)"
}

// migrationLock is the advisory lock key that serializes migrations when
// several processes start at once.
const migrationLock = 0x7061726c6579 // "parley"

// migrate applies the embedded migrations not applied yet, in order, each
// in one transaction with its row in schema_migrations.
func (s *Store) migrate(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return dbError("migrate", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return dbError("migrate", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return dbError("migrate", err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	var applied int
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&applied); err != nil {
		return dbError("migrate", err)
	}
	for _, m := range ms {
		if m.version <= applied {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, s.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded migrations in order and checks that they
// are numbered 1, 2, 3... without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []migration
	for i, path := range names {
		name := strings.TrimPrefix(path, "migrations/")
		n, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil || n != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", name, i+1)
		}
		b, err := migrationFS.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: n, name: name, sql: string(b)})
	}
	return out, nil
}

// SchemaVersion returns the number of migrations applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&n)
	return n, dbError("schema version", err)
}

// Check runs a cheap query over the tables the inbox and the pipeline read.
func (s *Store) Check(ctx context.Context) error {
	var n int64
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM mentions ORDER BY id DESC LIMIT 1) m)
		+ (SELECT count(*) FROM (SELECT 1 FROM drafts WHERE state = 'pending' LIMIT 1) d)
		+ (SELECT count(*) FROM (SELECT 1 FROM people ORDER BY id DESC LIMIT 1) p)
		+ (SELECT count(*) FROM (SELECT 1 FROM threads ORDER BY id DESC LIMIT 1) t)
		+ (SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) u)`).Scan(&n)
	return dbError("check the database", err)
}

// SQLSTATE classes and codes the store tells apart (never by message text).
const (
	codeUniqueViolation = "23505"
	codeSerialization   = "40001"
	codeDeadlock        = "40P01"
)

// transientClasses are the SQLSTATE classes a later try may not meet: the
// connection broke, the server is short of resources or shutting down, a
// transaction lost a race.
var transientClasses = map[string]string{
	"08": "the connection to PostgreSQL failed",
	"53": "PostgreSQL is out of resources (disk, memory or connections)",
	"57": "PostgreSQL is shutting down or cancelled the query",
	"40": "the transaction lost a race with another; retry",
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func isUniqueViolation(err error) bool { return pgCode(err) == codeUniqueViolation }

// dbError wraps a database error with what was being done, as an
// EUNAVAILABLE error when retrying may succeed (a transient SQLSTATE, or no
// connection at all).
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	if pe := (*parley.Error)(nil); errors.As(err, &pe) {
		return err // already says what happened
	}
	code := pgCode(err)
	if len(code) >= 2 {
		if why, ok := transientClasses[code[:2]]; ok {
			return parley.Errorf(parley.EUNAVAILABLE, "%s: %s: %w", op, why, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) {
		return parley.Errorf(parley.EUNAVAILABLE, "%s: %w", op, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// notFound turns pgx.ErrNoRows into an ENOTFOUND error.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, format, args...)
	}
	return dbError("read", err)
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func joinList(v []string) string { return strings.Join(v, ",") }

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
