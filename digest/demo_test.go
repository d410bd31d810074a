package digest_test

import (
	"bytes"
	"context"
	"hash/fnv"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/digest"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// clock is a settable clock for the store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func hash(parts ...string) uint32 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return h.Sum32()
}

// demoStore replays the bundled sample through the default classifier
// and the example rules into a new store, then plays a small team
// answering the drafts the way a real one would: most approved within
// minutes to hours (some edited first), some rejected, a few left
// waiting. Every choice is a hash of the draft, so the result is the
// same on every run.
func demoStore(t testing.TB) (*store.Store, *clock) {
	t.Helper()
	ctx := context.Background()
	clk := &clock{}
	st := storetest.Open(t, storetest.Clock(clk.Now))

	classifier, err := sentiment.New("", sentiment.Options{})
	if err != nil {
		// The default model is being retrained in the same tree; VADER
		// stands in while it does not load.
		t.Logf("default sentiment model: %v; using vader", err)
		classifier, err = sentiment.New("vader", sentiment.Options{})
	}
	require.NoError(t, err)
	example, err := os.ReadFile("../rules/testdata/example.yaml")
	require.NoError(t, err)
	set, problems := rules.Parse("example.yaml", example, replay.SampleBrand)
	require.Empty(t, problems)
	decide := set.Decide(nil)

	var ms []parley.Mention
	for _, line := range bytes.Split(replay.Sample(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := replay.ParseLine(line)
		require.NoError(t, err)
		m.Sentiment = classifier.Classify(m.Text)
		ms = append(ms, m)
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].CreatedAt.Before(ms[j].CreatedAt) })
	for i := range ms {
		m := ms[i]
		clk.Set(m.CreatedAt.Add(3 * time.Second))
		_, err := st.IngestBatch(ctx, []*parley.Mention{&m}, decide)
		require.NoError(t, err)
	}

	drafts, err := st.Drafts(ctx, parley.DraftFilter{States: []parley.DraftState{parley.DraftPending}, Limit: 10000})
	require.NoError(t, err)
	sort.Slice(drafts, func(i, j int) bool { return drafts[i].ID < drafts[j].ID })
	agents := []string{"ana", "ben", "kai"}
	delays := []time.Duration{4 * time.Minute, 9 * time.Minute, 14 * time.Minute, 22 * time.Minute, 31 * time.Minute,
		38 * time.Minute, 47 * time.Minute, 55 * time.Minute, 72 * time.Minute, 95 * time.Minute, 2*time.Hour + 40*time.Minute,
		5 * time.Hour, 9 * time.Hour, 19 * time.Hour, 31 * time.Hour}
	for _, d := range drafts {
		h := hash(d.Text, d.Rule, d.CreatedAt.String())
		agent := agents[h%3]
		delay := delays[(h/3)%uint32(len(delays))]
		// The team got faster after the launch week.
		if d.CreatedAt.After(time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)) && delay > time.Hour {
			delay /= 3
		}
		switch r := (h / 97) % 20; {
		case r < 3: // left waiting
			continue
		case r < 5:
			clk.Set(d.CreatedAt.Add(delay))
			_, err := st.RejectDraft(ctx, d.ID, agent, "not needed")
			require.NoError(t, err)
		default:
			clk.Set(d.CreatedAt.Add(delay - time.Minute))
			text := ""
			if r < 9 {
				text = d.Text + " Thanks for your patience!"
			}
			_, err := st.ApproveDraft(ctx, d.ID, agent, text)
			require.NoError(t, err)
			claimed, err := st.ClaimDrafts(ctx, 1, clk.Now())
			require.NoError(t, err)
			require.Len(t, claimed, 1)
			require.NoError(t, st.MarkSent(ctx, claimed[0].ID, "posted-"+claimed[0].IdempotencyKey(), d.CreatedAt.Add(delay)))
		}
	}
	return st, clk
}

var berlin = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	return loc
}()

// TestDemoDigest builds the digest of the demo's launch week (2026-W46,
// the week with the spike) and checks it says what a manager needs. With
// PARLEY_DIGEST_DEMO=DIR it also writes digest.html, .md, .txt and the
// chart PNGs there (docs/digest.png is a screenshot of that page).
func TestDemoDigest(t *testing.T) {
	st, _ := demoStore(t)
	ctx := context.Background()
	asOf := time.Date(2026, 11, 23, 9, 0, 0, 0, berlin)
	d, err := digest.Build(ctx, st, digest.Week{Year: 2026, Num: 46}, digest.Options{
		Brand: replay.SampleBrand, Location: berlin, ResponseTarget: time.Hour, AsOf: asOf,
	})
	require.NoError(t, err)
	require.NotEmpty(t, d.Volume.Spikes, "the launch day is a spike")
	require.Equal(t, time.Date(2026, 11, 10, 0, 0, 0, 0, berlin), d.Volume.Spikes[0].Date)
	require.Len(t, d.Next, 3)
	if dir := os.Getenv("PARLEY_DIGEST_DEMO"); dir != "" {
		page, err := d.HTML(digest.HTMLOptions{})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "digest.html"), []byte(page), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "digest.md"), []byte(d.Markdown()), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "digest.txt"), []byte(d.Text()), 0o644))
		imgs, err := d.ChartImages()
		require.NoError(t, err)
		for _, img := range imgs {
			require.NoError(t, os.WriteFile(filepath.Join(dir, img.Name), img.PNG, 0o644))
		}
	}
}
