package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is what one parley invocation did.
type result struct {
	code           int
	stdout, stderr string
}

func parleyRun(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return parleyCtx(t, context.Background(), strings.NewReader(stdin), args...)
}

func parleyCtx(t *testing.T, ctx context.Context, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	return parleyTo(ctx, stdin, &out, &errb, args...)
}

func parleyTo(ctx context.Context, stdin io.Reader, out, errb *syncBuffer, args ...string) result {
	env := map[string]string{"USER": "tester"}
	code := Exec(ctx, args, stdin, out, errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func exampleConfig(t *testing.T) string {
	return writeFile(t, "parley.yaml", string(parley.ExampleConfig))
}

func stats(t *testing.T, db string) parley.Stats {
	t.Helper()
	r := parleyRun(t, "", "stats", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var s parley.Stats
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
	return s
}

func TestDemoRunsAndIsRepeatable(t *testing.T) {
	data := t.TempDir()
	r := parleyRun(t, "", "demo", "--serve=false", "--data", data)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Tidewater Skates")
	assert.Regexp(t, `mentions\s+3\d\d`, r.stdout)
	assert.Contains(t, r.stdout, "waiting for approval")
	assert.Contains(t, r.stdout, "parley queue show")
	first := stats(t, filepath.Join(data, "parley.db"))
	assert.Greater(t, first.Mentions, 300)
	assert.Greater(t, first.People, 100)
	assert.Greater(t, first.Drafts[parley.DraftPending], 0)
	assert.Less(t, first.Threads, first.Mentions, "replies join threads")
	for _, l := range parley.Labels {
		assert.Positive(t, first.Sentiment[l], "sentiment mix has %s", l)
	}

	r = parleyRun(t, "", "demo", "--serve=false", "--data", data)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "This run: 0 mentions stored")
	assert.Equal(t, first, stats(t, filepath.Join(data, "parley.db")))
}

const goodLine = `{"platform":"mastodon","id":"%d","author":{"id":"%d","handle":"u%d@example.social","name":"U","followers":12},"text":"%s","created_at":"2026-11-02T10:00:00Z"}`

func TestIngestReportsBadLinesAndKeepsTheRest(t *testing.T) {
	big := strings.Repeat("a", 1<<20)
	lines := []string{
		fmt.Sprintf(goodLine, 1, 1, 1, "love the new deck"),
		`{"platform":"mastodon","id":"2",`, // malformed JSON
		fmt.Sprintf(goodLine, 3, 3, 3, "my wheels arrived broken"),
		`{"platform":"mastodon","id":"4","author":{"id":"4","followers":"many"},"text":"x","created_at":"2026-11-02T10:00:00Z"}`,
		"{\"platform\":\"mastodon\",\"id\":\"5\",\"author\":{\"id\":\"5\"},\"text\":\"bad \xff utf8\",\"created_at\":\"2026-11-02T10:00:00Z\"}",
		fmt.Sprintf(goodLine, 6, 6, 6, big),
		`{"platform":"mastodon","id":"7","author":{"id":"7"},"text":"no time"}`,
		fmt.Sprintf(goodLine, 8, 3, 3, "where do you ship?"),
	}
	file := writeFile(t, "in.jsonl", strings.Join(lines, "\n")+"\n")
	db := filepath.Join(t.TempDir(), "p.db")
	r := parleyRun(t, "", "ingest", "--config", exampleConfig(t), "--db", db, file)
	assert.Equal(t, 1, r.code)
	for _, want := range []string{"line 2:", "line 4: author.followers", "line 5: text", "line 6: ", "line 7: created_at"} {
		assert.Contains(t, r.stderr, want)
	}
	assert.Contains(t, r.stderr, "5 lines were not valid")
	assert.Contains(t, r.stdout, "3 mentions stored")
	s := stats(t, db)
	assert.Equal(t, 3, s.Mentions)
	assert.Equal(t, 2, s.People)

	// Again: nothing changes.
	r = parleyRun(t, "", "ingest", "--config", exampleConfig(t), "--db", db, file)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "0 mentions stored, 3 already known")
	assert.Equal(t, s, stats(t, db))
}

func TestIngestFromStdinWithoutConfig(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	in := fmt.Sprintf(goodLine, 1, 1, 1, "hello") + "\n" + fmt.Sprintf(goodLine, 2, 1, 1, "again")
	r := parleyRun(t, in, "ingest", "--db", db, "-")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "standard input: 2 mentions stored")
	assert.Equal(t, 2, stats(t, db).Mentions)
}

