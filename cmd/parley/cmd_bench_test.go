package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/parleybot/parley/bench"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func benchJSON(t *testing.T, args ...string) bench.Report {
	t.Helper()
	r := exe(t, append([]string{"bench", "--json", "--model", "vader"}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var rep bench.Report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	return rep
}

func TestBenchThroughputAndRaw(t *testing.T) {
	db := filepath.Join(t.TempDir(), "bench.db")
	rep := benchJSON(t, "--n", "3000", "--raw", "--db", db)
	assert.Equal(t, "throughput", rep.Mode)
	assert.Equal(t, 3000, rep.N)
	assert.EqualValues(t, 3000, rep.Stored+rep.Duplicates)
	assert.Positive(t, rep.Duplicates)
	assert.Positive(t, rep.Drafts)
	assert.Equal(t, 11, rep.Rules, "the example config's rules")
	assert.Less(t, int64(rep.People), rep.Stored/3)
	assert.Less(t, int64(rep.Threads), rep.Stored)
	assert.Positive(t, rep.MentionsPerSec)
	assert.Positive(t, rep.LatencyP50Ms)
	assert.LessOrEqual(t, rep.LatencyP50Ms, rep.LatencyP99Ms)
	assert.LessOrEqual(t, rep.LatencyP99Ms, rep.LatencyMaxMs)
	assert.Greater(t, rep.PeakRSSBytes, int64(1<<20))
	assert.Greater(t, rep.DBBytesPer1000, 100_000.0)
	for _, q := range []string{"inbox", "inbox_items", "person_history", "thread", "week_digest"} {
		assert.Contains(t, rep.Queries, q)
	}
	assert.Positive(t, rep.RawMentionsPerSec)
	assert.InDelta(t, rep.MentionsPerSec/rep.RawMentionsPerSec, rep.RawRatio, 1e-9)
	assert.Len(t, rep.Machine.LoadStart, 3)
	assert.Positive(t, rep.Machine.CPUs)

	// --db keeps the database, with what the report says.
	s := stats(t, db)
	assert.EqualValues(t, rep.Stored, s.Mentions)
	assert.Equal(t, rep.People, s.People)

	// A database that exists is refused.
	r := exe(t, "bench", "--n", "10", "--db", db)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "bench needs a fresh database")
}

func TestBenchPaced(t *testing.T) {
	rep := benchJSON(t, "--n", "300", "--rate", "1000/s")
	assert.Equal(t, "paced", rep.Mode)
	assert.Equal(t, 1000.0, rep.Rate)
	assert.GreaterOrEqual(t, rep.Seconds, 0.29, "300 mentions at 1000/s take 0.3 s")
	assert.Less(t, rep.MentionsPerSec, 1100.0)
	assert.Positive(t, rep.LatencyP99Ms)
}

func TestBenchTextAndBadFlags(t *testing.T) {
	r := exe(t, "bench", "--n", "500", "--model", "vader")
	require.Equal(t, 0, r.code, r.stderr)
	for _, want := range []string{"mentions/s", "p50", "p99", "peak RSS", "bytes per 1,000 mentions", "inbox", "load average"} {
		assert.Contains(t, r.stdout, want)
	}
	r = parleyRun(t, "", "bench", "--rate", "fast")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `--rate "fast"`)
	r = parleyRun(t, "", "bench", "--n", "0")
	assert.Equal(t, 2, r.code)
}
