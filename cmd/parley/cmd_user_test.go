package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

func TestUserCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "parley.db")

	r := parleyRun(t, "", "user", "add", "ana", "--role", "manager", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "user ana added as manager")
	pw, ok := strings.CutPrefix(lastLine(r.stdout), "password: ")
	require.True(t, ok, r.stdout)
	assert.Len(t, pw, 20, "a generated password")
	assert.Contains(t, r.stderr, "shown once")

	r = parleyRun(t, "a chosen password\n", "user", "add", "bo", "--role", "agent", "--password-stdin", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "password:", "a given password is not printed")

	r = parleyRun(t, "short\n", "user", "add", "cy", "--role", "agent", "--password-stdin", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "at least 10")
	r = parleyRun(t, "", "user", "add", "cy", "--role", "agent", "--password-stdin", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "standard input is empty")
	r = parleyRun(t, "", "user", "add", "ANA", "--role", "agent", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already exists")
	r = parleyRun(t, "", "user", "add", "dee", "--db", db)
	assert.Equal(t, 2, r.code, "no role is a usage error")
	assert.Contains(t, r.stderr, "--role")
	r = parleyRun(t, "", "user", "add", "dee", "--role", "owner", "--db", db)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "want admin, manager or agent")
	r = parleyRun(t, "", "user", "add", "bad name", "--role", "agent", "--db", db)
	assert.Equal(t, 2, r.code)
	r = parleyRun(t, "", "user", "frobnicate", "--db", db)
	assert.Equal(t, 2, r.code)

	r = parleyRun(t, "", "user", "list", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "NAME")
	assert.Regexp(t, `(?m)^ana\s+manager\s+never`, r.stdout)
	assert.Regexp(t, `(?m)^bo\s+agent`, r.stdout)
	assert.NotContains(t, r.stdout, "$2a$", "no hashes")

	r = parleyRun(t, "", "user", "list", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var users []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &users))
	require.Len(t, users, 2)
	assert.Equal(t, "ana", users[0]["name"])
	assert.NotContains(t, r.stdout, "hash")

	r = parleyRun(t, "another good password\n", "user", "passwd", "bo", "--password-stdin", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sessions have ended")
	r = parleyRun(t, "", "user", "passwd", "nobody", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `no user named "nobody"`)

	// The passwords really are the ones stored.
	st := storetest.Open(t, storetest.Path(db))
	ana, err := st.User(context.Background(), "ana")
	require.NoError(t, err)
	bo, err := st.User(context.Background(), "bo")
	require.NoError(t, err)
	entries, err := st.AuditEntries(context.Background(), parley.AuditFilter{Actor: "tester"})
	require.NoError(t, err)
	st.Close()
	assert.True(t, bcryptOK(ana.PasswordHash, pw))
	assert.True(t, bcryptOK(bo.PasswordHash, "another good password"))
	assert.Len(t, entries, 3, "adds and password changes are in the activity log")

	r = parleyRun(t, "", "user", "remove", "bo", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no admin is left")
	r = parleyRun(t, "", "user", "remove", "bo", "--db", db)
	assert.Equal(t, 1, r.code)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func bcryptOK(hash, password string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}
