package digest

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/internal/textutil"
)

// fmtDur writes a duration the way people say it: 45s, 42m, 3h 10m, 2d 4h.
func fmtDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Round(time.Minute).Minutes()))
	case d < 24*time.Hour:
		d = d.Round(time.Minute)
		h, m := int(d.Hours()), int(d.Minutes())%60
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	default:
		d = d.Round(time.Hour)
		days, h := int(d.Hours())/24, int(d.Hours())%24
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd %dh", days, h)
	}
}

// fmtAge writes how long ago something was, in words: "3 days", "5 hours".
func fmtAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours())/24)
	case d >= 24*time.Hour:
		return "1 day"
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Hour:
		return "1 hour"
	default:
		return fmt.Sprintf("%d minutes", max(1, int(d.Minutes())))
	}
}

// pct writes a share (0..1) as a whole percentage.
func pct(f float64) string { return fmt.Sprintf("%d%%", int(math.Round(100*f))) }

// change writes the relative change from prev to cur: "+18%", "−12%",
// "±0%", or "new" when there was nothing before.
func change(cur, prev int) string {
	switch {
	case prev == 0 && cur == 0:
		return "±0%"
	case prev == 0:
		return "new"
	}
	c := int(math.Round(100 * float64(cur-prev) / float64(prev)))
	switch {
	case c > 0:
		return fmt.Sprintf("+%d%%", c)
	case c < 0:
		return fmt.Sprintf("−%d%%", -c)
	}
	return "±0%"
}

// points writes the change of a share in percentage points: "+3 pts".
func points(cur, prev float64) string {
	p := int(math.Round(100*cur)) - int(math.Round(100*prev))
	switch {
	case p > 0:
		return fmt.Sprintf("+%d pts", p)
	case p < 0:
		return fmt.Sprintf("−%d pts", -p)
	}
	return "±0 pts"
}

// dayName writes a date as "Tue 10 Nov".
func dayName(t time.Time) string { return t.Format("Mon 2 Jan") }

// weekRange writes the week's dates: "9–15 Nov 2026", "26 Oct – 1 Nov
// 2026", "29 Dec 2025 – 4 Jan 2026".
func weekRange(start, end time.Time) string {
	last := end.AddDate(0, 0, -1)
	switch {
	case start.Year() != last.Year():
		return start.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
	case start.Month() != last.Month():
		return start.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	}
	return fmt.Sprintf("%d–%s", start.Day(), last.Format("2 Jan 2006"))
}

// quote shortens text to at most n runes on one line, ending with "…"
// when cut.
func quote(text string, n int) string {
	s := textutil.OneLine(text)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n-1]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,.;:") + textutil.Ellipsis
}

// platformName writes a platform as people do.
func platformName(p string) string {
	switch p {
	case parley.PlatformMastodon:
		return "Mastodon"
	case parley.PlatformDiscord:
		return "Discord"
	case "":
		return "unknown"
	}
	return strings.ToUpper(p[:1]) + p[1:]
}

// Title is the digest's headline: "Tidewater Skates · week 47 (16–22 Nov 2026)".
func (d *Digest) Title() string {
	brand := d.Brand
	if brand == "" {
		brand = "Parley"
	}
	return fmt.Sprintf("%s · week %d (%s)", brand, d.Week.Num, weekRange(d.Start, d.End))
}

// Summary is the one-line headline stored with the digest: "214 mentions
// (+12%) · 18% negative · 71% replied · median reply 42m".
func (d *Digest) Summary() string {
	parts := []string{fmt.Sprintf("%d mentions (%s)", d.Volume.Total, change(d.Volume.Total, d.Volume.PrevTotal))}
	if d.Volume.Total > 0 {
		parts = append(parts, pct(d.Sentiment.Share(parley.Negative))+" negative")
		parts = append(parts, pct(d.Response.ReplyRate())+" replied")
	}
	if d.Response.Replied > 0 {
		parts = append(parts, "median reply "+fmtDur(d.Response.Median))
	}
	if d.Sentiment.Waiting > 0 {
		parts = append(parts, fmt.Sprintf("%d negative waiting", d.Sentiment.Waiting))
	}
	return strings.Join(parts, " · ")
}
