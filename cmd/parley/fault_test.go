package main

// Fault tests: real parley processes killed, stopped and crowded out at
// the worst moments. Each checks that no mention is lost or doubled and no
// reply is posted twice.

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/mastodon/mastodontest"
)

// child is a parley process started by a test.
type child struct {
	cmd          *exec.Cmd
	stdout       syncBuffer
	stderr       syncBuffer
	done         chan struct{}
	code         int
	killedSignal bool
}

func startParley(t *testing.T, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(parleyBinary(t), args...), done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = &c.stdout, &c.stderr
	c.cmd.Env = append(os.Environ(), env...)
	require.NoError(t, c.cmd.Start())
	go func() {
		err := c.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			c.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				c.killedSignal = true
			}
		}
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			_ = c.cmd.Process.Kill() // fails only if it already exited: done is closed then
			<-c.done
		}
	})
	return c
}

// wait waits for the process to end, at most d.
func (c *child) wait(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(d):
		t.Fatalf("parley did not end within %s; stderr:\n%s", d, c.stderr.String())
	}
}

// countRows runs a count query on a database another process may be
// writing (WAL: readers do not block the writer); -1 when it cannot.
func countRows(db, q string) int {
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(2000)")
	if err != nil {
		return -1
	}
	defer conn.Close()
	n := -1
	if err := conn.QueryRow(q).Scan(&n); err != nil {
		return -1
	}
	return n
}

// replayFile writes n mentions, a fifth of them replies, by 5,000 people.
func replayFile(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	texts := []string{"love this deck 🔥", "my trucks snapped, not happy", "do you ship to Canada?", "just skated the park"}
	for i := 1; i <= n; i++ {
		reply := ""
		if i%5 == 0 {
			reply = fmt.Sprintf(`,"in_reply_to":"%d"`, i-3)
		}
		fmt.Fprintf(&b, `{"platform":"mastodon","id":"%d","author":{"id":"%d","handle":"u%d@example.social","name":"U%d"},"text":"%s","created_at":"2026-11-02T10:00:00Z"%s}`+"\n",
			i, i%5000, i%5000, i%5000, texts[i%len(texts)], reply)
	}
	return writeFile(t, "big.jsonl", b.String())
}

// checkConsistent asserts the invariants a crash must never break: each
// mention once, every count equal to what it counts, and (when intact is
// set: it reads every page, slow under the race detector) an intact file.
func checkConsistent(t *testing.T, db string, mentions int, intact bool) {
	t.Helper()
	for q, want := range map[string]int{
		`SELECT count(*) FROM mentions`:                    mentions,
		`SELECT count(DISTINCT external_id) FROM mentions`: mentions,
		`SELECT sum(mentions) FROM people`:                 mentions,
		`SELECT sum(mentions) FROM threads`:                mentions,
		`SELECT count(*) FROM people WHERE mentions != (SELECT count(*) FROM mentions m WHERE m.person_id = people.id)`:                             0,
		`SELECT count(*) FROM people WHERE pending_drafts != (SELECT count(*) FROM drafts d WHERE d.person_id = people.id AND d.state = 'pending')`: 0,
		`SELECT count(*) FROM drafts WHERE mention_id NOT IN (SELECT id FROM mentions)`:                                                             0,
		`SELECT count(*) FROM (SELECT mention_id FROM drafts WHERE kind = 'reply' GROUP BY mention_id HAVING count(*) > 1)`:                         0,
	} {
		assert.Equal(t, want, countRows(db, q), q)
	}
	if intact {
		assert.Equal(t, "ok", integrityCheck(t, db))
	}
}

func integrityCheck(t *testing.T, db string) string {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	require.NoError(t, err)
	defer conn.Close()
	var res string
	require.NoError(t, conn.QueryRow(`PRAGMA integrity_check`).Scan(&res))
	return res
}

