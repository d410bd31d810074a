package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store"
	"github.com/parleybot/parley/store/storetest"
)

// streamStart is a Monday: the replayed stream's first week.
var streamStart = time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)

const week = 7 * 24 * time.Hour

// line is one replay line.
type line struct {
	Platform  string         `json:"platform"`
	ID        string         `json:"id"`
	Author    map[string]any `json:"author"`
	Text      string         `json:"text"`
	CreatedAt string         `json:"created_at"`
	InReplyTo string         `json:"in_reply_to,omitempty"`
}

// stream builds a replay stream: weeks of an ordinary rhythm (2 mentions
// an hour at night, 6 in office hours, one more in odd weeks, one in four
// negative), then extra lines.
func stream(weeks int, extra ...line) *bytes.Buffer {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	n := 0
	for h := 0; h < weeks*7*24; h++ {
		at := streamStart.Add(time.Duration(h) * time.Hour)
		count := 2
		if at.Hour() >= 9 && at.Hour() < 18 {
			count = 6
		}
		count += (h / (7 * 24)) % 2
		for i := range count {
			n++
			text := "Loving my new board, great wheels"
			if n%4 == 0 {
				text = "My order is late and support is terrible, I hate this"
			}
			_ = enc.Encode(line{Platform: "mastodon", ID: fmt.Sprint(n), Text: text,
				Author:    map[string]any{"id": fmt.Sprint("u", n%50), "handle": fmt.Sprint("user", n%50), "followers": 100},
				CreatedAt: at.Add(time.Duration(i*60/count) * time.Minute).Format(time.RFC3339)})
		}
	}
	for _, l := range extra {
		_ = enc.Encode(l)
	}
	return &buf
}

// replayInto runs a stream through the pipeline (VADER classifies) into st.
func replayInto(t *testing.T, st *store.Store, r *bytes.Buffer) {
	t.Helper()
	cl, err := sentiment.New(sentiment.ModelVader, sentiment.Options{})
	require.NoError(t, err)
	p := bot.NewPipeline(st, cl, bot.PipelineOptions{})
	src := replay.NewSource(r, replay.Options{})
	require.NoError(t, src.Run(context.Background(), p))
	require.NoError(t, p.Close(context.Background()))
	require.Zero(t, src.Errors())
}

// spikeLines are 40 mentions (half of them angry) between at and at+40m.
func spikeLines(at time.Time) []line {
	var out []line
	for i := range 40 {
		text := "Is the shop down? Checkout fails"
		if i%2 == 0 {
			text = "Checkout is broken again, this is awful and I am furious"
		}
		out = append(out, line{Platform: "mastodon", ID: fmt.Sprint("spike", i), Text: text,
			Author:    map[string]any{"id": fmt.Sprint("s", i), "handle": fmt.Sprint("spiker", i), "followers": 100},
			CreatedAt: at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)})
	}
	return out
}

func kinds(as []parley.Alert) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		out[a.Kind]++
	}
	return out
}

