package main

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/connectors/discord/discordtest"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

func TestCheckConnectAgainstTheFakes(t *testing.T) {
	const guild, brand, staff, role = "300000000000000001", "300000000000000002", "300000000000000003", "300000000000000004"
	masto := mastodontest.NewServer(t)
	disc := discordtest.New(t)
	disc.AddGuild(&discordgo.Guild{ID: guild, Name: "Crew", Roles: []*discordgo.Role{{ID: role, Name: "Staff"}}})
	disc.AddChannel(&discordgo.Channel{ID: brand, GuildID: guild, Name: "general", Type: discordgo.ChannelTypeGuildText}, false)
	disc.AddChannel(&discordgo.Channel{ID: staff, GuildID: guild, Name: "staff", Type: discordgo.ChannelTypeGuildText}, false)
	config := func(channel string) string {
		return writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Acme}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_MASTODON_TOKEN
  discord:
    token_env: PARLEY_DISCORD_TOKEN
    channels: ["%s"]
    staff_channel: "%s"
    staff_roles: ["%s"]
    api_url: %s
`, masto.URL, channel, staff, role, disc.URL))
	}
	env := map[string]string{"PARLEY_MASTODON_TOKEN": mastodontest.Token, "PARLEY_DISCORD_TOKEN": disc.Token}
	r := parleyEnv(t, env, "check", "--connect", "--config", config(brand))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `mastodon:.*: ok +logged in as @`, r.stdout)
	assert.Contains(t, r.stdout, "posts up to")
	assert.Regexp(t, `discord: ok +logged in as bot `, r.stdout)
	assert.Contains(t, r.stdout, "discord: ok      channel #general ("+brand+") readable")
	assert.Contains(t, r.stdout, "discord: ok      staff channel #staff ("+staff+") readable")
	// Nothing was posted.
	assert.Empty(t, masto.Posts())
	assert.Zero(t, masto.CountRequests(http.MethodPost, "/api/v1/statuses"))
	assert.Empty(t, disc.Messages(brand))
	assert.Empty(t, disc.Messages(staff))

	// A bad token and an unknown channel fail, and say where.
	bad := map[string]string{"PARLEY_MASTODON_TOKEN": "wrong", "PARLEY_DISCORD_TOKEN": disc.Token}
	r = parleyEnv(t, bad, "check", "--connect", "--config", config("300000000000000099"))
	assert.Equal(t, 1, r.code)
	assert.Regexp(t, `mastodon:.*: FAILED`, r.stdout)
	assert.Contains(t, r.stdout, "discord: FAILED  channel 300000000000000099: the bot cannot see it")
	assert.Contains(t, r.stderr, "2 connectors could not connect")
}
