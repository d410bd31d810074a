package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/advocate"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// exampleConfig is the part of config.example.yaml the replay needs.
type exampleConfig struct {
	Brand struct {
		Name     string `yaml:"name"`
		TimeZone string `yaml:"timezone"`
	} `yaml:"brand"`
	Sentiment struct {
		Lexicon   sentiment.Lexicon            `yaml:"lexicon"`
		Languages map[string]sentiment.Lexicon `yaml:"languages"`
	} `yaml:"sentiment"`
	Advocates advocate.Config `yaml:"advocates"`
}

// replayed runs the demo sample through the pipeline (VADER with the
// example config's lexicons, plus French words as a brand with French
// fans would add, and the example rules) into a store in t.TempDir(),
// with the advocate hook on every batch, and returns the store and the
// worker, whose clock is at the sample's end.
func replayed(t *testing.T, st *store.Store, clock *time.Time) (*bot.Advocates, exampleConfig) {
	t.Helper()
	var cfg exampleConfig
	require.NoError(t, yaml.Unmarshal(parley.ExampleConfig, &cfg))
	langs := map[string]sentiment.Lexicon{}
	for k, v := range cfg.Sentiment.Languages {
		langs[k] = v
	}
	langs["fr"] = sentiment.Lexicon{"super": 2, "parfait": 2, "parfaites": 2, "fan": 1.5, "merci": 1.5,
		"pardonne": 1, "déçue": -2, "bloqué": -1.5, "tombé": -1}
	cl, err := sentiment.New(sentiment.ModelVader, sentiment.Options{Lexicon: cfg.Sentiment.Lexicon, LanguageLexicons: langs})
	require.NoError(t, err)
	set, problems := rules.Parse("config.example.yaml", parley.ExampleConfig, cfg.Brand.Name)
	require.Empty(t, problems)
	eng, err := advocate.New(cfg.Advocates, cfg.Brand.Name, cfg.Brand.TimeZone)
	require.NoError(t, err)
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Now: func() time.Time { return *clock }})
	p := bot.NewPipeline(st, cl, bot.PipelineOptions{Decide: set.Decide(nil), OnStored: adv.OnStored})
	src := replay.NewSource(replay.SampleReader(), replay.Options{})
	require.NoError(t, src.Run(context.Background(), p))
	require.NoError(t, p.Close(context.Background()))
	require.Zero(t, src.Errors())
	return adv, cfg
}

