package parley

import (
	"errors"
	"fmt"
)

// Error codes. Every part of Parley returns errors that wrap an *Error when
// the cause is something a user or caller can act on; cmd/parley and web/
// map the code to an exit status, HTTP status or message in one place.
const (
	ECONFLICT    = "conflict"    // the action clashes with the current state (already approved)
	EINTERNAL    = "internal"    // a bug or an unexpected failure
	EINVALID     = "invalid"     // bad input: config, rule, message, request
	ENOTFOUND    = "not_found"   // no such draft, person, thread
	EFORBIDDEN   = "forbidden"   // the actor may not do this
	EUNAVAILABLE = "unavailable" // a platform or the database is busy or down; retry later
)

// Error is an application error with a code and a message meant for people.
type Error struct {
	Code    string
	Message string
	Err     error // the underlying cause, if any
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message. A %w
// verb in format wraps its argument as the cause (and its text is part of
// the message).
func Errorf(code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of the first *Error in err's chain,
// or a generic text for internal errors (whose details belong in the log).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
