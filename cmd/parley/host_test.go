package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
)

func parleyEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb syncBuffer
	code := Exec(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

func TestBackupAndRestoreCommands(t *testing.T) {
	db := digestDB(t)
	before := stats(t, db)
	dir := t.TempDir()
	backup := filepath.Join(dir, "b.db")
	r := parleyRun(t, "", "backup", "--db", db, backup)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `backed up .* to .*b\.db: [\d.]+ [kM]B, schema version \d+, integrity ok`, r.stdout)
	fi, err := os.Stat(backup)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	r = parleyRun(t, "", "backup", "--db", db, backup)
	assert.Equal(t, 1, r.code, "an existing file is not overwritten")
	assert.Contains(t, r.stderr, "already exists")

	// Restore refuses a damaged file and changes nothing.
	bad := filepath.Join(dir, "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("SQLite format 3\x00 but not really"), 0o600))
	target := filepath.Join(dir, "live", "parley.db")
	r = parleyRun(t, "", "restore", "--db", target, bad)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "refusing to restore")
	assert.NoFileExists(t, target)

	// Restore refuses while a run holds the database.
	unlock, err := lockDatabase(db)
	require.NoError(t, err)
	r = parleyRun(t, "", "restore", "--db", db, backup)
	unlock()
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "another parley run")

	r = parleyRun(t, "", "restore", "--db", target, backup)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, before.Mentions, stats(t, target).Mentions)
	r = parleyRun(t, "", "restore", "--db", target, backup)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "the database it replaced is kept as "+target+".before-restore-")
}

func TestVersionCommand(t *testing.T) {
	r := parleyRun(t, "", "version", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var bi buildInfo
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &bi))
	assert.Equal(t, runtime.Version(), bi.GoVersion)
	assert.Equal(t, runtime.GOOS+"/"+runtime.GOARCH, bi.Platform)
	assert.NotEmpty(t, bi.Version)

	// What the release script stamps with -X shows when the build info
	// has no VCS data.
	version, commit, buildDate = "v1.2.3", "0123456789abcdef", "2026-12-01T10:00:00Z"
	t.Cleanup(func() { version, commit, buildDate = "", "", "" })
	b := buildInfo{Version: "(devel)", GoVersion: "go1.26.10", Platform: "linux/arm64"}.withLinkerValues()
	assert.Equal(t, "parley v1.2.3 (commit 0123456789ab, 2026-12-01T10:00:00Z), go1.26.10, linux/arm64", b.String())
}

func TestHealthCommand(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		} else {
			_, _ = w.Write([]byte(`{"status":"unavailable","error":"the database does not answer"}`))
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	r := parleyRun(t, "", "health", "--addr", addr)
	assert.Equal(t, 0, r.code, r.stderr)
	// PARLEY_ADDR, as the container's HEALTHCHECK uses it.
	r = parleyEnv(t, map[string]string{"PARLEY_ADDR": addr}, "health")
	assert.Equal(t, 0, r.code, r.stderr)
	status = http.StatusServiceUnavailable
	r = parleyRun(t, "", "health", "--addr", addr)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "the database does not answer")
	srv.Close()
	r = parleyRun(t, "", "health", "--addr", addr, "--timeout", "2s")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no answer from")

	assert.Equal(t, "127.0.0.1:8080", probeAddr("0.0.0.0:8080"))
	assert.Equal(t, "127.0.0.1:8080", probeAddr(":8080"))
	assert.Equal(t, "[::1]:8080", probeAddr("[::]:8080"))
}

