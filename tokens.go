package parley

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so a token pasted where it should
// not be (a chat, a repository) is recognisable to people and scanners.
const TokenPrefix = "pk_"

// APIToken is a bearer token for the REST API (/api/v1). The store keeps
// only the SHA-256 of the token (TokenHash): the token itself is shown
// once, when it is made.
type APIToken struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// Role is what the token may do, as a user with that role.
	Role      Role      `json:"role"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsedAt is when it was last used, to about a minute (zero:
	// never).
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Actor is the name the audit log records the token's actions under.
func (t APIToken) Actor() string { return "token:" + t.Name }

// NewTokenSecret returns a new API token: TokenPrefix and 32 random bytes
// (base64url), and the hash a store keeps of it.
func NewTokenSecret() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails on supported systems (crypto/rand)
	token = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token)
}

// TokenHash is what a store keeps of a token: the hex SHA-256 of it. A
// hash is enough: the token is 256 random bits, nothing to guess.
func TokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// LooksLikeToken reports whether s has the shape of an API token, so a
// password or a session id sent as a bearer token is refused without a
// database look-up.
func LooksLikeToken(s string) bool {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	return ok && len(rest) == 43
}

// TokenStore keeps API tokens, by their hash. Token names are
// case-insensitive, like user names (CheckUserName).
type TokenStore interface {
	// CreateToken stores a token's hash (TokenHash) under name with role.
	// Errors: EINVALID for a bad name (CheckUserName), role or hash;
	// ECONFLICT when the name is taken.
	CreateToken(ctx context.Context, name string, role Role, hash, createdBy string) (APIToken, error)
	// Tokens returns every token, by name; none is an empty list.
	Tokens(ctx context.Context) ([]APIToken, error)
	// TokenByHash returns the token whose hash is hash; ENOTFOUND if none
	// (an unknown or revoked token).
	TokenByHash(ctx context.Context, hash string) (APIToken, error)
	// RevokeToken deletes the token named name, at once: it no longer
	// authorises anything. ENOTFOUND if there is none.
	RevokeToken(ctx context.Context, name string) error
	// TouchToken records that the token id was used at at (a later time
	// only: an earlier at changes nothing). An unknown id is no error.
	TouchToken(ctx context.Context, id int64, at time.Time) error
}