// parleyBinary builds the parley command once per test run, without the
// race detector, for tests that need a real process or real speed.
func parleyBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "parley-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "parley")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath)) // a temporary build folder
	}
	os.Exit(code)
}

// exe runs the built binary.
func exe(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(parleyBinary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

func TestIngestLargeFileShowsProgressAndIsIdempotent(t *testing.T) {
	// The race detector slows SQLite a hundredfold, so this runs the real
	// binary: 100,000 mentions as a user would ingest them.
	n := 100_000
	if testing.Short() {
		n = 5_000
	}
	var b strings.Builder
	texts := []string{"love this deck 🔥", "my trucks snapped, not happy", "do you ship to Canada?", "just skated the park"}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, goodLine+"\n", i, i%7919, i%7919, texts[i%len(texts)])
	}
	file := writeFile(t, "big.jsonl", b.String())
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := exampleConfig(t)
	r := exe(t, "ingest", "--progress", "always", "--config", cfg, "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "mentions,", "the progress bar shows the count")
	assert.Contains(t, r.stderr, "/s", "the progress bar shows the rate")
	assert.Contains(t, r.stdout, fmt.Sprintf("%d mentions stored", n))
	first := stats(t, db)
	assert.Equal(t, n, first.Mentions)
	assert.Equal(t, min(n, 7919), first.People)

	r = exe(t, "ingest", "--config", cfg, "--db", db, file)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, fmt.Sprintf("0 mentions stored, %d already known", n))
	assert.Equal(t, first, stats(t, db))
}

func TestClassifyStreamsInOrder(t *testing.T) {
	pr, pw := io.Pipe()
	var out bytes.Buffer
	outR, outW := io.Pipe()
	done := make(chan int)
	go func() {
		done <- Exec(context.Background(), []string{"classify", "--model", "vader"}, pr, outW, &out, func(string) string { return "" })
		outW.Close()
	}()
	answers := bufio.NewScanner(outR)
	ask := func(line string) map[string]any {
		_, err := io.WriteString(pw, line+"\n")
		require.NoError(t, err)
		require.True(t, answers.Scan(), "an answer arrives before the next line is written")
		var got map[string]any
		require.NoError(t, json.Unmarshal(answers.Bytes(), &got))
		return got
	}
	assert.Equal(t, "positive", ask("I love this, best deck ever!")["label"])
	got := ask(`{"id":7,"text":"this is terrible, it broke on day one"}`)
	assert.Equal(t, "negative", got["label"])
	assert.EqualValues(t, 7, got["id"], "other fields are kept")
	assert.Less(t, got["score"].(float64), 0.0)
	assert.Equal(t, "neutral", ask("the shop opens at nine")["label"])
	pw.Close()
	assert.Equal(t, 0, <-done, out.String())
}

func TestClassifyBadInput(t *testing.T) {
	r := parleyRun(t, "fine\n{\"text\": 3}\n", "classify")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `line 2: want a "text" field`)
	r = parleyRun(t, "x\n", "classify", "--model", "nope")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "nope")
}

func TestRulesTest(t *testing.T) {
	cfg := exampleConfig(t)
	r := parleyRun(t, "", "rules", "test", "--config", cfg, "--author", "ana@example.social", "--name", "Ana", "--followers", "20000",
		"my trucks snapped after two days, this is awful")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sentiment  negative")
	assert.Contains(t, r.stdout, "matched    escalate-loud-complaint")
	assert.Contains(t, r.stdout, "matched    complaint")
	assert.Contains(t, r.stdout, "person.followers=20000")
	assert.Contains(t, r.stdout, "priority   9")
	assert.Contains(t, r.stdout, "Hi Ana")

	r = parleyRun(t, "", "rules", "test", "--config", cfg, "--mentions", "3", "this deck is sick")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "sentiment  positive")
	assert.Contains(t, r.stdout, "lexicon applied: sick")
	assert.Contains(t, r.stdout, `decided by "sick"`)
	assert.Contains(t, r.stdout, "matched    thank-returning")

	r = parleyRun(t, "", "rules", "test", "hello")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--config FILE is required")
}

