package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley/connectors/replay"
)

// digestDB ingests the bundled sample (VADER, no rules) into a new
// database for the digest tests.
func digestDB(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sample := filepath.Join(dir, "sample.jsonl")
	require.NoError(t, os.WriteFile(sample, replay.Sample(), 0o600))
	cfg := writeFile(t, "ingest.yaml", "brand: {name: Tidewater Skates, timezone: Europe/Berlin}\nsentiment: {model: vader}\n")
	db := filepath.Join(dir, "parley.db")
	r := parleyRun(t, "", "ingest", "--quiet", "--config", cfg, "--db", db, sample)
	require.Equal(t, 0, r.code, r.stderr)
	return db
}

func TestDigestCommand(t *testing.T) {
	db := digestDB(t)

	// Markdown on standard output by default; no config, no brand.
	r := parleyRun(t, "", "digest", "--db", db, "--week", "2026-W46")
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "# Parley · week 46 (9–15 Nov 2026)\n"), r.stdout)
	assert.Contains(t, r.stdout, "## What to do next\n1. ")
	assert.Contains(t, r.stdout, "- Spike on Tue 10 Nov: **")

	// HTML to a file, the format from the extension, LAST resolved to a
	// week with mentions whatever today is.
	dir := t.TempDir()
	targets := filepath.Join(dir, "digests")
	cfg := writeFile(t, "parley.yaml", `brand: {name: Tidewater Skates, timezone: Europe/Berlin}
digest:
  response_target: 30m
  targets:
    - {type: file, dir: `+targets+`, formats: [html, md]}
`)
	out := filepath.Join(dir, "digest.html")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "LAST", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "wrote the digest of 2026-W")
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(page), "<!DOCTYPE html>"))
	assert.Equal(t, 3, strings.Count(string(page), "<svg "))
	assert.Contains(t, string(page), "Tidewater Skates · weekly digest")
	assert.Contains(t, string(page), "in Europe/Berlin")
	assert.Contains(t, string(page), "within 30m")

	// --send stores and delivers once; again is refused; --force resends.
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "2026-W46", "--send")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "digest 2026-W46: sent (")
	assert.Contains(t, r.stdout, "  ok      file "+targets+": "+filepath.Join(targets, "parley-digest-2026-W46.html"))
	md, err := os.ReadFile(filepath.Join(targets, "parley-digest-2026-W46.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "# Tidewater Skates · week 46")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "2026-W46", "--send")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "digest 2026-W46 was already sent at ")
	assert.Contains(t, r.stderr, "--force sends it again")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "2026-W46", "--send", "--force")
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestDigestCommandReportsFailedTargets(t *testing.T) {
	db := digestDB(t)
	targets := filepath.Join(t.TempDir(), "digests")
	cfg := writeFile(t, "parley.yaml", `brand: {name: Tidewater Skates}
digest:
  targets:
    - {type: discord, channel: "123"}
    - {type: file, dir: `+targets+`}
`)
	r := parleyRun(t, "", "digest", "--config", cfg, "--db", db, "--week", "2026-W45", "--send")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stdout, "digest 2026-W45: partial")
	assert.Contains(t, r.stdout, "FAILED  discord channel 123 after 1 attempts: no discord connector is set up to post digests")
	assert.Contains(t, r.stderr, "1 of 2 targets failed")
	_, err := os.Stat(filepath.Join(targets, "parley-digest-2026-W45.txt"))
	assert.NoError(t, err, "the other target got it")
}

func TestDigestCommandBadInput(t *testing.T) {
	db := digestDB(t)
	r := parleyRun(t, "", "digest", "--db", db, "--week", "last week")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--week: week "last week": want an ISO week like 2026-W47`)

	r = parleyRun(t, "", "digest", "--db", db, "--format", "pdf")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--format "pdf": want md, html or text`)

	r = parleyRun(t, "", "digest", "--db", db, "--force")
	assert.Equal(t, 2, r.code)

	cfg := writeFile(t, "bad.yaml", "brand: {name: X}\n\ndigest:\n  timezone: Europe/Nowhere\n  targets:\n    - {type: email, from: a@example.com, to: [b@example.com]}\n")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `bad.yaml:4: digest.timezone "Europe/Nowhere" is not a known time zone`)
	assert.Contains(t, r.stderr, `bad.yaml:6: digest.targets[0] (email): smtp is missing`)

	cfg = writeFile(t, "typo.yaml", "digest:\n  shedule: \"0 9 * * MON\"\n")
	r = parleyRun(t, "", "digest", "--config", cfg, "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "typo.yaml:2: digest:")
	assert.Contains(t, r.stderr, "shedule")

	r = parleyRun(t, "", "digest", "--db", filepath.Join(t.TempDir(), "none.db"))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no database at")
}
