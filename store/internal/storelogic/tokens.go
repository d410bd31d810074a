package storelogic

import (
	"github.com/parleybot/parley"
)

// CheckNewToken refuses what no store should keep as an API token: a bad
// name, an unknown role, or a hash that is not a hex SHA-256.
func CheckNewToken(name string, role parley.Role, hash string) error {
	if err := parley.CheckUserName(name); err != nil {
		return parley.Errorf(parley.EINVALID, "token name: %w", err)
	}
	if _, err := parley.ParseRole(string(role)); err != nil {
		return err
	}
	if len(hash) != 64 {
		return parley.Errorf(parley.EINVALID, "token %s: the hash is not a hex SHA-256 (parley.TokenHash)", name)
	}
	return nil
}
