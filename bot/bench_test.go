package bot_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/parleybot/parley"
	"github.com/parleybot/parley/bot"
	"github.com/parleybot/parley/connectors/replay"
	"github.com/parleybot/parley/rules"
	"github.com/parleybot/parley/rules/sentiment"
	"github.com/parleybot/parley/store/storetest"
)

// sampleMentions returns n mentions made from the demo sample's texts and
// authors, each with a fresh id, a fifth of them replies.
func sampleMentions(b *testing.B, n int) []parley.Mention {
	b.Helper()
	var base []parley.Mention
	for _, line := range bytes.Split(replay.Sample(), []byte("\n")) {
		if m, err := replay.ParseLine(line); err == nil {
			base = append(base, m)
		}
	}
	out := make([]parley.Mention, n)
	for i := range out {
		m := base[i%len(base)]
		m.ExternalID = fmt.Sprint(i + 1)
		m.Author.ExternalID = fmt.Sprint(i % 5000)
		m.InReplyTo = ""
		if i%5 == 4 {
			m.InReplyTo = fmt.Sprint(i - 2)
		}
		out[i] = m
	}
	return out
}

// BenchmarkPipeline measures the whole pipeline with persistence: the
// default classifier, the example rules, a real SQLite database.
//
//	go test -run '^$' -bench Pipeline -benchtime 100000x ./bot/
func BenchmarkPipeline(b *testing.B) {
	model := os.Getenv("PARLEY_BENCH_MODEL") // "" is the default model
	cl, err := sentiment.New(model, sentiment.Options{Lexicon: sentiment.Lexicon{"sick": 2.5}})
	if err != nil {
		b.Fatal(err)
	}
	set, problems := rules.Parse("example.yaml", exampleRules(b), "Tidewater Skates")
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	ms := sampleMentions(b, b.N)
	s := storetest.Open(b)
	ctx := context.Background()
	b.ResetTimer()
	p := bot.NewPipeline(s, cl, bot.PipelineOptions{Decide: set.Decide(nil), ConcurrentDecide: true})
	for i := range ms {
		if err := p.Submit(ctx, ms[i]); err != nil {
			b.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := p.Stats()
	if st.Stored != int64(b.N) {
		b.Fatalf("stored %d of %d", st.Stored, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mentions/s")
	b.ReportMetric(float64(st.Drafts)/float64(b.N), "drafts/mention")
}

func exampleRules(b *testing.B) []byte {
	data, err := os.ReadFile("../rules/testdata/example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	return data
}
