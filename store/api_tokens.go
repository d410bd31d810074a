package store

import (
	"context"
	"fmt"
	"time"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const accessRowCols = `id, name, role, created_by, created_at, last_used_at`

func scanToken(row scanner) (parley.APIToken, error) {
	var t parley.APIToken
	var role string
	var created, used int64
	if err := row.Scan(&t.ID, &t.Name, &role, &t.CreatedBy, &created, &used); err != nil {
		return t, err
	}
	t.Role = parley.Role(role)
	t.CreatedAt, t.LastUsedAt = fromMS(created), fromMS(used)
	return t, nil
}

// CreateToken implements parley.TokenStore.
func (s *Store) CreateToken(ctx context.Context, name string, role parley.Role, hash, createdBy string) (parley.APIToken, error) {
	if err := storelogic.CheckNewToken(name, role, hash); err != nil {
		return parley.APIToken{}, err
	}
	t, err := scanToken(s.db.QueryRowContext(ctx, `INSERT INTO api_tokens (name, role, hash, created_by, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING `+accessRowCols, name, string(role), hash, createdBy, s.now().UnixMilli()))
	if isUniqueViolation(err) {
		return parley.APIToken{}, parley.Errorf(parley.ECONFLICT, "a token named %s already exists", name)
	}
	return t, dbError("create token "+name, err)
}

// Tokens implements parley.TokenStore.
func (s *Store) Tokens(ctx context.Context) ([]parley.APIToken, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+accessRowCols+` FROM api_tokens ORDER BY name`)
	if err != nil {
		return nil, dbError("list tokens", err)
	}
	defer rows.Close()
	out := []parley.APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, dbError("list tokens", rows.Err())
}

// TokenByHash implements parley.TokenStore.
func (s *Store) TokenByHash(ctx context.Context, hash string) (parley.APIToken, error) {
	t, err := scanToken(s.rdb.QueryRowContext(ctx, `SELECT `+accessRowCols+` FROM api_tokens WHERE hash = ?`, hash))
	if err != nil {
		return t, notFound(err, "no such API token (unknown or revoked)")
	}
	return t, nil
}

// RevokeToken implements parley.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE name = ?`, name)
	if err != nil {
		return dbError("revoke token "+name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return parley.Errorf(parley.ENOTFOUND, "no token named %q", name)
	}
	return nil
}

// TouchToken implements parley.TokenStore.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND last_used_at < ?`, ms(at), id, ms(at))
	return dbError("record token use", err)
}
