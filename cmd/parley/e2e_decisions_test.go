package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/parleybot/parley/connectors/discord/discordtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameDecisionsFromCLIAndDiscord drives one scenario from the CLI and
// a Discord button of a running 'parley run': both go through the one
// decision service, so the second to act on a draft is told who was first,
// whichever front each used, and nothing is decided twice.
func TestSameDecisionsFromCLIAndDiscord(t *testing.T) {
	const (
		guild, brand, staff, staffRole = "300000000000000001", "300000000000000002", "300000000000000003", "300000000000000004"
	)
	fake := discordtest.New(t)
	fake.AddGuild(&discordgo.Guild{ID: guild, Name: "Tidewater Crew", Roles: []*discordgo.Role{{ID: staffRole, Name: "Staff"}}})
	fake.AddChannel(&discordgo.Channel{ID: brand, GuildID: guild, Name: "general", Type: discordgo.ChannelTypeGuildText}, false)
	fake.AddChannel(&discordgo.Channel{ID: staff, GuildID: guild, Name: "staff", Type: discordgo.ChannelTypeGuildText}, false)
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  discord:
    token_env: PARLEY_TEST_DISCORD_TOKEN
    guilds: ["%s"]
    channels: ["%s"]
    keywords: [tidewater]
    staff_channel: "%s"
    staff_roles: ["%s"]
    api_url: %s
rules:
  - name: sorry
    when: sentiment.label == "negative"
    reply: "Sorry {{first .Person}}, DM us your order number."
`, guild, brand, staff, staffRole, fake.URL))
	env := map[string]string{"PARLEY_TEST_DISCORD_TOKEN": fake.Token, "USER": "tester"}
	run := startRun(t, env, cfg, db)
	errb, done, cancel := &run.errb, run.done, run.cancel
	require.Eventually(t, fake.Connected, 20*time.Second, 10*time.Millisecond, "stderr: %s", errb)

	for i, name := range []string{"ana", "ben"} {
		u := &discordgo.User{ID: fmt.Sprintf("30000000000000001%d", i), Username: name, GlobalName: name, Discriminator: "0"}
		fake.InjectMessage(&discordgo.Message{ChannelID: brand, GuildID: guild, Author: u,
			Content: "my tidewater wheels arrived broken, this is awful"})
	}
	var staffMsgs []*discordgo.Message
	require.Eventually(t, func() bool {
		staffMsgs = fake.Messages(staff)
		return len(staffMsgs) == 2
	}, 30*time.Second, 50*time.Millisecond, "staff messages; stderr: %s", errb)
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db)
	var list []struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 2)
	// The staff channel shows the drafts in the order they were made.
	a, b := min(list[0].ID, list[1].ID), max(list[0].ID, list[1].ID)
	msgOf := map[int64]*discordgo.Message{a: staffMsgs[0], b: staffMsgs[1]}
	staffer := &discordgo.Member{User: &discordgo.User{ID: "300000000000000020", Username: "maria"}, Roles: []string{staffRole}}

	// The CLI first, then the button: the button is told who was first.
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(a), "--text", "", "--db", db)
	assert.Equal(t, 1, r.code, "a blank text is refused")
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(a), "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	in, err := fake.Click(msgOf[a].ID, fmt.Sprintf("parley:approve:%d", a), staffer)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(in.Followups()) > 0 }, 10*time.Second, 20*time.Millisecond)
	assert.Contains(t, in.Followups()[0].Content, fmt.Sprintf("draft %d is already approved by tester", a))

	// The button first, then the CLI: the CLI is told who was first.
	in, err = fake.Click(msgOf[b].ID, fmt.Sprintf("parley:reject:%d", b), staffer)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r := parleyRun(t, "", "queue", "show", fmt.Sprint(b), "--json", "--db", db)
		return strings.Contains(r.stdout, `"state":"rejected"`)
	}, 10*time.Second, 20*time.Millisecond)
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(b), "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, fmt.Sprintf("draft %d is already rejected by discord:maria", b))

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, 0, code, errb.String())
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}
