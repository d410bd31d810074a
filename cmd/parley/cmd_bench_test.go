package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchGeneratorLooksLikeRealTraffic(t *testing.T) {
	base, err := benchBase()
	require.NoError(t, err)
	const n = 20_000
	gen := newBenchGen(base, n, 7)
	seen := map[[2]string]bool{}
	byAuthor := map[[2]string]int{}
	platformOf := map[string]string{}
	var dups, replies, emoji, short, long int
	for i := 0; i < n; i++ {
		m := gen.next()
		k := [2]string{m.Platform, m.ExternalID}
		if seen[k] {
			dups++
			continue
		}
		seen[k] = true
		platformOf[m.ExternalID] = m.Platform
		byAuthor[[2]string{m.Platform, m.Author.ExternalID}]++
		if m.InReplyTo != "" {
			replies++
			require.Equal(t, m.Platform, platformOf[m.InReplyTo], "a reply answers an earlier post on its own platform")
		}
		l := utf8.RuneCountInString(m.Text)
		if l < 40 {
			short++
		}
		if l > 200 {
			long++
		}
		if strings.ContainsFunc(m.Text, func(r rune) bool { return r >= 0x1F300 }) {
			emoji++
		}
		require.NotEmpty(t, m.Author.Handle)
		require.False(t, m.CreatedAt.IsZero())
	}
	stored := n - dups
	assert.InDelta(t, 0.01, float64(dups)/n, 0.004, "about 1%% duplicates")
	assert.InDelta(t, 0.20, float64(replies)/float64(stored), 0.03, "about 20%% replies")
	assert.Greater(t, float64(emoji)/float64(stored), 0.2, "many posts have emoji")
	assert.Greater(t, short, stored/20, "some posts are short")
	assert.Greater(t, long, stored/50, "some posts are long")

	top, once := 0, 0
	for _, c := range byAuthor {
		top = max(top, c)
		if c == 1 {
			once++
		}
	}
	assert.Greater(t, float64(top)/float64(stored), 0.01, "a few people post a lot")
	assert.Less(t, float64(top)/float64(stored), 0.10)
	assert.Greater(t, float64(once)/float64(len(byAuthor)), 0.3, "a long tail of people seen once")

	// The same seed makes the same mentions.
	a, b := newBenchGen(base, n, 3), newBenchGen(base, n, 3)
	for i := 0; i < 100; i++ {
		require.Equal(t, a.next(), b.next())
	}
}

func benchJSON(t *testing.T, args ...string) benchReport {
	t.Helper()
	r := exe(t, append([]string{"bench", "--json", "--model", "vader"}, args...)...)
	require.Equal(t, 0, r.code, r.stderr)
	var rep benchReport
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

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"1000/s": 1000, "1000": 1000, "60/m": 1, "2/ms": 2000} {
		got, err := parseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x/s", "-1/s", "5/h", "0"} {
		_, err := parseRate(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "1,234,567", thousands(1234567))
	assert.Equal(t, "999", thousands(999))
}
