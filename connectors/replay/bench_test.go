package replay

import (
	"bytes"
	"context"
	"testing"

	"github.com/parleybot/parley"
)

type discardSink struct{ n int }

func (s *discardSink) Submit(context.Context, parley.Mention) error { s.n++; return nil }

func BenchmarkParseLine(b *testing.B) {
	line := []byte(validLine)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseLine(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunSample replays the sample, reporting mentions per second.
func BenchmarkRunSample(b *testing.B) {
	data := bytes.Repeat(Sample(), 30) // about 10,000 lines
	b.SetBytes(int64(len(data)))
	var total int
	for b.Loop() {
		sink := &discardSink{}
		if err := NewSource(bytes.NewReader(data), Options{OnError: func(LineError) {}}).Run(context.Background(), sink); err != nil {
			b.Fatal(err)
		}
		total += sink.n
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "mentions/s")
}
