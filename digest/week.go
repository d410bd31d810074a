package digest

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parleybot/parley"
)

// Week is an ISO 8601 week: weeks start on Monday, and week 1 is the week
// with the year's first Thursday. Its bounds depend on a time zone: a week
// in Europe/Berlin starts at Monday 00:00 Berlin time, and the week in
// which summer time ends is 169 hours long.
type Week struct {
	Year int // the ISO year, which differs from the calendar year near New Year
	Num  int // 1..53
}

// ParseWeek parses "2026-W47" (also "2026W47" and "2026-w47"). Errors have
// code EINVALID and say what a week looks like.
func ParseWeek(s string) (Week, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	y, n, ok := strings.Cut(t, "W")
	y = strings.TrimSuffix(y, "-")
	year, err1 := strconv.Atoi(y)
	num, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || len(y) != 4 || len(n) != 2 {
		return Week{}, parley.Errorf(parley.EINVALID, "week %q: want an ISO week like 2026-W47", s)
	}
	w := Week{year, num}
	if num < 1 || num > weeksIn(year) {
		return Week{}, parley.Errorf(parley.EINVALID, "week %q: %d has weeks 1 to %d", s, year, weeksIn(year))
	}
	return w, nil
}

// weeksIn returns how many ISO weeks year has (52 or 53).
func weeksIn(year int) int {
	_, n := time.Date(year, 12, 28, 12, 0, 0, 0, time.UTC).ISOWeek()
	return n
}

// WeekOf returns the ISO week that contains t in loc.
func WeekOf(t time.Time, loc *time.Location) Week {
	y, n := t.In(loc).ISOWeek()
	return Week{y, n}
}

// String returns the week as "2026-W47".
func (w Week) String() string { return fmt.Sprintf("%04d-W%02d", w.Year, w.Num) }

// IsZero reports whether w is the zero Week.
func (w Week) IsZero() bool { return w == Week{} }

// monday returns the calendar date (y, m, d) of the week's Monday.
func (w Week) monday() (int, time.Month, int) {
	// January 4th is always in week 1.
	jan4 := time.Date(w.Year, 1, 4, 12, 0, 0, 0, time.UTC)
	offset := (int(jan4.Weekday()) + 6) % 7 // days since Monday
	mon := jan4.AddDate(0, 0, -offset+7*(w.Num-1))
	return mon.Date()
}

// Start returns Monday 00:00 of the week in loc.
func (w Week) Start(loc *time.Location) time.Time {
	y, m, d := w.monday()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// End returns the first instant after the week: the next Monday 00:00 in
// loc.
func (w Week) End(loc *time.Location) time.Time { return w.Day(7, loc) }

// Day returns 00:00 of the week's i-th day in loc (0 is Monday). Days are
// calendar days, so one of them may be 23 or 25 hours long.
func (w Week) Day(i int, loc *time.Location) time.Time {
	y, m, d := w.monday()
	return time.Date(y, m, d+i, 0, 0, 0, 0, loc)
}

// Prev returns the week before w.
func (w Week) Prev() Week { return w.add(-1) }

// Next returns the week after w.
func (w Week) Next() Week { return w.add(1) }

func (w Week) add(n int) Week {
	y, m, d := w.monday()
	y, k := time.Date(y, m, d+7*n, 12, 0, 0, 0, time.UTC).ISOWeek()
	return Week{y, k}
}

// LastComplete returns the last week that ended before now in loc: the
// week before the one now is in.
func LastComplete(now time.Time, loc *time.Location) Week {
	return WeekOf(now, loc).Prev()
}
