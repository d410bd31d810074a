package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigUndoGrace(t *testing.T) {
	parse := func(y string) (*Config, error) {
		return ParseConfig("c.yaml", []byte("brand: {name: X}\n"+y), func(string) string { return "" })
	}
	cfg, err := parse("")
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, cfg.undoGrace(), "the default")
	cfg, err = parse("outbox:\n  undo_grace: 3s\n")
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cfg.undoGrace())
	cfg, err = parse("outbox:\n  undo_grace: 0s\n")
	require.NoError(t, err)
	assert.Zero(t, cfg.undoGrace(), "0 disables undo")
	_, err = parse("outbox:\n  undo_grace: -1s\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "c.yaml:3: outbox.undo_grace -1s")
	_, err = parse("outbox:\n  undo_grace: soon\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "c.yaml:3:")
}