func TestFaultKill9DuringIngestThenRerunStoresEachMentionOnce(t *testing.T) {
	n := 20_000
	file := replayFile(t, n)
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := exampleConfig(t)
	c := startParley(t, nil, "ingest", "--config", cfg, "--db", db, file)
	require.Eventually(t, func() bool { return countRows(db, `SELECT count(*) FROM mentions`) >= 2_500 },
		patience, 5*time.Millisecond, "ingest stored nothing; stderr: %s", &c.stderr)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	c.wait(t, 10*time.Second)
	require.True(t, c.killedSignal, "killed mid-ingest (it had finished: make the file bigger)")
	stored := countRows(db, `SELECT count(*) FROM mentions`)
	require.Less(t, stored, n, "killed before the end")
	checkConsistent(t, db, stored, false)

	r := exe(t, "ingest", "--config", cfg, "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("%d mentions stored, %d already known", n-stored, stored))

	r = exe(t, "ingest", "--config", cfg, "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("0 mentions stored, %d already known", n))
	checkConsistent(t, db, n, true)
}

func TestFaultSIGTERMDuringIngestFlushesAndExitsZero(t *testing.T) {
	n := 20_000
	file := replayFile(t, n)
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := exampleConfig(t)
	c := startParley(t, nil, "ingest", "--config", cfg, "--db", db, file)
	require.Eventually(t, func() bool { return countRows(db, `SELECT count(*) FROM mentions`) >= 2_500 },
		patience, 5*time.Millisecond, "ingest stored nothing; stderr: %s", &c.stderr)
	sent := time.Now()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	c.wait(t, 10*time.Second)
	took := time.Since(sent)
	require.Equal(t, 0, c.code, "stderr: %s", c.stderr.String())
	assert.Less(t, took, 10*time.Second)
	stored := countRows(db, `SELECT count(*) FROM mentions`)
	require.Less(t, stored, n, "stopped before the end (make the file bigger)")
	// Everything it accepted is stored: what it says it stored is in the
	// database, and the summary adds up.
	assert.Contains(t, c.stderr.String(), fmt.Sprintf("stopped by SIGTERM: %d mentions stored", stored))
	assert.Contains(t, c.stdout.String(), fmt.Sprintf("%d mentions stored, 0 already known", stored))
	checkConsistent(t, db, stored, false)

	r := exe(t, "ingest", "--config", cfg, "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("%d mentions stored, %d already known", n-stored, stored))
	checkConsistent(t, db, n, true)
}

func TestFaultTwoRunProcessesOnOneDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := writeFile(t, "p.yaml", "brand: {name: Test}\n")
	first := startParley(t, nil, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	require.Eventually(t, func() bool { return strings.Contains(first.stderr.String(), "parley running") },
		patience, 10*time.Millisecond, "stderr: %s", &first.stderr)

	second := startParley(t, nil, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	second.wait(t, 10*time.Second)
	assert.Equal(t, 1, second.code)
	assert.Contains(t, second.stderr.String(), fmt.Sprintf("another parley run (pid %d) is using %s", first.cmd.Process.Pid, db))
	assert.NotContains(t, second.stderr.String(), "parley running")

	// The first is still running, then stops cleanly and frees the lock,
	// even when killed -9 (the kernel drops the lock with the process).
	select {
	case <-first.done:
		t.Fatalf("the first run stopped: %s", first.stderr.String())
	default:
	}
	require.NoError(t, first.cmd.Process.Signal(syscall.SIGKILL))
	first.wait(t, 10*time.Second)
	third := startParley(t, nil, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	require.Eventually(t, func() bool { return strings.Contains(third.stderr.String(), "parley running") },
		patience, 10*time.Millisecond, "stderr: %s", &third.stderr)
	require.NoError(t, third.cmd.Process.Signal(syscall.SIGTERM))
	third.wait(t, 15*time.Second)
	assert.Equal(t, 0, third.code, third.stderr.String())
}

// killingProxy stands between parley and the fake Mastodon server. Armed,
// it lets the next status post reach the server (which creates the status
// and remembers its Idempotency-Key), then kills the parley process before
// the answer can reach it: the crash between the platform accepting a post
// and Parley recording it.
type killingProxy struct {
	*httptest.Server
	armed  atomic.Bool
	victim atomic.Pointer[child]
	// pick, when set, chooses the victim: the process that made the post.
	pick      func(*http.Request) *child
	killed    chan struct{}
	killOnce  sync.Once
	failLooks atomic.Bool // answer 503 to thread lookups
}

func newKillingProxy(t *testing.T, target string) *killingProxy {
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := &killingProxy{killed: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		res, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses" && p.armed.CompareAndSwap(true, false) {
			p.killOnce.Do(func() {
				c := p.victim.Load()
				if p.pick != nil {
					c = p.pick(r)
				}
				_ = c.cmd.Process.Signal(syscall.SIGKILL) // fails only if it already exited
				<-c.done
				close(p.killed)
			})
		}
		return res, err
	})
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.failLooks.Load() && strings.HasSuffix(r.URL.Path, "/context") {
			http.Error(w, `{"error":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestFaultKill9BetweenPlatformAcceptingAPostAndParleyRecordingIt(t *testing.T) {
	srv := mastodontest.NewServer(t)
	proxy := newKillingProxy(t, srv.URL)
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := writeFile(t, "p.yaml", fmt.Sprintf(`brand: {name: Tidewater Skates}
connectors:
  mastodon:
    - server: %s
      token_env: PARLEY_TEST_MASTODON_TOKEN
      poll_interval: 10s
rules:
  - name: sorry
    when: sentiment.label == "negative"
    reply: "Sorry {{first .Person}}, DM us your order number."
`, proxy.URL))
	env := []string{"PARLEY_TEST_MASTODON_TOKEN=" + mastodontest.Token}
	run := func() *child {
		c := startParley(t, env, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
		require.Eventually(t, func() bool { return strings.Contains(c.stderr.String(), "parley running") },
			patience, 10*time.Millisecond, "stderr: %s", &c.stderr)
		return c
	}
	first := run()
	proxy.victim.Store(first)

	ana := srv.AddAccount("ana", mastodontest.AccountOptions{Domain: "other.example", DisplayName: "Ana"})
	status, _ := srv.AddMention(ana, "@tidewater my wheels arrived broken, this is awful")
	draftID := waitForDraft(t, db, patience, &first.stderr)

	proxy.armed.Store(true)
	r := parleyRun(t, "", "queue", "approve", fmt.Sprint(draftID), "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	select {
	case <-proxy.killed:
	case <-time.After(patience):
		t.Fatalf("the outbox never posted; stderr: %s", first.stderr.String())
	}
	require.True(t, first.killedSignal)
	require.Equal(t, 1, srv.PostCount(), "the platform took the post")
	d := draftState(t, db, draftID)
	require.Equal(t, parley.DraftSending, d.State, "Parley did not get to record it")

	// After the restart the outbox takes the draft over at once. The
	// connector's own look at the thread fails, so only the Idempotency-Key
	// stands between the retry and a second post.
	proxy.failLooks.Store(true)
	second := run()
	require.Eventually(t, func() bool { return draftState(t, db, draftID).State == parley.DraftSent }, patience,
		50*time.Millisecond, "stderr: %s", &second.stderr)
	require.NoError(t, second.cmd.Process.Signal(syscall.SIGTERM))
	second.wait(t, 15*time.Second)
	assert.Equal(t, 0, second.code, second.stderr.String())

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
	d = draftState(t, db, draftID)
	assert.Equal(t, 2, d.Attempts)
	assert.True(t, strings.HasSuffix(d.PostedID, posts[0].ID), "recorded as the post the platform made: %q vs %q", d.PostedID, posts[0].ID)
}

func draftState(t *testing.T, db string, id int64) parley.Draft {
	t.Helper()
	r := parleyRun(t, "", "queue", "show", fmt.Sprint(id), "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var out struct {
		Draft parley.Draft `json:"draft"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
	require.Equal(t, id, out.Draft.ID, r.stdout)
	return out.Draft
}

// TestFaultDatabaseLockedByAnotherProcess holds the write lock from
// another process for two seconds: ingest waits (busy timeout) and then
// stores everything.
func TestFaultDatabaseLockedByAnotherProcess(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	r := exe(t, "ingest", "--db", db, writeFile(t, "one.jsonl", fmt.Sprintf(goodLine, 1, 1, 1, "first")+"\n"))
	require.Equal(t, 0, r.code, r.stderr)

	// Another process: sqlite3-like, holding BEGIN EXCLUSIVE for 2 s.
	locker := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	locker.Env = append(os.Environ(), "PARLEY_HOLD_LOCK="+db, "PARLEY_HOLD_FOR=2s")
	stdout, err := locker.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, locker.Start())
	buf := make([]byte, 6)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "locked", string(buf), "the helper holds the lock")
	start := time.Now()
	var lines []string
	for i := 2; i <= 200; i++ {
		lines = append(lines, fmt.Sprintf(goodLine, i, i, i, "while locked"))
	}
	r = exe(t, "ingest", "--db", db, writeFile(t, "more.jsonl", strings.Join(lines, "\n")+"\n"))
	waited := time.Since(start)
	require.NoError(t, locker.Wait())
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "199 mentions stored")
	assert.Greater(t, waited, 1500*time.Millisecond, "it waited for the lock")
	checkConsistent(t, db, 200, true)
}

// TestHelperHoldLock is not a test: TestFaultDatabaseLockedByAnotherProcess
// runs it in a child process to hold a database's write lock.
func TestHelperHoldLock(t *testing.T) {
	path := os.Getenv("PARLEY_HOLD_LOCK")
	if path == "" {
		t.Skip("helper process only")
	}
	hold, err := time.ParseDuration(os.Getenv("PARLEY_HOLD_FOR"))
	require.NoError(t, err)
	conn, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	ctx := context.Background()
	_, err = conn.ExecContext(ctx, `BEGIN EXCLUSIVE`)
	require.NoError(t, err)
	_, err = conn.ExecContext(ctx, `UPDATE cursors SET value = value`)
	require.NoError(t, err)
	fmt.Print("locked")
	_ = os.Stdout.Sync() // a pipe may not sync; the write above reaches the parent anyway
	time.Sleep(hold)
	_, err = conn.ExecContext(ctx, `COMMIT`)
	require.NoError(t, err)
}

// TestFaultFullDisk ingests onto a tiny tmpfs (as root; elsewhere the
// store's own test fills the database with max_page_count instead): ingest
// fails with a message that says the disk is full, and the database is
// intact, each batch stored whole or not at all.
func TestFaultFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; store.TestFullDatabase covers the error")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); store.TestFullDatabase covers the error", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s", dir, err, out)
		}
	})
	db := filepath.Join(dir, "p.db")
	r := exe(t, "ingest", "--config", exampleConfig(t), "--db", db, replayFile(t, 20_000))
	assert.Equal(t, 1, r.code, r.stdout)
	assert.Contains(t, r.stderr, "the disk is full")
	assert.NotContains(t, r.stderr, "internal error", r.stderr)
	stored := countRows(db, `SELECT count(*) FROM mentions`)
	require.Positive(t, stored, "some batches fit")
	require.Less(t, stored, 20_000)
	checkConsistent(t, db, stored, true)
}
