package parley

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// Role is what a web inbox user may do.
type Role string

// Roles, from most to least powerful.
const (
	// RoleAdmin manages users and settings, and does everything a manager does.
	RoleAdmin Role = "admin"
	// RoleManager does everything but manage users: the inbox, people
	// (links, opt-outs), the activity log.
	RoleManager Role = "manager"
	// RoleAgent works the inbox: approves, edits, rejects and writes
	// replies, reads people and threads, writes notes.
	RoleAgent Role = "agent"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleManager, RoleAgent}

// ParseRole returns the role named by s (case-insensitive), or an EINVALID
// error listing the roles.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	switch r {
	case RoleAdmin, RoleManager, RoleAgent:
		return r, nil
	}
	return "", Errorf(EINVALID, "role %q: want admin, manager or agent", s)
}

// AtLeast reports whether r has the powers of role (admin > manager > agent).
func (r Role) AtLeast(role Role) bool { return r.rank() >= role.rank() }

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleManager:
		return 2
	case RoleAgent:
		return 1
	}
	return 0
}

// User is a person who logs in to the web inbox.
type User struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role Role   `json:"role"`
	// PasswordHash is the bcrypt hash of the password; never shown.
	PasswordHash      string    `json:"-"`
	CreatedAt         time.Time `json:"created_at"`
	PasswordChangedAt time.Time `json:"password_changed_at"`
	LastLoginAt       time.Time `json:"last_login_at,omitzero"`
}

// CheckUserName returns an EINVALID error when name is not a usable login
// name: 1 to 64 letters, digits, '.', '-' or '_'.
func CheckUserName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "user name is empty")
	}
	if len(name) > 64 {
		return Errorf(EINVALID, "user name %q is longer than 64 characters", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '-' && r != '_' {
			return Errorf(EINVALID, "user name %q: use letters, digits, '.', '-' or '_' only", name)
		}
	}
	return nil
}

// UserStore keeps the web inbox's users and their server-side sessions.
// User names are case-insensitive everywhere.
type UserStore interface {
	// CreateUser adds a user with a password hash (bcrypt; the caller
	// hashes). Errors: EINVALID for a bad name (CheckUserName), role or
	// empty hash; ECONFLICT when the name is taken.
	CreateUser(ctx context.Context, name string, role Role, passwordHash string) (User, error)
	// User returns the user named name; ENOTFOUND if none.
	User(ctx context.Context, name string) (User, error)
	// Users returns every user, by name; none is an empty list.
	Users(ctx context.Context) ([]User, error)
	// SetUserPassword replaces a user's password hash and records the
	// time, which ends the sessions opened before it. Errors: ENOTFOUND if
	// there is no such user; EINVALID for an empty hash.
	SetUserPassword(ctx context.Context, name, passwordHash string) error
	// SetUserRole changes a user's role. Errors: ENOTFOUND if there is no
	// such user; EINVALID for an unknown role.
	SetUserRole(ctx context.Context, name string, role Role) error
	// RecordLogin notes a successful login at at. ENOTFOUND if there is no
	// such user.
	RecordLogin(ctx context.Context, name string, at time.Time) error
	// DeleteUser removes a user; their entries in the audit log stay.
	// ENOTFOUND if there is no such user.
	DeleteUser(ctx context.Context, name string) error
	// Sessions returns the session store kept beside the users.
	Sessions() SessionStore
}

// SessionStore keeps the web inbox's server-side sessions: tokens map to
// opaque data with an expiry. It has the method set of scs.Store,
// scs.CtxStore and scs.IterableCtxStore (github.com/alexedwards/scs/v2)
// without importing it. Expired sessions are never found. A store keeps
// only a hash of each token, so whoever reads the database cannot log in
// with what they read. Errors are the database's only.
type SessionStore interface {
	// FindCtx returns the data of an unexpired session; found is false for
	// an unknown or expired token.
	FindCtx(ctx context.Context, token string) (b []byte, found bool, err error)
	// CommitCtx saves a session's data and expiry, replacing what was there.
	CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error
	// DeleteCtx removes a session; an unknown token is not an error.
	DeleteCtx(ctx context.Context, token string) error
	// AllCtx returns every unexpired session's data keyed by the hash of
	// its token (an empty map when there are none).
	AllCtx(ctx context.Context) (map[string][]byte, error)
	// Find, Commit, Delete and All are FindCtx, CommitCtx, DeleteCtx and
	// AllCtx with context.Background().
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
	Delete(token string) error
	All() (map[string][]byte, error)
	// DeleteExpired removes expired sessions and returns how many.
	DeleteExpired(ctx context.Context) (int64, error)
}

// AuditFilter selects audit entries. Zero fields select everything.
type AuditFilter struct {
	Actor    string
	Action   string
	PersonID int64
	DraftID  int64
	// BeforeID pages back: only entries with a smaller id.
	BeforeID int64
	Limit    int // 0 means 100
}

// AuditLog is the record of who did what.
type AuditLog interface {
	// AddAudit writes an entry (logins, user changes, notes and whatever
	// else a person does outside the draft queue) and returns it with its
	// ID. A zero At is now. EINVALID when the actor or action is empty.
	AddAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// AuditEntries returns the entries matching f, newest first; none is
	// an empty list.
	AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AuditActions returns the distinct actions in the log, sorted.
	AuditActions(ctx context.Context) ([]string, error)
}