func TestReplayedMonthFindsTheFans(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	var clock time.Time
	adv, cfg := replayed(t, st, &clock)

	// The worker runs every Monday at 10:00 UTC (11:00 in Berlin, 03:00 in
	// Denver) over the five weeks of the sample, the last time the morning
	// after it ends.
	var prompts []parley.Prompt
	refused := map[string]int{}
	var last bot.AdvocatePass
	start := time.Date(2026, 10, 26, 10, 0, 0, 0, time.UTC)
	for week := range 5 {
		clock = start.Add(time.Duration(week) * 7 * 24 * time.Hour)
		pass, err := adv.RunOnce(ctx)
		require.NoError(t, err)
		prompts = append(prompts, pass.Prompts...)
		for k, v := range pass.Refused {
			refused[k] += v
		}
		last = pass
	}

	state := map[string]parley.Person{}
	people, err := st.Advocates(ctx, nil, 100)
	require.NoError(t, err)
	for _, p := range people {
		state[p.Handle] = p
		x := last.Explanations[p.ID]
		t.Logf("%-28s %-9s %6.2f  %d positive on %d days, %d negative, %d replies", p.Handle, p.AdvocateState,
			p.AdvocateScore, x.Positive, x.PositiveDays, x.Negative, x.RepliesReceived)
	}
	// The regulars who keep praising the brand are advocates...
	fans := []string{"kelpkid", "grindqueen", "jules@skate.social", "mimi@piaille.fr"}
	for _, h := range fans {
		assert.Equal(t, parley.AdvocateActive, state[h].AdvocateState, h)
	}
	// (Hank's praise is quiet, "Good people", "That's how you keep a
	// customer": six of his fourteen posts are praise by hand, but the
	// model calls two positive, so whether he qualifies depends on the
	// model; he did while it read a complaint of his as praise.)
	// ... Ben, whose posts VADER reads as half complaints, is a candidate;
	// the angry 52k account, the #nobot fan and one-time posters are not
	// advocates.
	assert.Contains(t, []string{parley.AdvocateCandidate, ""}, state["sk8dad_ben"].AdvocateState)
	for _, h := range []string{"marcusvale@skate.social", "rhea@tidal.zone"} {
		assert.NotEqual(t, parley.AdvocateActive, state[h].AdvocateState, h)
	}
	advocates := 0
	for _, p := range people {
		if p.AdvocateState == parley.AdvocateActive {
			advocates++
			assert.GreaterOrEqual(t, p.Mentions, 5, "%s is an advocate with %d posts", p.Handle, p.Mentions)
		}
	}
	assert.Len(t, fans, advocates, "no one else")

	// The state changes are recorded with their times, for the digest.
	changes, err := st.AdvocateChanges(ctx, start, clock.Add(time.Second))
	require.NoError(t, err)
	became := map[string]time.Time{}
	for _, c := range changes {
		assert.Equal(t, "parley", c.Actor)
		assert.NotEmpty(t, c.Reason)
		if c.To == parley.AdvocateActive {
			became[c.Handle] = c.At
		}
	}
	for _, h := range fans {
		assert.False(t, became[h].IsZero(), "%s became an advocate during the month", h)
	}
	assert.True(t, became["kelpkid"].Before(clock), "the busiest fan qualified before the last week")
	weekly, err := st.AdvocateChanges(ctx, clock.Add(-7*24*time.Hour), clock.Add(time.Second))
	require.NoError(t, err)
	assert.Less(t, len(weekly), len(changes))

	// Prompts: queued pending for the advocates the example rules pick,
	// never within 14 days of a negative post, never in quiet hours, at
	// most one per person.
	pol := parley.ConsentPolicy{QuietStart: 21 * time.Hour, QuietEnd: 9 * time.Hour, TimeZone: cfg.Brand.TimeZone}
	per := map[int64]int{}
	for _, p := range prompts {
		per[p.PersonID]++
		assert.Equal(t, parley.DraftPending, p.State)
		d, err := st.Draft(ctx, p.DraftID)
		require.NoError(t, err)
		assert.Equal(t, parley.KindPrompt, d.Kind)
		person, err := st.Person(ctx, p.PersonID)
		require.NoError(t, err)
		assert.Equal(t, parley.AdvocateActive, person.AdvocateState)
		ms, err := st.PersonMentions(ctx, p.PersonID, 100)
		require.NoError(t, err)
		for _, m := range ms {
			if m.Sentiment.Label == parley.Negative && !m.CreatedAt.After(p.CreatedAt) {
				assert.Greater(t, p.CreatedAt.Sub(m.CreatedAt), 14*24*time.Hour, "prompt %d for @%s", p.DraftID, person.Handle)
			}
		}
		_, _, quiet := parley.QuietUntil(p.CreatedAt, person.TimeZone, pol)
		assert.False(t, quiet)
		t.Logf("prompt %d for @%s at %s: %s (%s)", p.DraftID, person.Handle, p.CreatedAt.Format("01-02"), p.Template, p.Rule)
	}
	for id, n := range per {
		assert.Equal(t, 1, n, "person %d", id)
	}
	assert.NotEmpty(t, prompts)
	assert.NotZero(t, refused[parley.RefusedCooldown], "the fans' complaints hold some prompts back")
	t.Logf("%d prompts, refused: %v", len(prompts), refused)
}
