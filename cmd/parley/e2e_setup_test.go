package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/connectors/discord/discordtest"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

// The end-to-end tests run 'parley run' in this process against a fake
// Discord or Mastodon server; this file sets up the servers and configs they
// share.

// patience bounds the waits for something that must happen (a process
// starts, a draft appears, a post is made): a liveness bound, not a speed
// target. The waits return as soon as the condition holds, so the bound is
// generous: a loaded CI machine with -race can take a minute to start a run.
const patience = 2 * time.Minute

// sorryRule drafts an apology to every negative mention.
const sorryRule = `rules:
  - name: sorry
    when: sentiment.label == "negative"
    reply: "Sorry {{first .Person}}, DM us your order number."
`

// Environment variables that hold the fake servers' tokens.
const (
	discordTokenEnv  = "PARLEY_TEST_DISCORD_TOKEN"
	mastodonTokenEnv = "PARLEY_TEST_MASTODON_TOKEN"
)

// discordGuild is a fake Discord with one guild: a brand channel Parley
// listens to, and a staff channel (with a staff role) where it posts drafts
// with buttons.
type discordGuild struct {
	fake                           *discordtest.Server
	guild, brand, staff, staffRole string
}

func newDiscordGuild(t *testing.T) *discordGuild {
	t.Helper()
	g := &discordGuild{fake: discordtest.New(t),
		guild: "200000000000000001", brand: "200000000000000002", staff: "200000000000000003", staffRole: "200000000000000004"}
	g.fake.AddGuild(&discordgo.Guild{ID: g.guild, Name: "Tidewater Crew", Roles: []*discordgo.Role{{ID: g.staffRole, Name: "Staff"}}})
	g.fake.AddChannel(&discordgo.Channel{ID: g.brand, GuildID: g.guild, Name: "general", Type: discordgo.ChannelTypeGuildText}, false)
	g.fake.AddChannel(&discordgo.Channel{ID: g.staff, GuildID: g.guild, Name: "staff", Type: discordgo.ChannelTypeGuildText}, false)
	return g
}

// discordRun is how a Discord end-to-end test runs Parley.
type discordRun struct {
	apiURL string // where REST calls go; the fake's own URL by default
	staff  bool   // post drafts to the staff channel
	rules  string // the config's rules section
}

// start writes a config for the guild, starts 'parley run' on it with a
// fresh database and waits until it is connected to the gateway.
func (g *discordGuild) start(t *testing.T, o discordRun) (run *inProcessRun, db string) {
	t.Helper()
	if o.apiURL == "" {
		o.apiURL = g.fake.URL
	}
	staff := ""
	if o.staff {
		staff = fmt.Sprintf("    staff_channel: %q\n    staff_roles: [%q]\n", g.staff, g.staffRole)
	}
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  discord:
    token_env: %s
    guilds: ["%s"]
    channels: ["%s"]
    keywords: [tidewater]
%s    api_url: %s
%s`, discordTokenEnv, g.guild, g.brand, staff, o.apiURL, o.rules))
	db = filepath.Join(t.TempDir(), "p.db")
	run = startRun(t, map[string]string{discordTokenEnv: g.fake.Token, "USER": "tester"}, cfg, db)
	require.Eventually(t, g.fake.Connected, patience, 10*time.Millisecond, "stderr: %s", &run.errb)
	return run, db
}

// startMastodonRun writes a config for the fake server with rules as its
// rules section, starts 'parley run' on it with a fresh database and waits
// until it runs.
func startMastodonRun(t *testing.T, srv *mastodontest.Server, rules string) (run *inProcessRun, db string) {
	t.Helper()
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: %s
      poll_interval: 10s
%s`, srv.URL, mastodonTokenEnv, rules))
	db = filepath.Join(t.TempDir(), "p.db")
	run = startRun(t, map[string]string{mastodonTokenEnv: mastodontest.Token, "USER": "tester"}, cfg, db)
	require.Eventually(t, func() bool { return strings.Contains(run.errb.String(), "parley running") }, patience,
		10*time.Millisecond, "stderr: %s", &run.errb)
	return run, db
}

// stop cancels the run and checks it ends cleanly.
func (r *inProcessRun) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		assert.Equal(t, 0, code, r.errb.String())
	case <-time.After(patience):
		t.Fatal("run did not stop")
	}
}

// searchHit is one row of 'parley conversations search --json'.
type searchHit struct {
	MentionID      int64  `json:"mention_id"`
	ExternalID     string `json:"external_id"`
	ConversationID int64  `json:"conversation_id"`
	Author         string `json:"author"`
}

// searchMentions runs 'parley conversations search QUERY' on db; a failed
// search finds nothing, so a caller waiting for a hit keeps waiting.
func searchMentions(t *testing.T, db, query string) []searchHit {
	t.Helper()
	r := parleyRun(t, "", "conversations", "search", query, "--json", "--db", db)
	var hits []searchHit
	_ = json.Unmarshal([]byte(r.stdout), &hits)
	return hits
}

// replyTo writes a reply to the mention in conversation c as ana and
// approves it, returning the draft's id.
func replyTo(t *testing.T, db string, c, mention int64, text string) int64 {
	t.Helper()
	r := parleyRun(t, "", "conversations", "reply", fmt.Sprint(c), "--to", fmt.Sprint(mention),
		"--text", text, "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	var draftID int64
	_, err := fmt.Sscanf(r.stdout, "draft %d", &draftID)
	require.NoError(t, err, r.stdout)
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(draftID), "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	return draftID
}
