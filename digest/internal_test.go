package digest

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/parleybot/parley"
)

func TestPercentile(t *testing.T) {
	m := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Minute)
		}
		return out
	}
	assert.Equal(t, time.Duration(0), percentile(nil, 0.5))
	assert.Equal(t, 7*time.Minute, percentile(m(7), 0.9))
	assert.Equal(t, 15*time.Minute, percentile(m(10, 20), 0.5))
	assert.Equal(t, 19*time.Minute, percentile(m(10, 20), 0.9))
	assert.Equal(t, 30*time.Minute, percentile(m(10, 20, 30, 40, 50), 0.5))
	assert.Equal(t, 46*time.Minute, percentile(m(10, 20, 30, 40, 50), 0.9))
	// Rounded to the second.
	assert.Equal(t, 2*time.Second, percentile([]time.Duration{time.Second, 2 * time.Second}, 0.9))
}

func TestTokens(t *testing.T) {
	assert.Equal(t, []string{"love", "the", "new", "wheels", "#skatelife", "don't", "stop", "bearings", "grip"},
		tokens("Love the NEW wheels!! #SkateLife — don't stop @tidewater ana@skate.social https://x.example/a bearings, 2026 grip's 😀"))
	assert.Equal(t, []string{"#tidewater", "über", "räder"}, tokens("#Tidewater: Über-Räder"))
}

func TestTopicsSkipBrandAndStopwords(t *testing.T) {
	ms := func(texts ...string) []parley.Mention {
		var out []parley.Mention
		for _, s := range texts {
			out = append(out, parley.Mention{Text: s})
		}
		return out
	}
	cur := ms("Tidewater skates wheels wheels wheels", "the wheels are great #drop", "wheels again #drop", "riptide", "riptide", "riptide")
	prev := ms("wheels", "riptide", "riptide", "riptide", "riptide")
	top := topics(cur, prev, "Tidewater Skates")
	// wheels counts once per post: 3 (1 before); riptide fell; "the",
	// "are", "again" are stopwords; the brand is no topic.
	assert.Equal(t, []Term{{Term: "wheels", Count: 3, Prev: 1}}, top.Terms)
	assert.Equal(t, []Term{{Term: "#drop", Count: 2, Prev: 0}}, top.Hashtags)
}

func TestNiceMax(t *testing.T) {
	for v, want := range map[int]int{0: 4, 3: 4, 5: 8, 9: 12, 36: 40, 47: 48, 99: 100, 130: 160, 1001: 1200} {
		assert.Equal(t, want, niceMax(v), v)
	}
}

func TestFormat(t *testing.T) {
	assert.Equal(t, "–", fmtDur(0))
	assert.Equal(t, "45s", fmtDur(45*time.Second))
	assert.Equal(t, "42m", fmtDur(42*time.Minute))
	assert.Equal(t, "1h", fmtDur(time.Hour))
	assert.Equal(t, "3h 10m", fmtDur(3*time.Hour+10*time.Minute))
	assert.Equal(t, "2d 4h", fmtDur(52*time.Hour))
	assert.Equal(t, "+18%", change(118, 100))
	assert.Equal(t, "−12%", change(88, 100))
	assert.Equal(t, "new", change(3, 0))
	assert.Equal(t, "±0%", change(0, 0))
	assert.Equal(t, "+3 pts", points(0.21, 0.18))
	assert.Equal(t, "9–15 Nov 2026", weekRange(time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "26 Oct – 1 Nov 2026", weekRange(time.Date(2026, 10, 26, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "28 Dec 2026 – 3 Jan 2027", weekRange(time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)))
	assert.Equal(t, "a b c…", quote("a  b\nc d e f g h", 7))
	assert.Equal(t, "short", quote("short", 7))
}

func TestTargetX(t *testing.T) {
	assert.Equal(t, 1.0, targetX(15*time.Minute))
	assert.Equal(t, 2.0, targetX(time.Hour))
	assert.InDelta(t, 1.0+15.0/45, targetX(30*time.Minute), 1e-9)
	assert.Equal(t, 4.5, targetX(48*time.Hour))
}

func TestSplit(t *testing.T) {
	assert.Equal(t, []string{"short"}, Split("short\n", 100))
	text := "# Title\nline one\n\n## A\n- a1\n- a2\n\n## B\n- b1 is a much longer line here\n"
	parts := Split(text, 40)
	assert.Equal(t, []string{"# Title\nline one\n\n## A\n- a1\n- a2", "## B\n- b1 is a much longer line here"}, parts)
	for _, n := range []int{12, 20, 30} {
		parts = Split(text, n)
		for _, p := range parts {
			assert.LessOrEqual(t, len(p), n, p)
		}
		assert.Equal(t, strings.Fields(text), strings.Fields(strings.Join(parts, " ")), "nothing is lost")
	}
	// A line longer than max is cut at a space, never inside a rune.
	long := "ääää ääää ääää ääää"
	parts = Split(long, 11)
	for _, p := range parts {
		assert.LessOrEqual(t, len(p), 11)
		assert.True(t, utf8.ValidString(p), p)
	}
	assert.Equal(t, "ääää ääää ääää ääää", strings.Join(parts, " "))
}

func TestSafeURL(t *testing.T) {
	assert.True(t, safeURL("https://x.example/a?b=c"))
	assert.False(t, safeURL("javascript:alert(1)"))
	assert.False(t, safeURL("https://x.example/a>b"))
	assert.False(t, safeURL(""))
}

func TestCorrectionsCountedFromTheAuditLog(t *testing.T) {
	audit := []parley.AuditEntry{
		{Action: "correct-sentiment", Detail: "mention 4: negative -> positive"},
		{Action: "correct-sentiment", Detail: "mention 5: neutral -> neutral"},
		{Action: "approve", Detail: "edited before approval"},
		{Action: "correct-sentiment", Detail: "mention 6: positive -> negative"},
	}
	total, disagreed := corrections(audit)
	if total != 3 || disagreed != 2 {
		t.Fatalf("corrections = %d, %d; want 3, 2", total, disagreed)
	}
	d := &Digest{Sentiment: Sentiment{Corrections: total, Disagreed: disagreed}}
	if md := d.Markdown(); !strings.Contains(md, "3 labels corrected by people; 2 disagreed with the model") {
		t.Fatalf("markdown lacks the corrections line:\n%s", md)
	}
}
