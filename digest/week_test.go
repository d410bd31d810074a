package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/store/storetest"
)

func TestParseWeek(t *testing.T) {
	for in, want := range map[string]digest.Week{
		"2026-W47": {2026, 47}, "2026W47": {2026, 47}, " 2026-w01 ": {2026, 1}, "2026-W53": {2026, 53}, "2020-W53": {2020, 53},
	} {
		w, err := digest.ParseWeek(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, w, in)
	}
	for _, in := range []string{"", "2026", "2026-47", "2026-W0", "2026-W00", "2027-W53", "2026-W54", "26-W10", "2026-Wxx", "LAST"} {
		_, err := digest.ParseWeek(in)
		assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), in)
		assert.Contains(t, parley.ErrorMessage(err), in)
	}
	assert.Equal(t, "2026-W07", digest.Week{2026, 7}.String())
}

func TestWeekBoundsAcrossDST(t *testing.T) {
	// Summer time ends in Berlin on Sunday 25 October 2026 at 03:00: that
	// week (W43) has 169 hours. It begins on 29 March 2026 (W13): 167.
	w43 := digest.Week{2026, 43}
	assert.Equal(t, time.Date(2026, 10, 19, 0, 0, 0, 0, berlin), w43.Start(berlin))
	assert.Equal(t, time.Date(2026, 10, 26, 0, 0, 0, 0, berlin), w43.End(berlin))
	assert.Equal(t, 169*time.Hour, w43.End(berlin).Sub(w43.Start(berlin)))
	assert.Equal(t, time.Date(2026, 10, 18, 22, 0, 0, 0, time.UTC), w43.Start(berlin).UTC())
	assert.Equal(t, time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC), w43.End(berlin).UTC())
	assert.Equal(t, 25*time.Hour, w43.Day(7, berlin).Sub(w43.Day(6, berlin)), "the last Sunday of October has 25 hours")
	w13 := digest.Week{2026, 13}
	assert.Equal(t, 167*time.Hour, w13.End(berlin).Sub(w13.Start(berlin)))
	assert.Equal(t, w43.Next().Start(berlin), w43.End(berlin))

	// Instants near the edges belong to the week of their local date.
	for utc, want := range map[time.Time]digest.Week{
		time.Date(2026, 10, 18, 21, 59, 0, 0, time.UTC): {2026, 42}, // Sun 23:59 CEST
		time.Date(2026, 10, 18, 22, 0, 0, 0, time.UTC):  {2026, 43}, // Mon 00:00 CEST, Sunday in UTC
		time.Date(2026, 10, 25, 22, 59, 0, 0, time.UTC): {2026, 43}, // Sun 23:59 CET
		time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC):  {2026, 44}, // Mon 00:00 CET
	} {
		assert.Equal(t, want, digest.WeekOf(utc, berlin), utc.String())
	}
	assert.Equal(t, digest.Week{2026, 42}, digest.WeekOf(time.Date(2026, 10, 18, 22, 0, 0, 0, time.UTC), time.UTC))
}

func TestWeekISOYearEdges(t *testing.T) {
	// 2026 has 53 weeks; 2027-W01 starts on Monday 4 January 2027.
	w := digest.Week{2026, 53}
	assert.Equal(t, time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), w.Start(time.UTC))
	assert.Equal(t, digest.Week{2027, 1}, w.Next())
	assert.Equal(t, time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC), w.Next().Start(time.UTC))
	assert.Equal(t, w, digest.Week{2027, 1}.Prev())
	// 1 January 2021 belongs to 2020-W53; 2025-W01 starts on 30 December 2024.
	assert.Equal(t, digest.Week{2020, 53}, digest.WeekOf(time.Date(2021, 1, 1, 12, 0, 0, 0, time.UTC), time.UTC))
	assert.Equal(t, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), digest.Week{2025, 1}.Start(time.UTC))
	assert.Equal(t, digest.Week{2024, 52}, digest.Week{2025, 1}.Prev())
	assert.Equal(t, digest.Week{2026, 46}, digest.LastComplete(time.Date(2026, 11, 22, 23, 30, 0, 0, berlin), berlin))
	assert.Equal(t, digest.Week{2026, 47}, digest.LastComplete(time.Date(2026, 11, 23, 0, 0, 0, 0, berlin), berlin))
}

// TestDigestAcrossDST counts a week that crosses the end of summer time
// by Berlin's calendar, not UTC's.
func TestDigestAcrossDST(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	utc := func(d, h, m int) time.Time { return time.Date(2026, 10, d, h, m, 0, 0, time.UTC) }
	var ms []*parley.Mention
	for i, tm := range []time.Time{
		utc(18, 21, 50), // Sun 18 Oct 23:50 CEST: the week before
		utc(18, 22, 10), // Mon 19 Oct 00:10 CEST (still Sunday in UTC)
		utc(24, 22, 30), // Sun 25 Oct 00:30 CEST (Saturday in UTC)
		utc(25, 0, 30),  // Sun 25 Oct 02:30 CEST
		utc(25, 1, 30),  // Sun 25 Oct 02:30 CET: the hour repeats
		utc(25, 22, 30), // Sun 25 Oct 23:30 CET
		utc(25, 23, 30), // Mon 26 Oct 00:30 CET: the week after
	} {
		ms = append(ms, &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: string(rune('a' + i)), Text: "hi",
			CreatedAt: tm, Author: parley.Person{ExternalID: "p"}, Sentiment: parley.Sentiment{Label: parley.Neutral}})
	}
	_, err := st.IngestBatch(ctx, ms, nil)
	require.NoError(t, err)
	d, err := digest.Build(ctx, st, digest.Week{2026, 43}, digest.Options{Location: berlin, AsOf: utc(27, 0, 0)})
	require.NoError(t, err)
	var days, prev []int
	for _, day := range d.Volume.Days {
		days = append(days, day.Count)
		prev = append(prev, day.PrevCount)
	}
	assert.Equal(t, []int{1, 0, 0, 0, 0, 0, 4}, days)
	assert.Equal(t, []int{0, 0, 0, 0, 0, 0, 1}, prev)
	assert.Equal(t, 5, d.Volume.Total)
	assert.Equal(t, time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), d.Volume.Days[6].Date)
	assert.Contains(t, d.Markdown(), "week 43 (19–25 Oct 2026)")
}
