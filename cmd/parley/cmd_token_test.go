package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/store/storetest"
)

func TestTokenCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "parley.db")

	r := parleyRun(t, "", "token", "add", "crm", "--role", "agent", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "token crm added as agent")
	secret, ok := strings.CutPrefix(lastLine(r.stdout), "token: ")
	require.True(t, ok, r.stdout)
	assert.True(t, parley.LooksLikeToken(secret), secret)
	assert.Contains(t, r.stderr, "shown once")

	r = parleyRun(t, "", "token", "add", "CRM", "--role", "manager", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already exists")
	r = parleyRun(t, "", "token", "add", "ops", "--db", db)
	assert.Equal(t, 2, r.code, "no role is a usage error")
	r = parleyRun(t, "", "token", "add", "ops", "--role", "owner", "--db", db)
	assert.Equal(t, 2, r.code)
	r = parleyRun(t, "", "token", "add", "ops", "--role", "manager", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)

	r = parleyRun(t, "", "token", "list", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `(?m)^NAME\s+ROLE\s+CREATED\s+LAST USED`, r.stdout)
	assert.Regexp(t, `(?m)^crm\s+agent\s+\d{4}-\d\d-\d\d\s+never$`, r.stdout)
	assert.Regexp(t, `(?m)^ops\s+manager`, r.stdout)
	assert.NotContains(t, r.stdout, secret)
	r = parleyRun(t, "", "token", "list", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var listed []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &listed))
	require.Len(t, listed, 2)
	assert.Equal(t, "crm", listed[0]["name"])
	assert.NotContains(t, r.stdout, parley.TokenHash(secret), "no hashes")

	// What was printed is what the store knows, by its hash only.
	st := storetest.Open(t, storetest.Path(db))
	ctx := context.Background()
	tok, err := st.TokenByHash(ctx, parley.TokenHash(secret))
	require.NoError(t, err)
	assert.Equal(t, "crm", tok.Name)
	require.NoError(t, st.Close())

	r = parleyRun(t, "", "token", "revoke", "crm", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "token crm revoked")
	r = parleyRun(t, "", "token", "revoke", "crm", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `no token named "crm"`)

	st = storetest.Open(t, storetest.Path(db))
	_, err = st.TokenByHash(ctx, parley.TokenHash(secret))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	entries, err := st.AuditEntries(ctx, parley.AuditFilter{Action: "token_revoke"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "crm (parley token)", entries[0].Detail)
}
