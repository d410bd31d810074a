package bot_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/rules/advocate"
	"github.com/parleybot/parley/store/storetest"
)

// BenchmarkAdvocatesRunOnce scores 5,000 people with 50,000 mentions over
// 90 days (a fifth of them replies) and offers prompts, per pass.
func BenchmarkAdvocatesRunOnce(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	end := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	labels := []parley.Label{parley.Positive, parley.Positive, parley.Neutral, parley.Negative}
	var batch []*parley.Mention
	for i := range 50000 {
		m := &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprint(i),
			Author:    parley.Person{ExternalID: fmt.Sprint(i % 5000), Handle: fmt.Sprintf("p%d@x.social", i%5000), Followers: i % 3000},
			Text:      "a post about the brand",
			CreatedAt: end.Add(-time.Duration(i%90)*24*time.Hour - time.Duration(i%1440)*time.Minute),
			Sentiment: parley.Sentiment{Label: labels[(i/7)%len(labels)]}}
		if i%5 == 4 {
			m.InReplyTo = fmt.Sprint(i - 3)
		}
		batch = append(batch, m)
		if len(batch) == 1000 {
			_, err := st.IngestBatch(ctx, batch, nil)
			require.NoError(b, err)
			batch = batch[:0]
		}
	}
	cfg := advocate.Defaults()
	cfg.Templates = []advocate.Template{{Name: "review", Text: "Hi {{first .Person}}, a review?"}}
	cfg.Prompts = []advocate.PromptRule{{Name: "r", When: "person.advocate", Template: "review"}}
	eng, err := advocate.New(cfg, "B", "UTC")
	require.NoError(b, err)
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{Now: func() time.Time { return end }})
	first := time.Now()
	pass, err := adv.RunOnce(ctx) // the first pass moves states and queues prompts
	require.NoError(b, err)
	b.Logf("first pass: %s, %d changes, %d prompts", time.Since(first), len(pass.Changes), len(pass.Prompts))
	b.ResetTimer()
	for range b.N {
		pass, err := adv.RunOnce(ctx)
		require.NoError(b, err)
		b.ReportMetric(float64(pass.People), "people")
		b.ReportMetric(float64(len(pass.Prompts)), "prompts")
	}
}

// BenchmarkAdvocatesOnStored is the hook's cost on a 512-mention batch
// with no prompt to watch and no opt-out in it (the common case).
func BenchmarkAdvocatesOnStored(b *testing.B) {
	ctx := context.Background()
	st := storetest.Open(b)
	var batch []*parley.Mention
	for i := range 512 {
		batch = append(batch, &parley.Mention{Platform: parley.PlatformMastodon, ExternalID: fmt.Sprint(i),
			Author: parley.Person{ExternalID: fmt.Sprint(i % 100)}, Text: "love the new wheels, can't stop skating",
			CreatedAt: t0, InReplyTo: fmt.Sprint(i / 2)})
	}
	_, err := st.IngestBatch(ctx, batch, nil)
	require.NoError(b, err)
	eng, err := advocate.New(advocate.Defaults(), "B", "UTC")
	require.NoError(b, err)
	adv := bot.NewAdvocates(st, eng, bot.AdvocatesOptions{})
	b.ResetTimer()
	for range b.N {
		adv.OnStored(batch, parley.IngestResult{Stored: len(batch)})
	}
}
