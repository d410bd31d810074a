package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func testAPITokens(t *testing.T, st Store) {
	ctx := context.Background()
	tokens, err := st.Tokens(ctx)
	require.NoError(t, err)
	assert.NotNil(t, tokens, "none is an empty list")
	assert.Empty(t, tokens)

	secret, hash := parley.NewTokenSecret()
	assert.True(t, parley.LooksLikeToken(secret), secret)
	ci, err := st.CreateToken(ctx, "CI", parley.RoleAgent, hash, "ana")
	require.NoError(t, err)
	assert.Equal(t, "CI", ci.Name)
	assert.Equal(t, parley.RoleAgent, ci.Role)
	assert.Equal(t, "ana", ci.CreatedBy)
	assert.False(t, ci.CreatedAt.IsZero())
	assert.True(t, ci.LastUsedAt.IsZero(), "never used")

	_, other := parley.NewTokenSecret()
	_, err = st.CreateToken(ctx, "ci", parley.RoleAdmin, other, "ana")
	assert.Equal(t, parley.ECONFLICT, parley.ErrorCode(err), "names are case-insensitive")
	_, err = st.CreateToken(ctx, "bad name", parley.RoleAgent, other, "ana")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = st.CreateToken(ctx, "crm", parley.Role("owner"), other, "ana")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = st.CreateToken(ctx, "crm", parley.RoleAgent, "not-a-hash", "ana")
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = st.CreateToken(ctx, "crm", parley.RoleManager, other, "")
	require.NoError(t, err)

	got, err := st.TokenByHash(ctx, parley.TokenHash(secret))
	require.NoError(t, err)
	assert.Equal(t, ci.ID, got.ID)
	_, err = st.TokenByHash(ctx, parley.TokenHash("pk_unknown"))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))

	used := t0.Add(time.Hour)
	require.NoError(t, st.TouchToken(ctx, ci.ID, used))
	require.NoError(t, st.TouchToken(ctx, ci.ID, used.Add(-time.Minute)), "an earlier use changes nothing")
	require.NoError(t, st.TouchToken(ctx, 999999, used), "an unknown token is no error")
	tokens, err = st.Tokens(ctx)
	require.NoError(t, err)
	require.Len(t, tokens, 2)
	assert.Equal(t, "CI", tokens[0].Name, "by name")
	assert.Equal(t, "crm", tokens[1].Name)
	assert.True(t, used.Equal(tokens[0].LastUsedAt), "last use %v", tokens[0].LastUsedAt)
	assert.True(t, tokens[1].LastUsedAt.IsZero())

	require.NoError(t, st.RevokeToken(ctx, "ci"))
	_, err = st.TokenByHash(ctx, parley.TokenHash(secret))
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err), "a revoked token is gone at once")
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(st.RevokeToken(ctx, "ci")))
	_, err = st.CreateToken(ctx, "ci", parley.RoleAgent, hash+"", "ana")
	require.NoError(t, err, "a revoked token's name and hash are free again")
}

func testExportAfterID(t *testing.T, st Store) {
	ctx := context.Background()
	ingest(t, st, nil, mention("1", "ana", "one", 0), mention("2", "bo", "two", 1), mention("3", "cy", "three", 2))
	var all []int64
	require.NoError(t, st.ExportMentions(ctx, parley.ExportFilter{}, func(m parley.Mention) error {
		all = append(all, m.ID)
		return nil
	}))
	require.Len(t, all, 3)
	var rest []int64
	require.NoError(t, st.ExportMentions(ctx, parley.ExportFilter{AfterID: all[0]}, func(m parley.Mention) error {
		rest = append(rest, m.ID)
		return nil
	}))
	assert.Equal(t, all[1:], rest, "a page goes on after the last id")
}