func TestAlertsSpikeOnReplayedStream(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	spikeAt := streamStart.Add(5*week + 2*24*time.Hour + 14*time.Hour) // the sixth week's Wednesday, 14:00
	replayInto(t, st, stream(6, spikeLines(spikeAt)...))
	var emitted []bot.AlertPayload
	al := bot.NewAlerts(st, bot.AlertsOptions{Spike: bot.SpikeOptions{Weeks: 4, MinWeeks: 3},
		Emit: func(typ string, _ int64, data any) {
			assert.Equal(t, parley.EventAlertRaised, typ)
			emitted = append(emitted, data.(map[string]any)["alert"].(bot.AlertPayload))
		}, BaseURL: "https://parley.example/"})

	// A normal week (the fifth, with four before it) raises nothing, every
	// half hour of it.
	for now := streamStart.Add(4 * week); now.Before(streamStart.Add(5 * week)); now = now.Add(30 * time.Minute) {
		raised, err := al.Check(ctx, now)
		require.NoError(t, err)
		require.Empty(t, raised, "a normal hour at %s", now)
	}
	// Nor do the first weeks, without enough history to judge.
	raised, err := al.Check(ctx, streamStart.Add(week+14*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, raised)

	// The spike hour, looked at every 30 s for three hours: one alert of
	// each kind, the cooldown suppresses the repeats.
	var all []parley.Alert
	for now := spikeAt.Add(-time.Hour); now.Before(spikeAt.Add(2 * time.Hour)); now = now.Add(30 * time.Second) {
		raised, err := al.Check(ctx, now)
		require.NoError(t, err)
		all = append(all, raised...)
	}
	assert.Equal(t, map[string]int{parley.AlertMentionSpike: 1, parley.AlertNegativeSpike: 1}, kinds(all))
	for _, a := range all {
		assert.True(t, a.At.After(spikeAt) && a.At.Before(spikeAt.Add(20*time.Minute)), "raised as the spike built: %s", a.At)
		assert.Positive(t, a.Threshold)
		assert.GreaterOrEqual(t, float64(a.Count), a.Threshold)
		assert.Contains(t, a.Detail, "over the same hour of the last 4 weeks")
	}
	stored, err := st.Alerts(ctx, parley.AlertFilter{})
	require.NoError(t, err)
	assert.Len(t, stored, 2)
	require.Len(t, emitted, 2, "each raised alert goes to the webhooks")
	assert.Equal(t, "https://parley.example/", emitted[0].URL)
	assert.ElementsMatch(t, []string{"Mention spike", "Negative spike"}, []string{emitted[0].KindTitle, emitted[1].KindTitle})

	// Half an hour in, the spike is still there: only the cooldown kept
	// it quiet, as a detector with a short one shows.
	short := bot.NewAlerts(st, bot.AlertsOptions{Spike: bot.SpikeOptions{Weeks: 4, MinWeeks: 3}, Cooldown: 10 * time.Minute})
	again, err := short.Check(ctx, spikeAt.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, map[string]int{parley.AlertMentionSpike: 1, parley.AlertNegativeSpike: 1}, kinds(again))
}

func TestSpikeThresholdFloor(t *testing.T) {
	b := bot.SpikeThreshold([]int{0, 0, 0, 0}, 3, 10)
	assert.InDelta(t, 10, b.Threshold, 1e-9, "a quiet brand's 0→3 is no spike: the floor holds")
	b = bot.SpikeThreshold([]int{20, 20, 20, 20}, 3, 10)
	assert.InDelta(t, 20+3*4.4721, b.Threshold, 1e-3, "a flat baseline still allows its Poisson noise")
	b = bot.SpikeThreshold([]int{10, 30, 10, 30}, 2, 5)
	assert.InDelta(t, 20, b.Mean, 1e-9)
	assert.InDelta(t, 10, b.Dev, 1e-9)
	assert.InDelta(t, 40, b.Threshold, 1e-9)
}

func TestAlertsLargeReachNegative(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	at := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	post := func(id, handle string, followers int, text string, minutes int) line {
		return line{Platform: "mastodon", ID: id, Text: text, CreatedAt: at.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339),
			Author: map[string]any{"id": handle, "handle": handle, "followers": followers}}
	}
	replayInto(t, st, stream(0,
		post("1", "bigangry", 52000, "Worst customer service ever, my deck snapped and nobody answers. Awful.", 0),
		post("2", "bigangry", 52000, "Still terrible. Still no answer. Disgusting.", 5),
		post("3", "bighappy", 90000, "Love this brand, best wheels ever!", 1),
		post("4", "smallangry", 40, "Terrible, awful, broken deck", 2)))
	al := bot.NewAlerts(st, bot.AlertsOptions{Spike: bot.SpikeOptions{Off: true}, LargeReachFollowers: 10000})

	raised, err := al.Check(ctx, at.Add(10*time.Minute))
	require.NoError(t, err)
	require.Len(t, raised, 1, "one alert for the big account's two angry posts")
	a := raised[0]
	assert.Equal(t, parley.AlertLargeReach, a.Kind)
	assert.Contains(t, a.Title, "@bigangry")
	assert.Contains(t, a.Title, "52000 followers")
	assert.Contains(t, a.Detail, "Worst customer service")
	assert.NotZero(t, a.ConversationID)
	assert.Equal(t, "/threads/"+fmt.Sprint(a.ConversationID), a.Path())

	raised, err = al.Check(ctx, at.Add(40*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, raised, "within the cooldown")
	raised, err = al.Check(ctx, at.Add(3*time.Hour))
	require.NoError(t, err)
	assert.Empty(t, raised, "the posts are older than the look-back by then")
}

func TestAlertsOverdueConversation(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	at := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	replayInto(t, st, stream(0,
		line{Platform: "mastodon", ID: "1", Text: "Where is my order? It's been two weeks", CreatedAt: at.Format(time.RFC3339),
			Author: map[string]any{"id": "waiter", "handle": "waiter", "followers": 10}},
		line{Platform: "mastodon", ID: "2", Text: "Can I change my shipping address?", CreatedAt: at.Add(50 * time.Minute).Format(time.RFC3339),
			Author: map[string]any{"id": "fresh", "handle": "fresh", "followers": 10}}))
	al := bot.NewAlerts(st, bot.AlertsOptions{Spike: bot.SpikeOptions{Off: true}, ResponseTarget: time.Hour})

	raised, err := al.Check(ctx, at.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Empty(t, raised, "nobody waited an hour yet")
	raised, err = al.Check(ctx, at.Add(70*time.Minute))
	require.NoError(t, err)
	require.Len(t, raised, 1)
	assert.Equal(t, parley.AlertOverdue, raised[0].Kind)
	assert.Contains(t, raised[0].Title, "@waiter has waited 1h10m0s")
	assert.Equal(t, "/threads/"+fmt.Sprint(raised[0].ConversationID), raised[0].Path())

	raised, err = al.Check(ctx, at.Add(4*time.Hour))
	require.NoError(t, err)
	require.Len(t, raised, 1, "the other conversation only: one alert per waiting period, however long it waits")
	assert.Contains(t, raised[0].Title, "@fresh")
}

// A raised alert goes out as the alert.raised webhook event, signed (the
// receiver checks the HMAC), with a Notify to the channels beside it.
func TestAlertsDeliveredAsSignedWebhook(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	rcv, srv := newReceiver(t)
	addHook(t, st, srv.URL+"/alerts", parley.EventAlertRaised)
	w := bot.NewWebhooks(st, client(), bot.WebhooksOptions{})
	runWebhooks(t, w)
	at := time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)
	replayInto(t, st, stream(0, line{Platform: "mastodon", ID: "1", CreatedAt: at.Format(time.RFC3339),
		Text:   "Worst customer service ever, my deck snapped and nobody answers. Awful.",
		Author: map[string]any{"id": "bigangry", "handle": "bigangry", "followers": 52000}}))
	var notified []string
	al := bot.NewAlerts(st, bot.AlertsOptions{Spike: bot.SpikeOptions{Off: true}, LargeReachFollowers: 10000,
		Emit: w.Emit, BaseURL: "https://parley.example",
		Notify: func(_ context.Context, a parley.Alert) error {
			notified = append(notified, bot.AlertText(a, "https://parley.example"))
			return nil
		}})
	raised, err := al.Check(ctx, at.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, raised, 1)

	e := rcv.wait(t)
	assert.Equal(t, parley.EventAlertRaised, e.Type)
	var data struct {
		Alert bot.AlertPayload `json:"alert"`
	}
	require.NoError(t, json.Unmarshal(e.Data, &data))
	assert.Equal(t, raised[0].ID, data.Alert.ID)
	assert.Equal(t, parley.AlertLargeReach, data.Alert.Kind)
	assert.Equal(t, "Large-reach negative post", data.Alert.KindTitle)
	assert.Equal(t, fmt.Sprintf("https://parley.example/threads/%d", raised[0].ConversationID), data.Alert.URL)
	rcv.mu.Lock()
	assert.Empty(t, rcv.bad, "every signature checked out")
	rcv.mu.Unlock()
	require.Len(t, notified, 1)
	assert.Contains(t, notified[0], "⚠ Large-reach negative post: Negative post by @bigangry (52000 followers)")
}
