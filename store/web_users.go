package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

const userColumns = `id, name, role, password_hash, created_at, password_changed_at, last_login_at`

func scanUser(row scanner) (parley.User, error) {
	var u parley.User
	var role string
	var created, changed, login int64
	if err := row.Scan(&u.ID, &u.Name, &role, &u.PasswordHash, &created, &changed, &login); err != nil {
		return u, err
	}
	u.Role = parley.Role(role)
	u.CreatedAt, u.PasswordChangedAt, u.LastLoginAt = fromMS(created), fromMS(changed), fromMS(login)
	return u, nil
}

// CreateUser adds a user with a password hash (bcrypt; the caller hashes).
// Errors: EINVALID for a bad name, role or empty hash; ECONFLICT when the
// name is taken (names are case-insensitive).
func (s *Store) CreateUser(ctx context.Context, name string, role parley.Role, passwordHash string) (parley.User, error) {
	if err := parley.CheckUserName(name); err != nil {
		return parley.User{}, err
	}
	if _, err := parley.ParseRole(string(role)); err != nil {
		return parley.User{}, err
	}
	if passwordHash == "" {
		return parley.User{}, parley.Errorf(parley.EINVALID, "user %s: the password hash is empty", name)
	}
	now := s.now().UnixMilli()
	u, err := scanUser(s.db.QueryRowContext(ctx, `INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
		VALUES (?, ?, ?, ?, ?) RETURNING `+userColumns, name, string(role), passwordHash, now, now))
	if err != nil {
		if isUniqueViolation(err) {
			return parley.User{}, parley.Errorf(parley.ECONFLICT, "user %s already exists", name)
		}
		return parley.User{}, dbError("create user "+name, err)
	}
	return u, nil
}

// User returns the user named name (case-insensitive); ENOTFOUND if none.
func (s *Store) User(ctx context.Context, name string) (parley.User, error) {
	u, err := scanUser(s.rdb.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE name = ?`, name))
	if err != nil {
		return u, notFound(err, "no user named %q", name)
	}
	return u, nil
}

// Users returns every user, by name.
func (s *Store) Users(ctx context.Context) ([]parley.User, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []parley.User
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
func (s *Store) SetUserRole(ctx context.Context, name string, role parley.Role) error {
	if _, err := parley.ParseRole(string(role)); err != nil {
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

// AuditEntries returns the audit entries matching f, newest first.
func (s *Store) AuditEntries(ctx context.Context, f parley.AuditFilter) ([]parley.AuditEntry, error) {
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
