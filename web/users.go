package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/parleybot/parley"
)

// Password rules. bcrypt reads at most 72 bytes.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 72
)

// CheckPassword returns an EINVALID error saying what is wrong with a new
// password, or nil.
func CheckPassword(password string) error {
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLength:
		return parley.Errorf(parley.EINVALID, "the password is %d characters long: use at least %d", n, MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return parley.Errorf(parley.EINVALID, "the password is longer than %d bytes: use a shorter one", MaxPasswordLength)
	}
	return nil
}

// HashPassword checks password (CheckPassword) and returns its bcrypt hash
// at bcrypt's default cost.
func HashPassword(password string) (string, error) {
	return hashPassword(password, bcrypt.DefaultCost)
}

func hashPassword(password string, cost int) (string, error) {
	if err := CheckPassword(password); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// passwordMatches reports whether password is the one hashed in hash.
func passwordMatches(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// dummyHashes hold, by bcrypt cost, the hash compared against when the
// user does not exist, so a failed login takes as long whether or not the
// name is known. Each is made on first use.
var dummyHashes sync.Map // int -> string

// dummyHash returns the dummy hash at cost (0 is bcrypt's default), the
// cost of the server's real hashes.
func dummyHash(cost int) string {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if h, ok := dummyHashes.Load(cost); ok {
		return h.(string)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("parley-no-such-user"), cost)
	v, _ := dummyHashes.LoadOrStore(cost, string(h))
	return v.(string)
}

// GeneratePassword returns a random password of 20 characters from an
// alphabet without look-alikes (about 110 bits).
func GeneratePassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // crypto/rand does not fail on supported systems
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b)
}

// AddUser creates a user with a password (checked and hashed here). An
// empty password is generated and returned, to be shown once. Errors as
// parley.UserStore.CreateUser, and EINVALID for a weak password.
func AddUser(ctx context.Context, st parley.UserStore, name string, role parley.Role, password string) (string, error) {
	if password == "" {
		password = GeneratePassword()
	}
	h, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	if _, err := st.CreateUser(ctx, name, role, h); err != nil {
		return "", err
	}
	return password, nil
}

// SetPassword replaces a user's password (checked and hashed here); an
// empty password is generated and returned. Their open sessions end.
// Errors: ENOTFOUND for no such user; EINVALID for a weak password.
func SetPassword(ctx context.Context, st parley.UserStore, name, password string) (string, error) {
	if password == "" {
		password = GeneratePassword()
	}
	h, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	if err := st.SetUserPassword(ctx, name, h); err != nil {
		return "", err
	}
	return password, nil
}

// EnsureDemoUser makes sure an admin named name exists with a fresh random
// password and returns that password, for `parley demo` to print. An
// existing user of that name gets the new password (and admin role).
func EnsureDemoUser(ctx context.Context, st parley.UserStore, name string) (string, error) {
	password := GeneratePassword()
	h, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	_, err = st.CreateUser(ctx, name, parley.RoleAdmin, h)
	if parley.ErrorCode(err) == parley.ECONFLICT {
		if err := st.SetUserPassword(ctx, name, h); err != nil {
			return "", err
		}
		err = st.SetUserRole(ctx, name, parley.RoleAdmin)
	}
	if err != nil {
		return "", fmt.Errorf("demo user %s: %w", name, err)
	}
	return password, nil
}
