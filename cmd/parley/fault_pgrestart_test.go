package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

// privatePostgres is a PostgreSQL cluster of the test's own, on a free
// port, so the test may stop and start it without disturbing anyone.
type privatePostgres struct {
	dir, port, url string
	asPostgres     bool // run the server's tools as the postgres user (we are root)
}

// pgBin finds PostgreSQL's server tools (initdb, pg_ctl).
func pgBin() string {
	if dir := os.Getenv("PARLEY_TEST_PG_BIN"); dir != "" {
		return dir
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		return ""
	}
	return filepath.Dir(matches[len(matches)-1])
}

// startPrivatePostgres makes and starts a cluster in a temporary folder;
// the test skips, saying why, when PostgreSQL's server tools are missing.
func startPrivatePostgres(t *testing.T) *privatePostgres {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		t.Skip("SKIPPED: no PostgreSQL server tools (initdb, pg_ctl) in /usr/lib/postgresql/*/bin; set PARLEY_TEST_PG_BIN")
	}
	p := &privatePostgres{asPostgres: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "parley-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if p.asPostgres {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("SKIPPED: running as root without a postgres user to run the server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	p.dir = filepath.Join(dir, "data")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, p.port, _ = net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	p.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres", p.port)
	p.tool(t, filepath.Join(bin, "initdb"), "-D", p.dir, "-U", "postgres", "-A", "trust", "--no-sync")
	t.Cleanup(func() {
		_ = p.command(filepath.Join(bin, "pg_ctl"), "-D", p.dir, "-m", "immediate", "-w", "stop").Run()
	})
	p.start(t)
	return p
}

func (p *privatePostgres) command(name string, args ...string) *exec.Cmd {
	if p.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func (p *privatePostgres) tool(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := p.command(name, args...).CombinedOutput()
	require.NoError(t, err, "%s %v: %s", name, args, out)
}

func (p *privatePostgres) start(t *testing.T) {
	t.Helper()
	p.tool(t, filepath.Join(pgBin(), "pg_ctl"), "-D", p.dir, "-l", filepath.Join(p.dir, "server.log"), "-w",
		"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", p.port, p.dir), "start")
}

func (p *privatePostgres) stop(t *testing.T) {
	t.Helper()
	p.tool(t, filepath.Join(pgBin(), "pg_ctl"), "-D", p.dir, "-m", "fast", "-w", "stop")
}

// scrape reads the series of /metrics on the inbox's address.
func scrape(t *testing.T, addr, token string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// TestFaultPostgresRestartedUnderLoad: 'parley run' on a PostgreSQL of the
// test's own while mentions arrive. The server stops: the node says so in
// its log ("database unreachable") and on /metrics (parley_database_up 0),
// mentions heard meanwhile wait in the pipeline; the server starts again:
// the node reconnects by itself, says so, and every mention is stored
// once, and a reply approved afterwards is posted once.
func TestFaultPostgresRestartedUnderLoad(t *testing.T) {
	pg := startPrivatePostgres(t)
	srv := mastodontest.NewServer(t)
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: %s
      poll_interval: 10s
web:
  metrics_token_env: PARLEY_TEST_METRICS_TOKEN
outbox: {undo_grace: 0s}
%s`, srv.URL, mastodonTokenEnv, sorryRule))
	env := []string{mastodonTokenEnv + "=" + mastodontest.Token, "PARLEY_TEST_METRICS_TOKEN=s3cret"}
	node := startParley(t, env, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", pg.url)
	require.Eventually(t, func() bool { return listenAddr.MatchString(node.stderr.String()) }, patience,
		10*time.Millisecond, "stderr: %s", &node.stderr)
	addr := listenAddr.FindStringSubmatch(node.stderr.String())[1]

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	posted := 0
	post := func(n int) {
		for range n {
			srv.AddMention(ana, fmt.Sprintf("@tidewater ride report %d", posted))
			posted++
		}
	}
	stored := func() int { return pgCount(pg.url, `SELECT count(*) FROM mentions`) }
	post(10)
	require.Eventually(t, func() bool { return stored() == 10 }, patience, 20*time.Millisecond, "stderr: %s", &node.stderr)

	pg.stop(t)
	post(10) // heard while the database is down
	require.Eventually(t, func() bool { return strings.Contains(scrape(t, addr, "s3cret"), "\nparley_database_up 0") },
		patience, 50*time.Millisecond, "metrics say the database is down")
	assert.Contains(t, scrape(t, addr, "s3cret"), "\nparley_database_outages_total 1")
	require.Eventually(t, func() bool { return strings.Contains(node.stderr.String(), `msg="database unreachable`) },
		patience, 20*time.Millisecond, "the log says so")
	pg.start(t)
	post(10)

	require.Eventually(t, func() bool { return stored() == posted }, patience, 50*time.Millisecond,
		"stored %d of %d; stderr: %s", stored(), posted, &node.stderr)
	assert.Equal(t, posted, pgCount(pg.url, `SELECT count(DISTINCT external_id) FROM mentions`), "each once")
	require.Eventually(t, func() bool { return strings.Contains(scrape(t, addr, "s3cret"), "\nparley_database_up 1") },
		patience, 50*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Contains(node.stderr.String(), `msg="database reachable again"`) },
		patience, 20*time.Millisecond, "the log says it is back")

	bad, _ := srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")
	id := waitForDraft(t, pg.url, patience, &node.stderr)
	r := parleyRun(t, "", "queue", "approve", fmt.Sprint(id), "--db", pg.url, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	require.Eventually(t, func() bool { return srv.PostCount() == 1 }, patience, 50*time.Millisecond, "stderr: %s", &node.stderr)
	require.Eventually(t, func() bool { return draftState(t, pg.url, id).State == "sent" }, patience, 50*time.Millisecond)
	assert.Equal(t, bad.ID, *srv.Posts()[0].InReplyToID)

	require.NoError(t, node.cmd.Process.Signal(syscall.SIGTERM))
	node.wait(t, patience)
	assert.Equal(t, 0, node.code, node.stderr.String())
}
