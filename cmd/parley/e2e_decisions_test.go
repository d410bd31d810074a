package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameDecisionsFromCLIAndDiscord drives one scenario from the CLI and
// a Discord button of a running 'parley run': both go through the one
// decision service, so the second to act on a draft is told who was first,
// whichever front each used, and nothing is decided twice.
func TestSameDecisionsFromCLIAndDiscord(t *testing.T) {
	g := newDiscordGuild(t)
	fake, brand, guild, staff, staffRole := g.fake, g.brand, g.guild, g.staff, g.staffRole
	run, db := g.start(t, discordRun{staff: true, rules: sorryRule})
	errb := &run.errb

	for i, name := range []string{"ana", "ben"} {
		u := &discordgo.User{ID: fmt.Sprintf("30000000000000001%d", i), Username: name, GlobalName: name, Discriminator: "0"}
		fake.InjectMessage(&discordgo.Message{ChannelID: brand, GuildID: guild, Author: u,
			Content: "my tidewater wheels arrived broken, this is awful"})
	}
	var staffMsgs []*discordgo.Message
	require.Eventually(t, func() bool {
		staffMsgs = fake.Messages(staff)
		return len(staffMsgs) == 2
	}, patience, 50*time.Millisecond, "staff messages; stderr: %s", errb)
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
	require.Eventually(t, func() bool { return len(in.Followups()) > 0 }, patience, 20*time.Millisecond)
	assert.Contains(t, in.Followups()[0].Content, fmt.Sprintf("draft %d is already approved by tester", a))

	// The button first, then the CLI: the CLI is told who was first.
	in, err = fake.Click(msgOf[b].ID, fmt.Sprintf("parley:reject:%d", b), staffer)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		r := parleyRun(t, "", "queue", "show", fmt.Sprint(b), "--json", "--db", db)
		return strings.Contains(r.stdout, `"state":"rejected"`)
	}, patience, 20*time.Millisecond)
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(b), "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, fmt.Sprintf("draft %d is already rejected by discord:maria", b))

	run.stop(t)
}
