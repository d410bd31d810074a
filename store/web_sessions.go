package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/parleybot/parley"
)

// Sessions keeps the web inbox's server-side sessions in the database. It
// implements scs.Store, scs.CtxStore and scs.IterableCtxStore
// (github.com/alexedwards/scs/v2) without importing it: tokens map to opaque
// data with an expiry. Expired sessions are never found; DeleteExpired
// removes them. Only a SHA-256 of each token is stored (tokenKey), so
// whoever reads the database cannot log in with what they read.
type Sessions struct{ s *Store }

// Sessions returns the session store backed by s.
func (s *Store) Sessions() parley.SessionStore { return &Sessions{s: s} }

// tokenKey is what the sessions table stores for token.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// FindCtx returns the data of an unexpired session; found is false for an
// unknown or expired token. err is for database failures only.
func (ss *Sessions) FindCtx(ctx context.Context, token string) (b []byte, found bool, err error) {
	err = ss.s.rdb.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`,
		tokenKey(token), ss.s.now().UnixMilli()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, dbError("find session", err)
	}
	return b, true, nil
}

// CommitCtx saves a session's data and expiry, replacing what was there.
func (ss *Sessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, tokenKey(token), b, ms(expiry))
	return dbError("save session", err)
}

// DeleteCtx removes a session; an unknown token is not an error.
func (ss *Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, tokenKey(token))
	return dbError("delete session", err)
}

// AllCtx returns every unexpired session's data by the SHA-256 of its
// token (tokens are not stored; an empty map when there are none), so
// scs's Iterate cannot be used on this store.
func (ss *Sessions) AllCtx(ctx context.Context) (map[string][]byte, error) {
	rows, err := ss.s.rdb.QueryContext(ctx, `SELECT token, data FROM sessions WHERE expiry > ?`, ss.s.now().UnixMilli())
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
	return out, rows.Err()
}

// DeleteExpired removes expired sessions and returns how many.
func (ss *Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := ss.s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, ss.s.now().UnixMilli())
	if err != nil {
		return 0, dbError("delete expired sessions", err)
	}
	return res.RowsAffected()
}

// Find implements scs.Store.
func (ss *Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss *Sessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss *Sessions) Delete(token string) error { return ss.DeleteCtx(context.Background(), token) }

// All implements scs.IterableStore.
func (ss *Sessions) All() (map[string][]byte, error) { return ss.AllCtx(context.Background()) }
