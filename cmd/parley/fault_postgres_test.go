package main

// Fault tests on PostgreSQL: two real 'parley run' processes share one
// database; the one holding the connector leases dies mid-stream.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
	"github.com/parleybot/parley/store/storetest"
)

// pgCount runs a count query on the database; -1 when it cannot.
func pgCount(url, q string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return -1
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		return -1
	}
	return n
}

// connOwner returns the process among cs whose TCP connection comes from
// remoteAddr (a connection to this test process), by its socket's inode
// in /proc; nil when none.
func connOwner(t *testing.T, remoteAddr string, cs []*child) *child {
	t.Helper()
	_, port, err := net.SplitHostPort(remoteAddr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	local := fmt.Sprintf(":%04X", p)
	inode := ""
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		require.NoError(t, err)
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 9 && strings.HasSuffix(f[1], local) {
				inode = f[9]
			}
		}
	}
	require.NotEmpty(t, inode, "no socket for %s", remoteAddr)
	for _, c := range cs {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", c.cmd.Process.Pid))
		for _, fd := range fds {
			link, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", c.cmd.Process.Pid, fd.Name()))
			if link == "socket:["+inode+"]" {
				return c
			}
		}
	}
	return nil
}

// TestFaultPostgresPosterDiesBetweenPostingAndRecording: two nodes share
// one database and a Mastodon account. A draft is approved; the node whose
// outbox posts it is killed with SIGKILL after Mastodon took the post and
// before the node could record it. The other node takes the draft over
// once the dead node's liveness lease runs out (not a whole send lease
// later) and posts it again with the same Idempotency-Key, which Mastodon
// answers with the post it already made: one post, recorded as sent.
func TestFaultPostgresPosterDiesBetweenPostingAndRecording(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("SKIPPED: needs /proc/net/tcp (Linux) to tell which process posted")
	}
	url := storetest.PostgresURL(t)
	srv := mastodontest.NewServer(t)
	proxy := newKillingProxy(t, srv.URL)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: %s
      poll_interval: 10s
outbox: {undo_grace: 0s}
%s`, proxy.URL, mastodonTokenEnv, sorryRule))
	env := []string{mastodonTokenEnv + "=" + mastodontest.Token}
	nodes := []*child{
		startParley(t, env, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", url),
		startParley(t, env, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", url),
	}
	for _, n := range nodes {
		require.Eventually(t, func() bool { return strings.Contains(n.stderr.String(), "parley running") },
			patience, 10*time.Millisecond, "stderr: %s", &n.stderr)
	}
	proxy.pick = func(r *http.Request) *child { return connOwner(t, r.RemoteAddr, nodes) }

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	status, _ := srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")
	draftID := waitForDraft(t, url, patience, &nodes[0].stderr)
	proxy.failLooks.Store(true) // only the Idempotency-Key stands between a retry and a second post
	proxy.armed.Store(true)
	r := parleyRun(t, "", "queue", "approve", fmt.Sprint(draftID), "--db", url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	select {
	case <-proxy.killed:
	case <-time.After(patience):
		t.Fatalf("no node posted; a: %s\nb: %s", &nodes[0].stderr, &nodes[1].stderr)
	}
	require.Equal(t, 1, srv.PostCount(), "the platform took the post")
	var survivor *child
	for _, n := range nodes {
		if !n.killedSignal {
			survivor = n
		}
	}
	require.NotNil(t, survivor, "one node was killed, the other lives")
	require.Equal(t, parley.DraftSending, draftState(t, url, draftID).State, "the dead node did not get to record it")

	require.Eventually(t, func() bool { return draftState(t, url, draftID).State == parley.DraftSent }, patience,
		100*time.Millisecond, "stderr: %s", &survivor.stderr)
	posts := srv.Posts()
	require.Len(t, posts, 1, "posted once")
	require.NotNil(t, posts[0].InReplyToID)
	assert.Equal(t, status.ID, *posts[0].InReplyToID)
	var keys []string
	for _, req := range srv.Requests() {
		if req.Method == http.MethodPost && req.Path == "/api/v1/statuses" {
			keys = append(keys, req.IdempotencyKey)
		}
	}
	want := parley.Draft{ID: draftID}.IdempotencyKey()
	assert.Equal(t, []string{want, want}, keys, "tried twice, with the same key")
	d := draftState(t, url, draftID)
	assert.Equal(t, 2, d.Attempts)
	assert.True(t, strings.HasSuffix(d.PostedID, posts[0].ID), "recorded as the post the platform made: %q vs %q", d.PostedID, posts[0].ID)

	require.NoError(t, survivor.cmd.Process.Signal(syscall.SIGTERM))
	survivor.wait(t, patience)
	assert.Equal(t, 0, survivor.code, survivor.stderr.String())
}

// connectorHolders returns, for each connector lease not yet run out,
// the process id of its holder (holders are named host:pid:random).
func connectorHolders(url string) map[string]int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT name, holder FROM leases
		WHERE name LIKE 'connector:%' AND until_at > (extract(epoch from clock_timestamp()) * 1000)::bigint`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name, holder string
		if rows.Scan(&name, &holder) != nil {
			return nil
		}
		parts := strings.Split(holder, ":")
		if len(parts) >= 3 {
			out[name], _ = strconv.Atoi(parts[len(parts)-2])
		}
	}
	return out
}

