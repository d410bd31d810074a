package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// BackupInfo describes a database file made by Backup or checked by Verify.
type BackupInfo struct {
	Path          string
	Size          int64
	SchemaVersion int
}

// LatestSchema is the schema version this build migrates a database to.
func LatestSchema() int {
	ms, err := loadMigrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Backup writes a consistent copy of the database at src to dst with
// VACUUM INTO, which reads one snapshot: a 'parley run' may keep writing
// meanwhile (WAL readers never block the writer). The copy is written
// beside dst under a temporary name, checked with Verify, made private
// (0600) and only then renamed to dst. dst must not exist.
func Backup(ctx context.Context, src, dst string) (BackupInfo, error) {
	if _, err := os.Stat(src); err != nil {
		return BackupInfo{}, parley.Errorf(parley.ENOTFOUND, "no database at %s: %w", src, err)
	}
	if _, err := os.Stat(dst); err == nil {
		return BackupInfo{}, parley.Errorf(parley.ECONFLICT, "%s already exists: pick another name or remove it first", dst)
	}
	tmp, err := privateTemp(dst)
	if err != nil {
		return BackupInfo{}, err
	}
	defer func() { _ = os.Remove(tmp) }() // fails harmlessly once renamed into place
	db, err := openPlain(src, false)
	if err != nil {
		return BackupInfo{}, err
	}
	_, err = db.ExecContext(ctx, `VACUUM INTO ?`, tmp)
	_ = db.Close() // read only: nothing to lose
	if err != nil {
		return BackupInfo{}, dbError("back up "+src, err)
	}
	info, err := Verify(ctx, tmp)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("the copy failed its check: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return BackupInfo{}, fmt.Errorf("back up: %w", err)
	}
	info.Path = dst
	return info, nil
}

// Verify checks that path is an intact Parley database this build can
// open: SQLite's integrity check passes and its schema is not newer than
// LatestSchema. It changes nothing.
func Verify(ctx context.Context, path string) (BackupInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, parley.Errorf(parley.ENOTFOUND, "%s: %w", path, err)
	}
	db, err := openPlain(path, true)
	if err != nil {
		return BackupInfo{}, err
	}
	defer func() { _ = db.Close() }() // read only
	var result string
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return BackupInfo{}, describeOpenError(path, err)
	}
	var problems []string
	for rows.Next() {
		if err := rows.Scan(&result); err != nil {
			rows.Close()
			return BackupInfo{}, describeOpenError(path, err)
		}
		if result != "ok" {
			problems = append(problems, result)
		}
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return BackupInfo{}, describeOpenError(path, err)
	}
	rows.Close()
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return BackupInfo{}, parley.Errorf(parley.EINVALID, "%s is damaged: %s", path, strings.Join(problems, "; "))
	}
	var version int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return BackupInfo{}, parley.Errorf(parley.EINVALID, "%s is not a Parley database (no schema_migrations table): %w", path, err)
	}
	if latest := LatestSchema(); version > latest {
		return BackupInfo{}, parley.Errorf(parley.EINVALID,
			"%s has schema version %d, newer than this parley knows (%d): use the parley that made it, or upgrade", path, version, latest)
	}
	return BackupInfo{Path: path, Size: fi.Size(), SchemaVersion: version}, nil
}

// Restore replaces the database at dst with the backup at src after
// checking it with Verify. The database it replaces, if any, is kept as
// dst.before-restore-TIMESTAMP (returned), so a restore can be undone.
// The caller makes sure no process has dst open.
func Restore(ctx context.Context, src, dst string, now time.Time) (kept string, info BackupInfo, err error) {
	if info, err = Verify(ctx, src); err != nil {
		return "", info, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return "", info, fmt.Errorf("restore: %w", err)
	}
	tmp, err := privateTemp(dst)
	if err != nil {
		return "", info, err
	}
	defer func() { _ = os.Remove(tmp) }() // fails harmlessly once renamed into place
	if err := copyFile(src, tmp); err != nil {
		return "", info, fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		// Fold the live file's WAL in first, so the kept copy is whole.
		if db, err := openPlain(dst, false); err == nil {
			// Best effort: a WAL left over is kept beside nothing.
			_, _ = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			_ = db.Close()
		}
		kept = dst + ".before-restore-" + now.UTC().Format("20060102T150405Z")
		if err := os.Rename(dst, kept); err != nil {
			return "", info, fmt.Errorf("restore: keep the old database: %w", err)
		}
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if err := os.Remove(dst + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return kept, info, fmt.Errorf("restore: %w", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		return kept, info, fmt.Errorf("restore: %w", err)
	}
	info.Path = dst
	return kept, info, nil
}

// openPlain opens one connection to path without migrating it; readOnly
// opens it so that nothing, not even a journal mode, is written.
func openPlain(path string, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(DefaultBusyTimeout.Milliseconds(), 10)+")")
	if readOnly {
		q.Set("mode", "ro")
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		_ = db.Close()
		return nil, describeOpenError(path, err)
	}
	return db, nil
}

// privateTemp creates an empty 0600 file beside path for a copy to fill.
func privateTemp(path string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	name := f.Name()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		_ = os.Remove(name)
		return "", err
	}
	return name, f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src) //nolint:gosec // the backup the user named
	if err != nil {
		return err
	}
	defer func() { _ = in.Close() }()                           // read only
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0o600) //nolint:gosec // our own temporary file
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	return errors.Join(err, out.Close())
}
