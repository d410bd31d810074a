package web_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// TestBrowserScreenshots writes docs/inbox.png, docs/person.png and
// docs/inbox-phone.png (390 px) from the
// demo sample (connectors/replay) run through the example config's rules,
// when PARLEY_UPDATE_SCREENSHOTS=1:
//
//	PARLEY_UPDATE_SCREENSHOTS=1 go test ./web -run TestBrowserScreenshots
func TestBrowserScreenshots(t *testing.T) {
	if os.Getenv("PARLEY_UPDATE_SCREENSHOTS") == "" {
		t.Skip("set PARLEY_UPDATE_SCREENSHOTS=1 to rewrite docs/inbox.png and docs/person.png")
	}
	var clock time.Time
	st := storetest.Open(t, storetest.Clock(func() time.Time {
		if clock.IsZero() {
			return time.Now()
		}
		return clock
	}))
	seedSample(t, st, &clock)
	clock = time.Time{}
	e := newEnvOn(t, st)
	e.addUser("ana", parley.RoleManager, "a good long password")

	b := newBrowser(t, 60*time.Second)
	b.do(t,
		chromedp.EmulateViewport(1280, 1000),
		chromedp.Navigate(e.url+"/login"),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "ana"),
		chromedp.SendKeys(chromedp.ID("password"), "a good long password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	time.Sleep(300 * time.Millisecond) // let the first poll settle
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll("../docs", 0o755))
	require.NoError(t, os.WriteFile("../docs/inbox.png", png, 0o644))

	jules, err := st.FindPerson(context.Background(), parley.PlatformMastodon, "jules@skate.social")
	require.NoError(t, err)
	b.do(t,
		chromedp.EmulateViewport(1280, 1300),
		chromedp.Navigate(fmt.Sprintf("%s/people/%d", e.url, jules.ID)),
		chromedp.WaitVisible(chromedp.CSS(".chart")),
	)
	png, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("../docs/person.png", png, 0o644))

	// A phone: one column, the menu folded.
	b.do(t,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateTouch),
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="on"]`)),
	)
	png, err = chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("../docs/inbox-phone.png", png, 0o644))
	t.Log("wrote docs/inbox.png, docs/person.png and docs/inbox-phone.png")
}

// seedSample stores the demo sample as `parley demo` would (sentiment with
// the example lexicon, the example rules), shifted so its last post is 25
// minutes old, and has the team decide and send every draft older than a
// day and a half, so the inbox shows what a live day looks like.
func seedSample(t *testing.T, st *store.Store, clock *time.Time) {
	t.Helper()
	ctx := context.Background()
	var cfg struct {
		Brand struct {
			Name string `yaml:"name"`
		} `yaml:"brand"`
		Sentiment struct {
			Lexicon sentiment.Lexicon `yaml:"lexicon"`
		} `yaml:"sentiment"`
		Rules yaml.Node `yaml:"rules"`
	}
	require.NoError(t, yaml.Unmarshal(parley.ExampleConfig, &cfg))
	set, probs := rules.Load("config.example.yaml", &cfg.Rules, cfg.Brand.Name)
	require.Empty(t, probs)
	var clf parley.Classifier
	clf, err := sentiment.New(sentiment.ModelDefault, sentiment.Options{Lexicon: cfg.Sentiment.Lexicon})
	if err != nil {
		t.Logf("default sentiment model unavailable (%v): using VADER", err)
		clf = sentiment.WithLexicon(sentiment.NewVader(), cfg.Sentiment.Lexicon)
	}
	decide := set.Decide(nil)

	var ms []parley.Mention
	for line := range bytes.SplitSeq(replay.Sample(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		m, err := replay.ParseLine(line)
		require.NoError(t, err)
		ms = append(ms, m)
	}
	slices.SortStableFunc(ms, func(a, b parley.Mention) int { return a.CreatedAt.Compare(b.CreatedAt) })
	now := time.Now().UTC()
	shift := now.Add(-25 * time.Minute).Sub(ms[len(ms)-1].CreatedAt).Truncate(time.Minute)
	cutoff := now.Add(-36 * time.Hour)
	staff := []string{"ana", "bo", "chidi"}
	for i := range ms {
		m := &ms[i]
		m.CreatedAt = m.CreatedAt.Add(shift)
		m.Sentiment = clf.Classify(m.Text)
		*clock = m.CreatedAt.Add(40 * time.Second)
		res, err := st.IngestBatch(ctx, []*parley.Mention{m}, decide)
		require.NoError(t, err)
		if m.CreatedAt.After(cutoff) {
			continue
		}
		for j, id := range res.DraftIDs {
			d, err := st.Draft(ctx, id)
			require.NoError(t, err)
			if d.State != parley.DraftPending {
				continue
			}
			who := staff[(i+j)%len(staff)]
			*clock = m.CreatedAt.Add(time.Duration(12+(i*7)%80) * time.Minute)
			if i%9 == 4 {
				_, err = st.RejectDraft(ctx, id, who, "answered in DM")
				require.NoError(t, err)
				continue
			}
			_, err = st.ApproveDraft(ctx, id, who, "")
			require.NoError(t, err)
			claimed, err := st.ClaimDrafts(ctx, 10, *clock)
			require.NoError(t, err)
			for _, c := range claimed {
				require.NoError(t, st.MarkSent(ctx, c.ID, fmt.Sprintf("sent-%d", c.ID), clock.Add(time.Minute)))
			}
		}
	}
	jules, err := st.FindPerson(ctx, parley.PlatformMastodon, "jules@skate.social")
	require.NoError(t, err)
	*clock = now.Add(-50 * time.Hour)
	_, err = st.AddNote(ctx, jules.ID, "bo", "Regular at the harbour spot. Sent a replacement bearing set on the 3rd; happy since. Good fit for the team rider shout-outs.")
	require.NoError(t, err)
}
