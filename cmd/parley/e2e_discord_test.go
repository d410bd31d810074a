package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunWithDiscordApproveClickPostsOnce runs the whole product on Discord:
// parley run with a Discord section listens, posts drafts to the staff
// channel, and an Approve click posts the reply exactly once.
func TestRunWithDiscordApproveClickPostsOnce(t *testing.T) {
	g := newDiscordGuild(t)
	fake, brand, guild, staff, staffRole := g.fake, g.brand, g.guild, g.staff, g.staffRole
	run, db := g.start(t, discordRun{staff: true, rules: sorryRule})
	errb := &run.errb

	ana := &discordgo.User{ID: "200000000000000010", Username: "ana", GlobalName: "Ana", Discriminator: "0"}
	orig := fake.InjectMessage(&discordgo.Message{ChannelID: brand, GuildID: guild, Author: ana,
		Content: "my tidewater wheels arrived broken, this is awful"})

	// The draft appears in the staff channel with buttons.
	var staffMsg *discordgo.Message
	require.Eventually(t, func() bool {
		ms := fake.Messages(staff)
		if len(ms) > 0 {
			staffMsg = ms[0]
		}
		return len(ms) > 0
	}, patience, 50*time.Millisecond, "no staff message; stderr: %s", errb)
	d := pendingDraft(t, db)

	staffer := &discordgo.Member{User: &discordgo.User{ID: "200000000000000020", Username: "maria"}, Roles: []string{staffRole}}
	_, err := fake.Click(staffMsg.ID, fmt.Sprintf("parley:approve:%d", d), staffer)
	require.NoError(t, err)

	replies := func() (n int, text string) {
		for _, m := range fake.Messages(brand) {
			if m.MessageReference != nil && m.MessageReference.MessageID == orig.ID {
				n++
				text = m.Content
			}
		}
		return n, text
	}
	require.Eventually(t, func() bool { n, _ := replies(); return n == 1 }, patience, 50*time.Millisecond,
		"no reply; stderr: %s", errb)
	require.Eventually(t, func() bool { return stats(t, db).Drafts[parley.DraftSent] == 1 }, patience, 20*time.Millisecond)
	r := parleyRun(t, "", "queue", "show", fmt.Sprint(d), "--db", db)
	assert.Contains(t, r.stdout, "[sent]")

	run.stop(t)
	n, text := replies()
	assert.Equal(t, 1, n, "exactly once")
	assert.Equal(t, "Sorry Ana, DM us your order number.", text)
}

func pendingDraft(t *testing.T, db string) int64 {
	t.Helper()
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	return list[0].ID
}
