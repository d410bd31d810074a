package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
)

const userColumns = `id, name, role, password_hash, created_at, password_changed_at, last_login_at`

func scanUser(row pgx.Row) (parley.User, error) {
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

// CreateUser implements parley.UserStore.
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
	u, err := scanUser(s.pool.QueryRow(ctx, `INSERT INTO users (name, role, password_hash, created_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $4) RETURNING `+userColumns, name, string(role), passwordHash, now))
	if isUniqueViolation(err) {
		return parley.User{}, parley.Errorf(parley.ECONFLICT, "user %s already exists", name)
	}
	return u, dbError("create user "+name, err)
}

// User implements parley.UserStore.
func (s *Store) User(ctx context.Context, name string) (parley.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(name) = lower($1)`, name))
	if err != nil {
		return u, notFound(err, "no user named %q", name)
	}
	return u, nil
}

// Users implements parley.UserStore.
func (s *Store) Users(ctx context.Context) ([]parley.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY lower(name)`)
	if err != nil {
		return nil, dbError("list users", err)
	}
	return collect(rows, scanUser)
}

// SetUserPassword implements parley.UserStore.
func (s *Store) SetUserPassword(ctx context.Context, name, passwordHash string) error {
	if passwordHash == "" {
		return parley.Errorf(parley.EINVALID, "user %s: the password hash is empty", name)
	}
	return s.updateUser(ctx, name, `UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE lower(name) = lower($3)`,
		passwordHash, s.now().UnixMilli(), name)
}

// SetUserRole implements parley.UserStore.
func (s *Store) SetUserRole(ctx context.Context, name string, role parley.Role) error {
	if _, err := parley.ParseRole(string(role)); err != nil {
		return err
	}
	return s.updateUser(ctx, name, `UPDATE users SET role = $1 WHERE lower(name) = lower($2)`, string(role), name)
}

// RecordLogin implements parley.UserStore.
func (s *Store) RecordLogin(ctx context.Context, name string, at time.Time) error {
	return s.updateUser(ctx, name, `UPDATE users SET last_login_at = $1 WHERE lower(name) = lower($2)`, ms(at), name)
}

// DeleteUser implements parley.UserStore.
func (s *Store) DeleteUser(ctx context.Context, name string) error {
	return s.updateUser(ctx, name, `DELETE FROM users WHERE lower(name) = lower($1)`, name)
}

func (s *Store) updateUser(ctx context.Context, name, q string, args ...any) error {
	tag, err := s.pool.Exec(ctx, q, args...)
	if err != nil {
		return dbError("update user "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "no user named %q", name)
	}
	return nil
}

// AddAudit implements parley.AuditLog.
func (s *Store) AddAudit(ctx context.Context, e parley.AuditEntry) (parley.AuditEntry, error) {
	if strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return e, parley.Errorf(parley.EINVALID, "audit entry needs an actor and an action (got %q, %q)", e.Actor, e.Action)
	}
	if e.At.IsZero() {
		e.At = s.now().UTC()
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO audit (at, actor, action, draft_id, person_id, detail)
		VALUES ($1, $2, $3, nullif($4::bigint, 0), nullif($5::bigint, 0), $6) RETURNING id`,
		ms(e.At), e.Actor, e.Action, e.DraftID, e.PersonID, e.Detail).Scan(&e.ID)
	return e, dbError("audit", err)
}

// AuditEntries implements parley.AuditLog.
func (s *Store) AuditEntries(ctx context.Context, f parley.AuditFilter) ([]parley.AuditEntry, error) {
	var where []string
	var a args
	if f.Actor != "" {
		where = append(where, "actor = "+a.add(f.Actor))
	}
	if f.Action != "" {
		where = append(where, "action = "+a.add(f.Action))
	}
	if f.PersonID != 0 {
		where = append(where, "person_id = "+a.add(f.PersonID))
	}
	if f.DraftID != 0 {
		where = append(where, "draft_id = "+a.add(f.DraftID))
	}
	if f.BeforeID != 0 {
		where = append(where, "id < "+a.add(f.BeforeID))
	}
	q := `SELECT ` + auditColumns + ` FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q += " ORDER BY id DESC LIMIT " + a.add(limit)
	rows, err := s.pool.Query(ctx, q, a...)
	if err != nil {
		return nil, dbError("audit", err)
	}
	return collect(rows, scanAudit)
}

// AuditActions implements parley.AuditLog.
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT action FROM audit ORDER BY action`)
	if err != nil {
		return nil, dbError("audit actions", err)
	}
	return collect(rows, func(r pgx.Row) (string, error) {
		var v string
		return v, r.Scan(&v)
	})
}

// Sessions implements parley.UserStore.
func (s *Store) Sessions() parley.SessionStore { return &sessions{s: s} }

// sessions keeps the web inbox's sessions; only a SHA-256 of each token is
// stored.
type sessions struct{ s *Store }

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (ss *sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.s.pool.QueryRow(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`,
		tokenKey(token), ss.s.now().UnixMilli()).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbError("find session", err)
	}
	return b, true, nil
}

func (ss *sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.s.pool.Exec(ctx, `INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, tokenKey(token), b, ms(expiry))
	return dbError("save session", err)
}

func (ss *sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.pool.Exec(ctx, `DELETE FROM sessions WHERE token = $1`, tokenKey(token))
	return dbError("delete session", err)
}

func (ss *sessions) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := ss.s.pool.Query(ctx, `SELECT token, data FROM sessions WHERE expiry > $1`, ss.s.now().UnixMilli())
	if err != nil {
		return nil, dbError("list sessions", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var token string
		var b []byte
		if err := rows.Scan(&token, &b); err != nil {
			return nil, err
		}
		out[token] = b
	}
	return out, dbError("list sessions", rows.Err())
}

func (ss *sessions) DeleteExpired(ctx context.Context) (int64, error) {
	tag, err := ss.s.pool.Exec(ctx, `DELETE FROM sessions WHERE expiry <= $1`, ss.s.now().UnixMilli())
	if err != nil {
		return 0, dbError("delete expired sessions", err)
	}
	return tag.RowsAffected(), nil
}

func (ss *sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

func (ss *sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

func (ss *sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

func (ss *sessions) All() (map[string][]byte, error) { return ss.AllCtx(context.Background()) }