func TestEnvironmentSettings(t *testing.T) {
	db := digestDB(t)
	// PARLEY_DB stands for --db.
	r := parleyEnv(t, map[string]string{"PARLEY_DB": db}, "stats", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"mentions":`)
	// PARLEY_DATA names the folder; a --db flag wins over it.
	r = parleyEnv(t, map[string]string{"PARLEY_DATA": filepath.Dir(db)}, "stats")
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyEnv(t, map[string]string{"PARLEY_DATA": t.TempDir()}, "stats", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	r = parleyEnv(t, map[string]string{"PARLEY_DB": filepath.Join(t.TempDir(), "none.db")}, "stats", "--data", filepath.Dir(db))
	require.Equal(t, 0, r.code, "--data on the command line beats PARLEY_DB: %s", r.stderr)

	// PARLEY_CONFIG stands for --config; PARLEY_ADDR is checked.
	cfg := writeFile(t, "p.yaml", "brand: {name: Acme}\n")
	r = parleyEnv(t, map[string]string{"PARLEY_CONFIG": cfg}, "check")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, cfg+": OK")
	r = parleyEnv(t, map[string]string{"PARLEY_CONFIG": cfg, "PARLEY_ADDR": "127.0.0.1:99999"}, "check")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "PARLEY_ADDR")
	env := &env{getenv: func(k string) string {
		return map[string]string{"PARLEY_ADDR": "0.0.0.0:9000", "PARLEY_BASE_URL": "https://p.example.com"}[k]
	}}
	c := &Config{}
	require.NoError(t, env.overlayEnv(c))
	assert.Equal(t, "0.0.0.0:9000", c.Web.Addr)
	assert.Equal(t, "https://p.example.com", c.Web.BaseURL)
	r = parleyEnv(t, map[string]string{"PARLEY_LOG_LEVEL": "loud"}, "stats", "--db", db)
	assert.Equal(t, 2, r.code)
}

func TestEnvSettingsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	for _, s := range envSettings {
		assert.Contains(t, string(doc), "| `"+s.name+"` |", "docs/configuration.md lacks %s", s.name)
	}
}

func TestIngestWithoutConfigSaysWhatItWillNotDo(t *testing.T) {
	dir := t.TempDir()
	line := `{"platform":"mastodon","id":"1","author":{"id":"4","handle":"a@example.social"},"text":"where is my order?","created_at":"2026-11-02T10:00:00Z"}` + "\n"
	r := parleyRun(t, line, "ingest", "--quiet", "--db", filepath.Join(dir, "p.db"), "-")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no rules run and no drafts are queued")
	r = parleyRun(t, line, "ingest", "--quiet", "--config", exampleConfig(t), "--db", filepath.Join(dir, "q.db"), "-")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "no rules run")
}

func TestInitWritesAConfigThatChecks(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc")
	r := parleyRun(t, "", "init", "--dir", dir, "--brand", `Acme "Coffee"`, "--keywords", "acme, acmecoffee",
		"--mastodon-server", "https://mastodon.example", "--discord", "--timezone", "Europe/Berlin")
	require.Equal(t, 0, r.code, r.stderr)
	path := filepath.Join(dir, "parley.yaml")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Contains(t, r.stdout, "parley mastodon login --server https://mastodon.example")
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, rule := range []string{"opt-out", "order-problem", "complaint", "question", "praise"} {
		assert.Contains(t, string(body), "- name: "+rule+"\n")
	}
	assert.NotContains(t, string(body), "Tidewater")

	r = parleyEnv(t, map[string]string{"PARLEY_MASTODON_TOKEN": "t", "PARLEY_DISCORD_TOKEN": "d"}, "check", "--config", path)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "OK (5 rules, 1 Mastodon accounts, Discord on)")

	// The rules do what their names say.
	for text, rule := range map[string]string{
		"my order never arrived":                "order-problem",
		"do you ship to Canada?":                "question",
		"please unsubscribe me, stop messaging": "opt-out",
		"I absolutely love this, amazing!":      "praise",
	} {
		r = parleyEnv(t, map[string]string{"PARLEY_MASTODON_TOKEN": "t", "PARLEY_DISCORD_TOKEN": "d"},
			"rules", "test", "--config", path, "--json", text)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"`+rule+`"`, text)
	}

	r = parleyRun(t, "", "init", "--dir", dir, "--brand", "Other")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "already exists")
	r = parleyRun(t, "", "init", "--dir", t.TempDir())
	assert.Equal(t, 2, r.code, "no terminal and no --brand")
	assert.Contains(t, r.stderr, "--brand NAME is required")
}

func TestInitAsksOnATerminal(t *testing.T) {
	var a initAnswers
	var out strings.Builder
	require.NoError(t, a.ask(strings.NewReader("Acme\n\nhttps://m.example\ny\nEurope/Paris\n"), &out))
	assert.Equal(t, initAnswers{brand: "Acme", keywords: []string{"acme"}, mastodon: "https://m.example", discord: true, timezone: "Europe/Paris"}, a)
	assert.Contains(t, out.String(), "Brand name")
}

func TestIngestLeavesAdvocateScoresCurrent(t *testing.T) {
	cfg := writeFile(t, "parley.yaml", strings.Replace(string(parleyExampleConfig()), "\n  model: default\n", "\n  model: vader\n", 1))
	db := filepath.Join(t.TempDir(), "p.db")
	sample := writeFile(t, "sample.jsonl", string(replaySample()))
	r := parleyRun(t, "", "ingest", "--quiet", "--config", cfg, "--db", db, sample)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `advocates: \d+ people scored`, r.stdout)
	r = parleyRun(t, "", "advocates", "list", "--db", db, "--config", cfg)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "Nobody yet")
	assert.Contains(t, r.stdout, "kelpkid")
	// No invitation was queued by the ingest itself.
	r = parleyRun(t, "", "queue", "list", "--json", "--limit", "1000", "--db", db)
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stdout, `"kind":"prompt"`)
}

func parleyExampleConfig() []byte { return parley.ExampleConfig }
func replaySample() []byte        { return replay.Sample() }