// TestFaultPostgresKill9LeaseHolderTheOtherTakesOver: two nodes on one
// database listen to a Mastodon account and a Discord guild. The node
// holding the Mastodon lease (and the Discord one, or the other node has
// that) is killed with SIGKILL while mentions arrive; the other holds both
// leases within 30 s (the lease's 20 s plus a renewal period), catches up
// from the saved cursors, and every mention posted before, during and
// after is stored exactly once: also those the dead node had read but not
// yet stored, because a source's cursor is saved only behind its stored
// mentions.
func TestFaultPostgresKill9LeaseHolderTheOtherTakesOver(t *testing.T) {
	url := storetest.PostgresURL(t)
	srv := mastodontest.NewServer(t)
	g := newDiscordGuild(t)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: %s
      poll_interval: 10s
  discord:
    token_env: %s
    guilds: ["%s"]
    channels: ["%s"]
    keywords: [tidewater]
    api_url: %s
%s`, srv.URL, mastodonTokenEnv, discordTokenEnv, g.guild, g.brand, g.fake.URL, sorryRule))
	env := []string{mastodonTokenEnv + "=" + mastodontest.Token, discordTokenEnv + "=" + g.fake.Token}
	var nodes [2]*child
	for i := range nodes {
		nodes[i] = startParley(t, env, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", url)
	}
	mastodonLease := "connector:mastodon:" + strings.TrimPrefix(srv.URL, "http://")
	var victim, survivor *child
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			select {
			case <-n.done:
				require.FailNow(t, "a node stopped", "%s", &n.stderr)
			default:
			}
		}
		hs := connectorHolders(url)
		if len(hs) < 2 {
			return false
		}
		for i, n := range nodes {
			if n.cmd.Process.Pid == hs[mastodonLease] {
				victim, survivor = n, nodes[1-i]
			}
		}
		return victim != nil
	}, patience, 20*time.Millisecond, "the connector leases were not both taken: %v\na: %s\nb: %s",
		connectorHolders(url), &nodes[0].stderr, &nodes[1].stderr)
	require.Eventually(t, g.fake.Connected, patience, 10*time.Millisecond)

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	bo := &discordgo.User{ID: "200000000000000010", Username: "bo", GlobalName: "Bo", Discriminator: "0"}
	posted := 0
	post := func(n int) {
		for range n {
			srv.AddMention(ana, fmt.Sprintf("@tidewater ride report %d", posted))
			g.fake.InjectMessage(&discordgo.Message{ChannelID: g.brand, GuildID: g.guild, Author: bo,
				Content: fmt.Sprintf("tidewater session %d", posted)})
			posted++
		}
	}
	stored := func() int { return pgCount(url, `SELECT count(*) FROM mentions`) }
	post(10)
	require.Eventually(t, func() bool { return stored() >= 10 }, patience, 20*time.Millisecond, "mid-stream")

	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	<-victim.done
	killed := time.Now()
	post(10) // nobody listens to Mastodon now
	pid := survivor.cmd.Process.Pid
	require.Eventually(t, func() bool {
		hs := connectorHolders(url)
		return len(hs) == 2 && hs[mastodonLease] == pid && hs["connector:discord"] == pid
	}, patience, 50*time.Millisecond, "the survivor never held both leases: %v\n%s", connectorHolders(url), &survivor.stderr)
	takeover := time.Since(killed)
	t.Logf("took over %s after the kill", takeover.Round(time.Millisecond))
	assert.Less(t, takeover, 30*time.Second, "the leases run out within 20 s and are asked for every 5 s")
	post(10)

	want := 2 * posted
	require.Eventually(t, func() bool { return stored() == want }, patience, 50*time.Millisecond,
		"stored %d of %d (mastodon %d, discord %d); survivor: %s", stored(), want,
		pgCount(url, `SELECT count(*) FROM mentions WHERE platform = 'mastodon'`),
		pgCount(url, `SELECT count(*) FROM mentions WHERE platform = 'discord'`), &survivor.stderr)
	assert.Equal(t, want, pgCount(url, `SELECT count(DISTINCT (platform, external_id)) FROM mentions`), "each once")
	assert.Equal(t, posted, pgCount(url, `SELECT count(*) FROM mentions WHERE text LIKE '%ride report%'`))
	assert.Equal(t, posted, pgCount(url, `SELECT count(*) FROM mentions WHERE text LIKE '%tidewater session%'`))

	require.NoError(t, survivor.cmd.Process.Signal(syscall.SIGTERM))
	survivor.wait(t, patience)
	assert.Equal(t, 0, survivor.code, survivor.stderr.String())
	assert.False(t, strings.Contains(survivor.stderr.String(), "level=ERROR"), "no error: %s", &survivor.stderr)
}
