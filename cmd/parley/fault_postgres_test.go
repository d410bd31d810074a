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
