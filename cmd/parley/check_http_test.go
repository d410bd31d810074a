package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckWarnsAboutPlainHTTP: a plain http:// server for Mastodon or
// Discord is accepted with a warning, except on a loopback address.
func TestCheckWarnsAboutPlainHTTP(t *testing.T) {
	env := map[string]string{"PARLEY_MASTODON_TOKEN": "t1", "PARLEY_DISCORD_TOKEN": "t2"}
	cfg := writeFile(t, "p.yaml", `brand: {name: Acme}
connectors:
  mastodon:
    - server: http://mastodon.example
      token_env: PARLEY_MASTODON_TOKEN
  discord:
    token_env: PARLEY_DISCORD_TOKEN
    api_url: http://discord.example
`)
	r := parleyEnv(t, env, "check", "--config", cfg)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, cfg+": warning: connectors.mastodon.server: http://mastodon.example is plain HTTP")
	assert.Contains(t, r.stdout, cfg+": warning: connectors.discord.api_url: http://discord.example is plain HTTP")

	local := writeFile(t, "l.yaml", `brand: {name: Acme}
connectors:
  mastodon:
    - server: http://127.0.0.1:3000
      token_env: PARLEY_MASTODON_TOKEN
  discord:
    token_env: PARLEY_DISCORD_TOKEN
    api_url: http://localhost:8080
`)
	r = parleyEnv(t, env, "check", "--config", local)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.NotContains(t, r.stdout, "warning")
}
