package store

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleybot/parley"
)

// sqliteCode returns the extended SQLite result code of the first
// driver error in err's chain, and false when there is none. Errors are
// classified by these codes, never by their text.
func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

// primary is a result code without its extended part (SQLITE_IOERR_READ
// is SQLITE_IOERR).
func primary(code int) int { return code & 0xff }

// isUniqueViolation says err is a UNIQUE or PRIMARY KEY constraint
// failure.
func isUniqueViolation(err error) bool {
	code, ok := sqliteCode(err)
	return ok && (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// transientCodes are the failures a later try may not meet: another
// process holds the database, the disk is full or failed to read or
// write, memory ran out. Everything else (a constraint, a damaged file, a
// bug in a query) fails the same way again.
var transientCodes = map[int]string{
	sqlite3.SQLITE_BUSY:     "the database stayed locked by another process",
	sqlite3.SQLITE_LOCKED:   "the database stayed locked by another process",
	sqlite3.SQLITE_FULL:     "the disk is full; free space and retry (nothing was written)",
	sqlite3.SQLITE_IOERR:    "the disk failed to read or write; retry, and check it if this repeats",
	sqlite3.SQLITE_NOMEM:    "out of memory",
	sqlite3.SQLITE_PROTOCOL: "the database stayed locked by another process",
}

// dbError wraps a database error with what was being done, as an
// EUNAVAILABLE error when the driver's code says retrying may succeed.
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	if code, ok := sqliteCode(err); ok {
		if why, transient := transientCodes[primary(code)]; transient {
			return parley.Errorf(parley.EUNAVAILABLE, "%s: %s: %w", op, why, err)
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// describeOpenError explains why a database could not be opened.
func describeOpenError(path string, err error) error {
	code, _ := sqliteCode(err)
	switch primary(code) {
	case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
		return parley.Errorf(parley.EINVALID, "%s is not a Parley database (or it is damaged): %w", path, err)
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return parley.Errorf(parley.EUNAVAILABLE, "database %s is locked by another process: %w", path, err)
	}
	return fmt.Errorf("open database %s: %w", path, err)
}
