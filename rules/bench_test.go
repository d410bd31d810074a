package rules

import (
	"testing"

	"github.com/parleybot/parley"
)

// benchInputs are a mix of mentions that reach different rules.
func benchInputs() []struct {
	m *parley.Mention
	h parley.History
} {
	return []struct {
		m *parley.Mention
		h parley.History
	}{
		{mention("Just landed my first kickflip on this deck, it is sick!", parley.Positive), firstTimer()},
		{mention("Still loving these wheels after a year", parley.Positive), returning(5)},
		{mention("My trucks broke after two days, I want a refund", parley.Negative), firstTimer()},
		{mention("Do you ship to Portugal? How long does it take", parley.Neutral), returning(1)},
		{mention("Skating the bowl tonight with the crew", parley.Neutral), firstTimer()},
		{mention("free followers at https://spam.example", parley.Neutral), firstTimer()},
	}
}

// BenchmarkEvaluate measures rule evaluation without templates: the
// conditions, Why strings and bookkeeping of the six-rule set, on a mix of
// mentions. Templates are excluded by giving every author #nobot (they
// still match and get their tags and Why); BenchmarkEvaluateWithDraft
// includes them.
//
//	go test -run '^$' -bench Evaluate -benchmem ./rules/
func BenchmarkEvaluate(b *testing.B) {
	s := mustParse(b, sixRules)
	in := benchInputs()
	for i := range in {
		in[i].m.Author.NoBot = true
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := &in[i%len(in)]
		s.Evaluate(x.m, x.h)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkEvaluateWithDraft is BenchmarkEvaluate with reply templates run.
func BenchmarkEvaluateWithDraft(b *testing.B) {
	s := mustParse(b, sixRules)
	in := benchInputs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := &in[i%len(in)]
		s.Evaluate(x.m, x.h)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkEvaluateExample runs the shipped example rule set (nine rules,
// long phrase lists), templates included.
func BenchmarkEvaluateExample(b *testing.B) {
	s := loadExample(b)
	in := benchInputs()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x := &in[i%len(in)]
		s.Evaluate(x.m, x.h)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