func demoDB(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	r := parleyRun(t, "", "demo", "--serve=false", "--data", data)
	require.Equal(t, 0, r.code, r.stderr)
	return filepath.Join(data, "parley.db")
}

func TestQueueCommands(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "queue", "list", "--json", "--db", db, "--limit", "5")
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct {
		ID       int64
		Priority int
		State    string
		Mention  struct{ Text string }
		Person   struct{ Handle string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 5)
	assert.GreaterOrEqual(t, list[0].Priority, list[4].Priority, "most urgent first")
	assert.NotEmpty(t, list[0].Mention.Text)
	id := fmt.Sprint(list[0].ID)

	r = parleyRun(t, "", "queue", "show", id, "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Person   @"+list[0].Person.Handle)
	assert.Contains(t, r.stdout, "Thread")

	r = parleyRun(t, "", "queue", "edit", id, "--db", db, "--as", "ana")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "text is empty")
	r = parleyRun(t, "Sorry! DM us your order number.\n", "queue", "edit", id, "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyRun(t, "", "queue", "approve", id, "--db", db, "--as", "ana")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "approved by ana")
	r = parleyRun(t, "", "queue", "approve", id, "--db", db, "--as", "bo")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already approved by ana")
	r = parleyRun(t, "", "queue", "list", "--state", "approved", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Sorry! DM us your order number.")

	second := fmt.Sprint(list[1].ID)
	r = parleyRun(t, "", "queue", "reject", second, "--reason", "off-brand", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rejected by tester")
	s := stats(t, db)
	assert.Equal(t, 1, s.Drafts[parley.DraftApproved])
	assert.Equal(t, 1, s.Drafts[parley.DraftRejected])

	r = parleyRun(t, "", "queue", "show", "99999", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "draft 99999 not found")
	r = parleyRun(t, "", "queue", "approve", "abc", "--db", db)
	assert.Equal(t, 2, r.code)
	r = parleyRun(t, "", "queue", "list", "--db", filepath.Join(t.TempDir(), "none.db"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no database at")
}

func TestStatsJSONShape(t *testing.T) {
	db := demoDB(t)
	r := parleyRun(t, "", "stats", "--json", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var raw map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &raw))
	for _, k := range []string{"mentions", "people", "threads"} {
		assert.IsType(t, float64(0), raw[k], k)
	}
	drafts := raw["drafts"].(map[string]any)
	for _, k := range []string{"pending", "approved", "sent", "rejected"} {
		assert.IsType(t, float64(0), drafts[k], k)
	}
}

func TestCheck(t *testing.T) {
	r := parleyRun(t, "", "check", "--config", exampleConfig(t))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "OK (11 rules")

	bad := writeFile(t, "bad.yaml", `brand:
  timezone: Mars/Olympus
sentimnet:
  model: default
rules:
  - name: broken
    when: sentiment.label == 
    reply: "hi {{.Person.Nmae}}"
connectors:
  discord:
    token_env: PARLEY_TEST_NO_SUCH_TOKEN
`)
	r = parleyRun(t, "", "check", "--config", bad)
	assert.Equal(t, 1, r.code)
	out := r.stdout
	assert.Contains(t, out, bad+":1: brand.name is missing")
	assert.Contains(t, out, bad+":2: brand.timezone \"Mars/Olympus\"")
	assert.Contains(t, out, bad+":3: unknown key \"sentimnet\"")
	assert.Regexp(t, regexpQuote(bad)+`:7: .*`, out)
	assert.Regexp(t, regexpQuote(bad)+`:8: .*Nmae`, out)
	assert.Contains(t, out, "PARLEY_TEST_NO_SUCH_TOKEN")
	assert.Contains(t, r.stderr, "problems in "+bad)

	r = parleyRun(t, "", "check", "--config", filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "does not exist")
	r = parleyRun(t, "", "check")
	assert.Equal(t, 2, r.code)
}

func TestCheckSeveralMastodonAccountsNeedNames(t *testing.T) {
	cfg := writeFile(t, "two.yaml", `brand: {name: Test}
connectors:
  mastodon:
    - server: https://one.example
      token_env: T1
    - server: https://two.example
      token_env: T2
`)
	var out, errb syncBuffer
	r := parleyTo(context.Background(), strings.NewReader(""), &out, &errb, "check", "--config", cfg)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "each needs a name")
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestEveryCommandHasHelpWithAnExample(t *testing.T) {
	for name := range commands {
		r := parleyRun(t, "", name, "--help")
		assert.Equal(t, 0, r.code, name)
		help := r.stdout + r.stderr
		assert.Contains(t, help, "Example", name)
		assert.Contains(t, help, "-db", "%s takes --db", name)
	}
	r := parleyRun(t, "", "help")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "parley demo")
	r = parleyRun(t, "", "frobnicate")
	assert.Equal(t, 2, r.code)
}

func TestRunRefusesASecondProcessAndStopsCleanly(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	cfg := writeFile(t, "p.yaml", "brand: {name: Test}\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result)
	var out, errb syncBuffer
	go func() {
		done <- parleyTo(ctx, strings.NewReader(""), &out, &errb, "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	}()
	require.Eventually(t, func() bool { return strings.Contains(errb.String(), "parley running") },
		patience, 10*time.Millisecond)
	second := parleyRun(t, "", "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	assert.Equal(t, 1, second.code)
	assert.Contains(t, second.stderr, "another parley run (pid ")
	cancel()
	select {
	case r := <-done:
		assert.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "no connectors configured")
	case <-time.After(15 * time.Second):
		t.Fatal("run did not stop")
	}
	// The lock is released: a new run starts.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	r := parleyCtx(t, ctx2, strings.NewReader(""), "run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db)
	assert.NotContains(t, r.stderr, "another parley run")
	assert.Contains(t, []int{0, 130}, r.code, r.stderr)
}

func TestDemoServesTheInboxAndPostsApprovedDrafts(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan result, 1)
	go func() {
		done <- parleyTo(ctx, strings.NewReader(""), &out, &errb, "demo", "--data", data, "--addr", "127.0.0.1:0")
	}()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`The web inbox: (http://\S+)\s+\(log in as demo / (\S+)\)`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, patience, 20*time.Millisecond, "stdout: %s\nstderr: %s", &out, &errb)

	resp, err := http.Get(url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Get(url + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusSeeOther, resp.StatusCode, "not logged in: to the login page")

	// Approving from the CLI while the demo runs: its outbox posts it once.
	db := filepath.Join(data, "parley.db")
	r := parleyRun(t, "", "queue", "list", "--json", "--limit", "1", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	var list []struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	r = parleyRun(t, "", "queue", "approve", fmt.Sprint(list[0].ID), "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	// It waits out the undo grace period (outbox.undo_grace, 10s) first.
	require.Eventually(t, func() bool {
		return strings.Contains(out.String(), fmt.Sprintf("(demo) posted draft %d", list[0].ID))
	}, patience, 20*time.Millisecond)
	require.Eventually(t, func() bool { return stats(t, db).Drafts[parley.DraftSent] == 1 }, 5*time.Second, 20*time.Millisecond)

	// A second demo on the same data refuses to post alongside.
	second := parleyRun(t, "", "demo", "--data", data, "--addr", "127.0.0.1:0")
	assert.Equal(t, 1, second.code)
	assert.Contains(t, second.stderr, "another parley run")

	cancel()
	select {
	case r := <-done:
		assert.Equal(t, 0, r.code, r.stderr)
	case <-time.After(15 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// inProcessRun is a 'parley run' in this process, as the end-to-end tests
// drive it; the test's end cancels it.
type inProcessRun struct {
	errb   syncBuffer
	done   chan int
	cancel context.CancelFunc
}

// startRun starts 'parley run' on cfg and db with env as its environment,
// serving on a free port.
func startRun(t *testing.T, env map[string]string, cfg, db string) *inProcessRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &inProcessRun{done: make(chan int, 1), cancel: cancel}
	go func() {
		var out syncBuffer
		r.done <- Exec(ctx, []string{"run", "--addr", "127.0.0.1:0", "--config", cfg, "--db", db}, strings.NewReader(""),
			&out, &r.errb, func(k string) string { return env[k] })
	}()
	return r
}
