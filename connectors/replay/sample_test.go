package replay

import (
	"bufio"
	"bytes"
	"context"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func sampleMentions(t *testing.T) []parley.Mention {
	t.Helper()
	var errs []LineError
	src := NewSource(SampleReader(), Options{OnError: func(e LineError) { errs = append(errs, e) }})
	sink := &fakeSink{}
	require.NoError(t, src.Run(context.Background(), sink))
	require.Empty(t, errs, "every line of the sample parses")
	assert.Equal(t, int64(len(Sample())), src.Bytes())
	return sink.mentions
}

type key struct{ platform, id string }

func TestSampleShape(t *testing.T) {
	ms := sampleMentions(t)
	n := len(ms)
	assert.GreaterOrEqual(t, n, 300)
	assert.LessOrEqual(t, n, 400)

	// Both platforms, about 60/40.
	var mastodon int
	for _, m := range ms {
		if m.Platform == parley.PlatformMastodon {
			mastodon++
		}
	}
	assert.InDelta(t, 0.6, float64(mastodon)/float64(n), 0.05)

	// Hand-written texts, not a template.
	texts := map[string]bool{}
	for _, m := range ms {
		texts[m.Text] = true
	}
	assert.GreaterOrEqual(t, len(texts), 300)

	// People: 5-6 fans with 10-25 posts, many one-time posters, repeat
	// customers in between, and the same person always looks the same.
	type pkey struct{ platform, id string }
	posts := map[pkey]int{}
	seen := map[pkey]parley.Person{}
	for _, m := range ms {
		k := pkey{m.Platform, m.Author.ExternalID}
		posts[k]++
		if p, ok := seen[k]; ok {
			assert.Equal(t, p, m.Author, "one author, one profile")
		}
		seen[k] = m.Author
	}
	var fans, once, repeat int
	for _, c := range posts {
		switch {
		case c >= 10:
			fans++
			assert.LessOrEqual(t, c, 25)
		case c == 1:
			once++
		default:
			repeat++
		}
	}
	assert.GreaterOrEqual(t, fans, 5)
	assert.LessOrEqual(t, fans, 6)
	assert.GreaterOrEqual(t, once, 100)
	assert.GreaterOrEqual(t, repeat, 10)
}

func TestSampleThreadsAndDuplicates(t *testing.T) {
	ms := sampleMentions(t)
	byKey := map[key]parley.Mention{}
	index := map[key]int{}
	var dups, replies int
	for i, m := range ms {
		k := key{m.Platform, m.ExternalID}
		if prev, ok := byKey[k]; ok {
			dups++
			assert.Equal(t, prev, m, "a duplicate repeats its line exactly")
			continue
		}
		byKey[k] = m
		index[k] = i
		if m.InReplyTo != "" {
			replies++
			pi, ok := index[key{m.Platform, m.InReplyTo}]
			require.True(t, ok, "%s %s answers %s, which is not an earlier post on the same platform", m.Platform, m.ExternalID, m.InReplyTo)
			assert.Less(t, pi, i)
			assert.True(t, ms[pi].CreatedAt.Before(m.CreatedAt), "a reply comes after its parent")
			if m.Platform == parley.PlatformDiscord && !m.Direct {
				assert.Equal(t, ms[pi].Channel, m.Channel, "a Discord reply stays in its channel")
			}
		}
	}
	assert.GreaterOrEqual(t, dups, 1)
	assert.LessOrEqual(t, dups, 2)
	unique := len(byKey)
	share := float64(replies) / float64(unique)
	assert.GreaterOrEqual(t, share, 0.20)
	assert.LessOrEqual(t, share, 0.30)

	// Depth of each reply chain; some threads are 4-6 deep, and in some
	// of them people answer each other.
	depth := func(m parley.Mention) int {
		d := 1
		for m.InReplyTo != "" {
			m = byKey[key{m.Platform, m.InReplyTo}]
			d++
		}
		return d
	}
	var deep, conversations int
	maxDepth := 0
	for _, m := range byKey {
		d := depth(m)
		maxDepth = max(maxDepth, d)
		if d >= 4 {
			deep++
		}
		if m.InReplyTo != "" {
			parent := byKey[key{m.Platform, m.InReplyTo}]
			if parent.InReplyTo != "" {
				grand := byKey[key{m.Platform, parent.InReplyTo}]
				if grand.Author.ExternalID == m.Author.ExternalID && parent.Author.ExternalID != m.Author.ExternalID {
					conversations++ // A → B → A
				}
			}
		}
	}
	assert.GreaterOrEqual(t, deep, 5)
	assert.GreaterOrEqual(t, maxDepth, 5)
	assert.LessOrEqual(t, maxDepth, 6)
	assert.GreaterOrEqual(t, conversations, 5)
}

func isEmoji(r rune) bool {
	return (r >= 0x1F300 && r <= 0x1FAFF) || (r >= 0x2600 && r <= 0x27BF)
}

func TestSampleContent(t *testing.T) {
	ms := sampleMentions(t)
	langs := map[string]int{}
	var emoji, html, nobot, bigAngry, discordDMs, mastodonDMs, threadKeys, multiline int
	for _, m := range ms {
		langs[m.Lang]++
		if strings.ContainsFunc(m.Text, isEmoji) {
			emoji++
		}
		if strings.Contains(m.Text, "<script>") || strings.Contains(m.Text, "<b>") {
			html++
		}
		if m.Author.NoBot {
			nobot++
			assert.Contains(t, m.Author.Name, "#nobot")
		}
		if m.Author.Followers >= 50_000 {
			bigAngry++
		}
		if m.Direct {
			if m.Platform == parley.PlatformDiscord {
				discordDMs++
				assert.Empty(t, m.Channel)
			} else {
				mastodonDMs++
				assert.Equal(t, "direct", m.Visibility)
			}
		}
		if m.ThreadKey != "" {
			threadKeys++
		}
		if strings.Contains(m.Text, "\n") {
			multiline++
		}
		assert.NotEmpty(t, m.URL)
		if m.Platform == parley.PlatformMastodon {
			assert.NotEmpty(t, m.Lang, "Mastodon tells the language")
			assert.NotEmpty(t, m.Visibility)
		}
	}
	assert.GreaterOrEqual(t, emoji, 40)
	for _, l := range []string{"de", "es", "fr"} {
		assert.GreaterOrEqual(t, langs[l], 5, "posts in %s", l)
	}
	assert.GreaterOrEqual(t, html, 2)
	assert.GreaterOrEqual(t, nobot, 1)
	assert.GreaterOrEqual(t, bigAngry, 3, "the angry account with 50k followers posts several times")
	assert.GreaterOrEqual(t, discordDMs, 3)
	assert.GreaterOrEqual(t, mastodonDMs, 1)
	assert.GreaterOrEqual(t, threadKeys, 3)
	assert.GreaterOrEqual(t, multiline, 1)

	// The things a skate brand's rules will want to find.
	all := strings.ToLower(string(Sample()))
	for _, w := range []string{"sick", "rad", "gnarly", "canada", "warranty", "restock", "size", "snapped", "support", "parcelwave"} {
		assert.Contains(t, all, w)
	}
	assert.Contains(t, all, strings.ToLower(SampleMastodonAccount[:strings.IndexByte(SampleMastodonAccount, '@')]))
}

func TestSampleTimes(t *testing.T) {
	ms := sampleMentions(t)
	from := time.Date(2026, 10, 19, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	perDay := map[string]int{}
	seen := map[key]bool{}
	var last time.Time
	for _, m := range ms {
		k := key{m.Platform, m.ExternalID}
		if seen[k] {
			continue // a re-delivered duplicate is out of order on purpose
		}
		seen[k] = true
		assert.False(t, m.CreatedAt.Before(from), m.CreatedAt)
		assert.True(t, m.CreatedAt.Before(to), m.CreatedAt)
		assert.False(t, m.CreatedAt.Before(last), "the file is in time order")
		last = m.CreatedAt
		perDay[m.CreatedAt.Format(time.DateOnly)]++
	}
	require.Len(t, perDay, 35, "every day of the five weeks has posts")

	var weekday, weekend []int
	spikeDay, spike := "", 0
	for d, c := range perDay {
		day, _ := time.Parse(time.DateOnly, d)
		if c > spike {
			spikeDay, spike = d, c
		}
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			weekend = append(weekend, c)
		} else {
			weekday = append(weekday, c)
		}
	}
	mean := func(xs []int) float64 {
		s := 0
		for _, x := range xs {
			s += x
		}
		return float64(s) / float64(len(xs))
	}
	assert.Greater(t, mean(weekday), 1.3*mean(weekend), "weekdays are busier")
	var counts []int
	for _, c := range perDay {
		counts = append(counts, c)
	}
	sort.Ints(counts)
	median := counts[len(counts)/2]
	assert.Equal(t, "2026-11-10", spikeDay, "launch day")
	assert.GreaterOrEqual(t, float64(spike), 3*float64(median), "spike %d vs median %d", spike, median)
}

func TestSampleIsJSONLines(t *testing.T) {
	s := Sample()
	require.True(t, bytes.HasSuffix(s, []byte("\n")))
	s[0] = 'X' // a copy: the next call is unharmed
	assert.Equal(t, byte('{'), Sample()[0])
	sc := bufio.NewScanner(SampleReader())
	sc.Buffer(nil, MaxLineBytes)
	for sc.Scan() {
		l := sc.Text()
		assert.True(t, strings.HasPrefix(l, `{"platform":"`), l)
		assert.False(t, strings.ContainsFunc(l, func(r rune) bool { return r == unicode.ReplacementChar }))
	}
	require.NoError(t, sc.Err())
}
