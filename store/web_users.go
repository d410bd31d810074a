package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/parleybot/parley"
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
	return "", parley.Errorf(parley.EINVALID, "role %q: want admin, manager or agent", s)
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
		return parley.Errorf(parley.EINVALID, "user name is empty")
	}
	if len(name) > 64 {
		return parley.Errorf(parley.EINVALID, "user name %q is longer than 64 characters", name)
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '-' && r != '_' {
			return parley.Errorf(parley.EINVALID, "user name %q: use letters, digits, '.', '-' or '_' only", name)
		}
	}
	return nil
}

const userColumns = `id, name, role, password_hash, created_at, password_changed_at, last_login_at`

func scanUser(row scanner) (User, error) {
	var u User
	var role string
	var created, changed, login int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &created, &changed, &login); err != nil {
		return u, err
	}
	u.Role = Role(role)
	u.CreatedAt, u.PasswordChangedAt, u.LastLoginAt = fromMS(created), fromMS(changed), fromMS(login)
	return u, nil
}

// CreateUser adds a user with a password hash (bcrypt; the caller hashes).
// Errors: EINVALID for a bad name, role or empty hash; ECONFLICT when the
// name is taken (names are case-insensitive).
func (s *Store) CreateUser(ctx context.Context, name string, role Role, passwordHash string) (User, error) {
	if err := CheckUserName(name); err != nil {
		return User{}, err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return User{}, err
	}
	if passwordHash == "" {
		return User{}, parley.Errorf(parley.EINVALID, "user %s: the password hash is empty", name)
	}
	now := s.now().UnixMilli()
	u, err := scanUser(s.db.QueryRowContext(ctx, `INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?) RETURNING `+userColumns, name, string(role), passwordHash, now, now))
	if err != nil {
		if isUniqueViolation(err) {
			return User{}, parley.Errorf(parley.ECONFLICT, "user %s already exists", name)
		}
		return User{}, dbError("create user "+name, err)
	}
	return u, nil
}

// User returns the user named name (case-insensitive); ENOTFOUND if none.
func (s *Store) User(ctx context.Context, name string) (User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return u, notFound(err, "no user named %q", name)
	}
	return u, nil
}

// Users returns every user, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserPassword replaces a user's password hash and records the time,
// which ends the sessions opened before it. ENOTFOUND if there is no such
// user; EINVALID for an empty hash.
func (s *Store) SetUserPassword(ctx context.Context, name, passwordHash string) error {
	if passwordHash == "" {
		return parley.Errorf(parley.EINVALID, "user %s: the password hash is empty", name)
	}
	return s.updateUser(ctx, name, `UPDATE users SET password_hash = ?, password_changed_at = ? WHERE name = ?`,
		passwordHash, s.now().UnixMilli(), name)
}

// SetUserRole changes a user's role. ENOTFOUND if there is no such user;
// EINVALID for an unknown role.
func (s *Store) SetUserRole(ctx context.Context, name string, role Role) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	return s.updateUser(ctx, name, `UPDATE users SET role = ? WHERE name = ?`, string(role), name)
}

// RecordLogin notes a successful login at at. ENOTFOUND if there is no such
// user.
func (s *Store) RecordLogin(ctx context.Context, name string, at time.Time) error {
	return s.updateUser(ctx, name, `UPDATE users SET last_login_at = ? WHERE name = ?`, ms(at), name)
}

// DeleteUser removes a user; their entries in the audit log stay.
// ENOTFOUND if there is no such user.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.updateUser(ctx, name, `DELETE FROM users WHERE name = ?`, name)
}

func (s *Store) updateUser(ctx context.Context, name, q string, args ...any) error {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return dbError("update user "+name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "no user named %q", name)
	}
	return nil
}

// AddAudit writes an entry to the audit log (logins, user changes, notes
// and whatever else a person does outside the draft queue). A zero At is
// now. EINVALID when the actor or action is empty.
func (s *Store) AddAudit(ctx context.Context, e parley.AuditEntry) (parley.AuditEntry, error) {
	if strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return e, parley.Errorf(parley.EINVALID, "audit entry needs an actor and an action (got %q, %q)", e.Actor, e.Action)
	}
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	err := s.db.QueryRowContext(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
		VALUES (?, ?, ?, nullif(?, 0), nullif(?, 0), ?) RETURNING id`,
		ms(e.At), e.Actor, e.Action, e.DraftID, e.PersonID, e.Detail).Scan(&e.ID)
	if err != nil {
		return e, dbError("audit", err)
	}
	return e, nil
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

// AuditEntries returns the audit entries matching f, newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]parley.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.PersonID != 0 {
		add("person_id = ?", f.PersonID)
	}
	if f.DraftID != 0 {
		add("draft_id = ?", f.DraftID)
	}
	if f.BeforeID != 0 {
		add("id < ?", f.BeforeID)
	}
	q := `SELECT id, at, actor, action, coalesce(draft_id, 0), coalesce(person_id, 0), detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return scanAudit(rows)
}

// AuditActions returns the distinct actions in the audit log, sorted.
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	return s.queryStrings(ctx, `SELECT DISTINCT action FROM audit ORDER BY action`)
}

func (s *Store) queryStrings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
