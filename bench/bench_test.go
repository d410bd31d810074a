package bench

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBenchGeneratorLooksLikeRealTraffic(t *testing.T) {
	base, err := samplePosts()
	require.NoError(t, err)
	const n = 20_000
	gen := newGen(base, n, 7)
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
	a, b := newGen(base, n, 3), newGen(base, n, 3)
	for i := 0; i < 100; i++ {
		require.Equal(t, a.next(), b.next())
	}
}

func TestParseRate(t *testing.T) {
	for in, want := range map[string]float64{"1000/s": 1000, "1000": 1000, "60/m": 1, "2/ms": 2000} {
		got, err := ParseRate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "x/s", "-1/s", "5/h", "0"} {
		_, err := ParseRate(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "1,234,567", thousands(1234567))
	assert.Equal(t, "999", thousands(999))
}
