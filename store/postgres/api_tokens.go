package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/internal/storelogic"
)

const accessRowCols = `id, name, role, created_by, created_at, last_used_at`

func scanToken(row pgx.Row) (parley.APIToken, error) {
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
	t, err := scanToken(s.pool.QueryRow(ctx, `INSERT INTO api_tokens (name, role, hash, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+accessRowCols, name, string(role), hash, createdBy, s.now().UnixMilli()))
	if isUniqueViolation(err) {
		return parley.APIToken{}, parley.Errorf(parley.ECONFLICT, "a token named %s already exists", name)
	}
	return t, dbError("create token "+name, err)
}

// Tokens implements parley.TokenStore.
func (s *Store) Tokens(ctx context.Context) ([]parley.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accessRowCols+` FROM api_tokens ORDER BY lower(name)`)
	if err != nil {
		return nil, dbError("list tokens", err)
	}
	out, err := collect(rows, scanToken)
	if out == nil && err == nil {
		out = []parley.APIToken{}
	}
	return out, err
}

// TokenByHash implements parley.TokenStore.
func (s *Store) TokenByHash(ctx context.Context, hash string) (parley.APIToken, error) {
	t, err := scanToken(s.pool.QueryRow(ctx, `SELECT `+accessRowCols+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		return t, notFound(err, "no such API token (unknown or revoked)")
	}
	return t, nil
}

// RevokeToken implements parley.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_tokens WHERE lower(name) = lower($1)`, name)
	if err != nil {
		return dbError("revoke token "+name, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "no token named %q", name)
	}
	return nil
}

// TouchToken implements parley.TokenStore.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1`, ms(at), id)
	return dbError("record token use", err)
}
