package bench

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store/storetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunFillsTheDatabaseAndTimesTheReads(t *testing.T) {
	set, problems := rules.Parse("config.example.yaml", parley.ExampleConfig, "Tidewater Skates")
	require.Empty(t, problems)
	db := filepath.Join(t.TempDir(), "b.db")
	rep, err := Run(context.Background(), Options{
		N: 400, Seed: 2, Raw: true, DBPath: db,
		Classifier: sentiment.NewVader(), Rules: set,
	})
	require.NoError(t, err)
	assert.EqualValues(t, 400, rep.Stored+rep.Duplicates)
	assert.Positive(t, rep.Drafts)
	assert.Positive(t, rep.People)
	for _, q := range []string{"inbox", "inbox_items", "person_history", "thread", "week_digest"} {
		assert.Contains(t, rep.Queries, q)
	}
	assert.Positive(t, rep.RawMentionsPerSec)
	assert.FileExists(t, db, "the filled database stays")
	assert.NoFileExists(t, db+".raw", "the baseline's database is removed")

	_, err = Run(context.Background(), Options{N: 0, DBPath: db, Classifier: sentiment.NewVader(), Rules: set})
	assert.Error(t, err)
}

func TestInboxTimesThePagesAndTheLiveUpdate(t *testing.T) {
	set, problems := rules.Parse("config.example.yaml", parley.ExampleConfig, "Tidewater Skates")
	require.Empty(t, problems)
	db := filepath.Join(t.TempDir(), "b.db")
	_, err := Run(context.Background(), Options{N: 600, Seed: 3, DBPath: db, Classifier: sentiment.NewVader(), Rules: set})
	require.NoError(t, err)
	rep, err := Inbox(context.Background(), db, 120, 1, nil)
	require.NoError(t, err)
	assert.Equal(t, 120, rep.Open, "the newest 120 stay open")
	assert.Positive(t, rep.Conversations)
	for _, p := range inboxPages {
		assert.Contains(t, rep.PageMS, p.name)
		assert.LessOrEqual(t, rep.PageMedianMS[p.name], rep.PageMS[p.name], "%s: the median is not above the slowest", p.name)
		assert.Positive(t, rep.PageBytes[p.name], p.name)
	}
	assert.Positive(t, rep.LiveMS, "the new mention reached the page")
}

// TestRunOnPostgres fills an empty PostgreSQL database through the
// pipeline, times the reads and the raw COPY of the same rows (in scratch
// tables it drops), and refuses a database that holds mentions already.
func TestRunOnPostgres(t *testing.T) {
	set, problems := rules.Parse("config.example.yaml", parley.ExampleConfig, "Tidewater Skates")
	require.Empty(t, problems)
	url := storetest.PostgresURL(t)
	o := Options{N: 400, Seed: 2, Raw: true, DBURL: url, Classifier: sentiment.NewVader(), Rules: set}
	rep, err := Run(context.Background(), o)
	require.NoError(t, err)
	assert.Equal(t, "postgres", rep.Store)
	assert.EqualValues(t, 400, rep.Stored+rep.Duplicates)
	assert.Positive(t, rep.Duplicates, "re-delivered mentions are skipped")
	assert.Positive(t, rep.Drafts)
	for _, q := range []string{"inbox", "inbox_items", "person_history", "thread", "week_digest"} {
		assert.Contains(t, rep.Queries, q)
	}
	assert.Positive(t, rep.RawMentionsPerSec)
	assert.Positive(t, rep.RawRatio)
	var out strings.Builder
	rep.Print(&out)
	assert.Contains(t, out.String(), "of raw COPY into PostgreSQL")

	_, err = Run(context.Background(), o)
	assert.ErrorContains(t, err, "holds mentions already")
}
