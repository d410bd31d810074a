package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// BenchmarkIngestBatch stores batches of 500 new mentions (half of them
// answers in existing threads, every one drafting a reply) and reports
// mentions per second: go test ./store/postgres -run '^$' -bench IngestBatch
func BenchmarkIngestBatch(b *testing.B) {
	st := open(b)
	ctx := context.Background()
	decide := func(m *parley.Mention, _ parley.History) []parley.Draft {
		return []parley.Draft{{Rule: "thanks", Text: "Thanks!"}}
	}
	const batch = 500
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ms := make([]*parley.Mention, batch)
		for j := range ms {
			n++
			m := &parley.Mention{Platform: "mastodon", ExternalID: fmt.Sprint(n), Text: "my order is late again",
				CreatedAt: at.Add(time.Duration(n) * time.Second), Author: parley.Person{ExternalID: fmt.Sprint(n % 2000)}}
			if n%2 == 0 && n > batch {
				m.InReplyTo = fmt.Sprint(n - batch - 1)
			}
			ms[j] = m
		}
		res, err := st.IngestBatch(ctx, ms, decide)
		require.NoError(b, err)
		require.Equal(b, batch, res.Stored)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "mentions/s")
}
