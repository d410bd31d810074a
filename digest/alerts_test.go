package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/digest"
)

// The digest counts the week's alerts by kind, in every format; alerts of
// other weeks stay out.
func TestDigestCountsAlerts(t *testing.T) {
	ctx := context.Background()
	st := fixtureStore(t)
	loc, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	start := fixtureWeek.Start(loc)
	raise := func(kind, key string, at time.Time) {
		_, ok, err := st.RaiseAlert(ctx, parley.Alert{Kind: kind, Key: key, At: at, Title: "t"}, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	}
	raise(parley.AlertOverdue, "conversation:1", start.Add(time.Hour))
	raise(parley.AlertOverdue, "conversation:2", start.Add(50*time.Hour))
	raise(parley.AlertMentionSpike, "all", start.Add(30*time.Hour))
	raise(parley.AlertMentionSpike, "all", start.Add(-time.Hour)) // the week before

	d, err := digest.Build(ctx, st, fixtureWeek, digest.Options{Location: loc, AsOf: fixtureAsOf})
	require.NoError(t, err)
	assert.Equal(t, []digest.AlertCount{
		{Kind: parley.AlertMentionSpike, Title: "Mention spike", Count: 1},
		{Kind: parley.AlertOverdue, Title: "Overdue conversation", Count: 2},
	}, d.Alerts)
	want := "3 alerts: Mention spike 1 · Overdue conversation 2."
	assert.Contains(t, d.Markdown(), want)
	assert.Contains(t, d.Text(), want)
	html, err := d.HTML(digest.HTMLOptions{})
	require.NoError(t, err)
	assert.Contains(t, html, "<li>"+want+"</li>")

	quiet, err := digest.Build(ctx, st, fixtureWeek.Prev().Prev(), digest.Options{Location: loc, AsOf: fixtureAsOf})
	require.NoError(t, err)
	assert.Contains(t, quiet.Markdown(), "No alerts this week.")
}
