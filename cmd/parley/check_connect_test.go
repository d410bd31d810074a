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

// checkFakes is a Mastodon server and a Discord server set up as a real
// deployment would be: @everyone reads and writes the brand channel, the
// staff channel is hidden from @everyone and open to the Staff role, and
// the bot's own role may embed links.
type checkFakes struct {
	masto *mastodontest.Server
	disc  *discordtest.Server
	guild *discordgo.Guild
	staff *discordgo.Channel
}

const (
	ckGuild, ckBrand, ckStaff, ckStaffRole, ckBotRole = "300000000000000001", "300000000000000002", "300000000000000003",
		"300000000000000004", "300000000000000005"
)

func newCheckFakes(t *testing.T) *checkFakes {
	f := &checkFakes{masto: mastodontest.NewServer(t), disc: discordtest.New(t)}
	base := int64(discordgo.PermissionViewChannel) | discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory
	f.guild = &discordgo.Guild{ID: ckGuild, Name: "Crew", OwnerID: "1", Roles: []*discordgo.Role{
		{ID: ckGuild, Name: "@everyone", Permissions: base},
		{ID: ckStaffRole, Name: "Staff"},
		{ID: ckBotRole, Name: "Parley", Permissions: discordgo.PermissionEmbedLinks},
	}}
	f.disc.AddGuild(f.guild)
	f.disc.SetBotRoles(ckGuild, ckStaffRole, ckBotRole)
	f.disc.AddChannel(&discordgo.Channel{ID: ckBrand, GuildID: ckGuild, Name: "general", Type: discordgo.ChannelTypeGuildText}, false)
	f.staff = &discordgo.Channel{ID: ckStaff, GuildID: ckGuild, Name: "staff", Type: discordgo.ChannelTypeGuildText,
		PermissionOverwrites: []*discordgo.PermissionOverwrite{
			{ID: ckGuild, Type: discordgo.PermissionOverwriteTypeRole, Deny: discordgo.PermissionViewChannel},
			{ID: ckStaffRole, Type: discordgo.PermissionOverwriteTypeRole, Allow: discordgo.PermissionViewChannel},
		}}
	f.disc.AddChannel(f.staff, false)
	return f
}

func (f *checkFakes) config(t *testing.T, channel string) string {
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
`, f.masto.URL, channel, ckStaff, ckStaffRole, f.disc.URL))
}

func (f *checkFakes) env() map[string]string {
	return map[string]string{"PARLEY_MASTODON_TOKEN": mastodontest.Token, "PARLEY_DISCORD_TOKEN": f.disc.Token}
}

func TestCheckConnectAgainstTheFakes(t *testing.T) {
	f := newCheckFakes(t)
	r := parleyEnv(t, f.env(), "check", "--connect", "--config", f.config(t, ckBrand))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `mastodon:.*: ok +logged in as @`, r.stdout)
	assert.Contains(t, r.stdout, "posts up to")
	assert.Regexp(t, `mastodon:.*: ok +application "Parley" has the scopes Parley needs \(read write\)`, r.stdout)
	assert.Regexp(t, `mastodon:.*: ok +streaming reachable at ws://`, r.stdout)
	assert.Regexp(t, `discord: ok +logged in as bot `, r.stdout)
	assert.Contains(t, r.stdout, "discord: ok      message content intent enabled")
	assert.Contains(t, r.stdout, "discord: ok      in 1 server(s): Crew")
	assert.Contains(t, r.stdout, "discord: ok      channel #general ("+ckBrand+") readable, with View Channel, Send Messages, Read Message History")
	assert.Contains(t, r.stdout, "discord: ok      staff channel #staff ("+ckStaff+") readable, with View Channel, Send Messages, Embed Links, Read Message History")
	// Nothing was posted, and the stream was opened once and closed.
	assert.Empty(t, f.masto.Posts())
	assert.Zero(t, f.masto.CountRequests(http.MethodPost, "/api/v1/statuses"))
	assert.Equal(t, 1, f.masto.CountRequests(http.MethodGet, "/api/v1/streaming"))
	assert.Empty(t, f.disc.Messages(ckBrand))
	assert.Empty(t, f.disc.Messages(ckStaff))

	// A bad token and an unknown channel fail, and say where.
	bad := map[string]string{"PARLEY_MASTODON_TOKEN": "wrong", "PARLEY_DISCORD_TOKEN": f.disc.Token}
	r = parleyEnv(t, bad, "check", "--connect", "--config", f.config(t, "300000000000000099"))
	assert.Equal(t, 1, r.code)
	assert.Regexp(t, `mastodon:.*: FAILED`, r.stdout)
	assert.Contains(t, r.stdout, "discord: FAILED  channel 300000000000000099: the bot cannot see it")
	assert.Contains(t, r.stderr, "2 connectors could not connect")
}

func TestCheckConnectSaysWhatIsMissing(t *testing.T) {
	f := newCheckFakes(t)
	f.masto.SetScopes("read")
	f.masto.SetStreaming(false)
	f.disc.SetAppFlags(0)
	g := *f.guild
	g.Roles = []*discordgo.Role{g.Roles[0], g.Roles[1], {ID: ckBotRole, Name: "Parley"}} // no more Embed Links
	f.disc.AddGuild(&g)
	staff := *f.staff
	staff.PermissionOverwrites = append(staff.PermissionOverwrites[:2:2], &discordgo.PermissionOverwrite{
		ID: f.disc.Bot.ID, Type: discordgo.PermissionOverwriteTypeMember, Deny: discordgo.PermissionReadMessageHistory})
	f.disc.AddChannel(&staff, false)
	r := parleyEnv(t, f.env(), "check", "--connect", "--config", f.config(t, ckBrand))
	assert.Equal(t, 1, r.code, r.stdout+r.stderr)
	assert.Regexp(t, `mastodon:.*: FAILED  application "Parley" has scopes "read" but lacks write:statuses: log in again`, r.stdout)
	assert.Regexp(t, `mastodon:.*: FAILED  streaming: .*503.* \(Parley would poll every`, r.stdout)
	assert.Contains(t, r.stdout, "discord: FAILED  the message content intent is off")
	assert.Contains(t, r.stdout, "discord: ok      channel #general")
	assert.Contains(t, r.stdout, "discord: FAILED  staff channel #staff ("+ckStaff+"): the bot lacks Embed Links, Read Message History there")

	// The staff channel hidden from the bot too: Discord answers 403.
	f.disc.SetBotRoles(ckGuild, ckBotRole)
	r = parleyEnv(t, f.env(), "check", "--connect", "--config", f.config(t, ckBrand))
	assert.Contains(t, r.stdout, "discord: FAILED  staff channel "+ckStaff+": the bot cannot see it")

	// A server before Mastodon 4.3 lists no scopes: said, not failed.
	f.masto.SetScopes()
	f.masto.SetStreaming(true)
	f.disc.SetAppFlags(1 << 19)
	f.disc.SetBotRoles(ckGuild, ckStaffRole, ckBotRole)
	f.disc.AddChannel(f.staff, false)
	f.disc.AddGuild(f.guild)
	r = parleyEnv(t, f.env(), "check", "--connect", "--config", f.config(t, ckBrand))
	assert.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, `application "Parley": the server does not list its scopes (Mastodon before 4.3)`)
}
