package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestHelpGoesToStdoutForEveryCommand(t *testing.T) {
	for _, name := range commandNames() {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			r := parleyRun(t, "", args...)
			assert.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
			assert.Empty(t, r.stderr, "%v wrote help to stderr", args)
			assert.True(t, strings.HasPrefix(r.stdout, "parley "+name+": "), "%v: %q", args, r.stdout)
			assert.Contains(t, r.stdout, "Flags:\n", args)
		}
	}
	// A command's own flags are in 'parley help COMMAND', not only the
	// common ones.
	r := parleyRun(t, "", "help", "run")
	assert.Contains(t, r.stdout, "-addr")
	r = parleyRun(t, "", "help", "nosuch")
	assert.Equal(t, 2, r.code)
}

func TestTopLevelHelpListsEveryCommand(t *testing.T) {
	r := parleyRun(t, "", "help")
	require.Equal(t, 0, r.code)
	for _, name := range commandNames() {
		assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` +\S`, r.stdout)
	}
	r = parleyRun(t, "", "stat")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "Did you mean 'parley stats'?")
}

func TestUnknownFlagSuggestsTheNearest(t *testing.T) {
	r := parleyRun(t, "", "queue", "list", "--stat", "pending", "--db", t.TempDir()+"/p.db")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "unknown flag --stat (did you mean --state?)")
	assert.Contains(t, r.stderr, "parley help queue")
	assert.Empty(t, r.stdout)
	r = parleyRun(t, "", "check", "--confg", "x.yaml")
	assert.Contains(t, r.stderr, "did you mean --config?")
	r = parleyRun(t, "", "check", "--zzzzzzzz")
	assert.Contains(t, r.stderr, "unknown flag --zzzzzzzz")
	assert.NotContains(t, r.stderr, "did you mean")
}

func TestUnknownPlatformRefused(t *testing.T) {
	db := t.TempDir() + "/p.db"
	r := parleyRun(t, "", "queue", "list", "--platform", "twitter", "--db", db)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--platform "twitter": Parley knows mastodon and discord`)
	r = parleyRun(t, "", "rules", "test", "--config", exampleConfig(t), "--platform", "twitter", "hello")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--platform "twitter"`)
}

func TestCheckCountsProblemsInWords(t *testing.T) {
	cfg := writeFile(t, "p.yaml", "brand: {name: Acme}\nweb: {addr: \"127.0.0.1:99999\"}\n")
	r := parleyRun(t, "", "check", "--config", cfg)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, `web.addr "127.0.0.1:99999": the port must be a number from 0 to 65535`)
	assert.Contains(t, r.stderr, "1 problem in ")
	assert.NotContains(t, r.stderr, "1 problems")
}

func TestDigestSendWithoutConfigStoresNothing(t *testing.T) {
	db := digestDB(t)
	r := parleyRun(t, "", "digest", "--db", db, "--week", "2026-W46", "--send")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--send needs --config")
	// The real send of that week is not blocked.
	cfg := writeFile(t, "parley.yaml", "brand: {name: Tidewater Skates, timezone: Europe/Berlin}\n"+
		"digest:\n  targets:\n    - {type: file, dir: "+t.TempDir()+"}\n")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "2026-W46", "--send")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "ok      file")
}

func TestDemoCountsMatchTheInboxAndItDoesNotWarn(t *testing.T) {
	data := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan result, 1)
	go func() {
		done <- parleyTo(ctx, strings.NewReader(""), &out, &errb, "demo", "--data", data, "--addr", "127.0.0.1:0")
	}()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Press Ctrl-C") },
		patience, 20*time.Millisecond, "stdout: %s\nstderr: %s", &out, &errb)
	m := regexp.MustCompile(`drafts +(\d+) waiting for approval`).FindStringSubmatch(out.String())
	require.NotNil(t, m, out.String())
	printed, _ := strconv.Atoi(m[1])
	db := data + "/parley.db"
	// The running demo's advocates worker must not draft more than the
	// summary counted.
	pending := func() int {
		r := parleyRun(t, "", "stats", "--json", "--db", db)
		var s parley.Stats
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &s) != nil {
			return -1
		}
		return s.Drafts[parley.DraftPending]
	}
	for range 15 {
		if n := pending(); n >= 0 {
			require.Equal(t, printed, n, "the inbox holds other drafts than the summary counted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Contains(t, out.String(), "parley classify --config config.example.yaml")
	cancel()
	r := <-done
	assert.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "approved drafts wait")
}
