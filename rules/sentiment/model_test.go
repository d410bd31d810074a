package sentiment

import (
	"bytes"
	"compress/gzip"
	"flag"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/tiny.model.gz from testdata/tiny.jsonl")

// tinyConfig trains the fixture model: small, with every feature kind on.
var tinyConfig = TrainConfig{
	Name:        "tiny",
	Features:    FeatureConfig{HashBits: 12, CharMin: 3, CharMax: 4, Bigrams: true, CharWeight: 0.5, Lexicon: true},
	L2:          1e-2,
	Iterations:  40,
	Memory:      5,
	ClassWeight: 1,
}

func readTestExamples(t testing.TB, name string) []Example {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	ex, err := ReadExamples(f)
	require.NoError(t, err)
	require.NotEmpty(t, ex)
	return ex
}

// TestTinyModelMatchesTraining trains on the tiny fixture with the code
// as it is and compares with the committed model file, read through the
// inference path. If the features or the training change, this fails:
// rerun with -update, and retrain the shipped model.
func TestTinyModelMatchesTraining(t *testing.T) {
	ex := readTestExamples(t, "tiny.jsonl")
	trained, err := Train(ex, tinyConfig)
	require.NoError(t, err)
	path := filepath.Join("testdata", "tiny.model.gz")
	if *update {
		var buf bytes.Buffer
		_, err := trained.WriteTo(&buf)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	}
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	committed, err := LoadModel(f)
	require.NoError(t, err)
	require.NoError(t, committed.CheckFingerprint(), "feature code changed: go test ./rules/sentiment -run TestTinyModel -update, then retrain the shipped model")

	assert.Equal(t, trained.hdr.Name, committed.hdr.Name)
	assert.Equal(t, trained.hdr.Features, committed.hdr.Features)
	assert.Equal(t, trained.hdr.Fingerprint, committed.hdr.Fingerprint)
	assert.InEpsilon(t, trained.scale, committed.scale, 1e-3)
	for c := range trained.bias {
		assert.InDelta(t, trained.bias[c], committed.bias[c], 1e-3)
	}
	require.Len(t, committed.w, len(trained.w))
	diff := 0
	for i := range trained.w {
		if d := int(trained.w[i]) - int(committed.w[i]); d > 2 || d < -2 {
			diff++
		}
	}
	assert.Zero(t, diff, "weights differ from the committed tiny model")

	// The committed model, read back, learned the fixture.
	correct := 0
	for _, e := range ex {
		pt, pc := trained.Probabilities(e.Text), committed.Probabilities(e.Text)
		for c := range pt {
			assert.InDelta(t, pt[c], pc[c], 1e-3, e.Text)
		}
		if committed.Classify(e.Text).Label == e.Label {
			correct++
		}
	}
	assert.GreaterOrEqual(t, correct, len(ex)*9/10)
}

func TestTrainIsDeterministic(t *testing.T) {
	ex := readTestExamples(t, "tiny.jsonl")
	cfg := tinyConfig
	cfg.Workers = 1
	a, err := Train(ex, cfg)
	require.NoError(t, err)
	cfg.Workers = 3
	b, err := Train(ex, cfg)
	require.NoError(t, err)
	var ba, bb bytes.Buffer
	_, err = a.WriteTo(&ba)
	require.NoError(t, err)
	_, err = b.WriteTo(&bb)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(ba.Bytes(), bb.Bytes()), "models trained with 1 and 3 workers differ")
}

func TestTrainErrors(t *testing.T) {
	ex := readTestExamples(t, "tiny.jsonl")
	_, err := Train(nil, tinyConfig)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	bad := tinyConfig
	bad.Features.HashBits = 40
	_, err = Train(ex, bad)
	assert.ErrorContains(t, err, "hash_bits 40")
	bad = tinyConfig
	bad.Iterations = 0
	_, err = Train(ex, bad)
	assert.ErrorContains(t, err, "iterations")
	_, err = Train([]Example{{Text: "x", Label: "happy"}}, tinyConfig)
	assert.ErrorContains(t, err, `example 1: label "happy"`)
}

func TestLoadModelErrors(t *testing.T) {
	_, err := LoadModel(strings.NewReader("not a model"))
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))

	m, err := Train(readTestExamples(t, "tiny.jsonl"), tinyConfig)
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = m.WriteTo(&buf)
	require.NoError(t, err)
	// Truncate the decompressed weights: re-encode only part.
	raw := gunzip(t, buf.Bytes())
	_, err = LoadModel(bytes.NewReader(gzipBytes(t, raw[:len(raw)-10])))
	assert.ErrorContains(t, err, "weights")
	_, err = LoadModel(bytes.NewReader(gzipBytes(t, append(raw, 0))))
	assert.ErrorContains(t, err, "data after the weights")
	_, err = LoadModel(bytes.NewReader(gzipBytes(t, []byte("PARLEYSENT\x05\x00\x00\x00{bad}"))))
	assert.ErrorContains(t, err, "header")
}

func TestDefaultModel(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	require.NoError(t, m.CheckFingerprint())
	assert.Equal(t, ModelSocial, m.Name())
	tests := []struct {
		text string
		want parley.Label
	}{
		{"I love this product, best purchase ever!", parley.Positive},
		{"My order arrived broken and support never answered. Awful.", parley.Negative},
		{"Does the v2 board come in blue?", parley.Neutral},
		{"store opens at 9 on saturday", parley.Neutral},
		{"not happy at all with the service", parley.Negative},
		{"thanks so much, you guys are great :)", parley.Positive},
		{"just got my new board 😍😍", parley.Positive},
		{"broken after one day 💔", parley.Negative},
		{"worst update ever 😡", parley.Negative},
		{"", parley.Neutral},
	}
	for _, tt := range tests {
		s := m.Classify(tt.text)
		assert.Equal(t, tt.want, s.Label, "%q: %+v", tt.text, s)
		assert.Equal(t, ModelSocial, s.Model)
		assert.InDelta(t, 0, s.Score, 1)
		assert.Greater(t, s.Confidence, 0.33)
		assert.LessOrEqual(t, s.Confidence, 1.0)
	}
}

// TestDefaultModelNotWorseThanVaderOnEmoji uses hand-written, hand-labelled
// emoji posts (the training data has no emoji).
func TestDefaultModelNotWorseThanVaderOnEmoji(t *testing.T) {
	ex := readTestExamples(t, "emoji.jsonl")
	m, err := DefaultModel()
	require.NoError(t, err)
	social := Evaluate(m, ex)
	vader := Evaluate(NewVader(), ex)
	t.Logf("emoji.jsonl macro-recall: social %.3f, vader %.3f", social.MacroRecall, vader.MacroRecall)
	assert.GreaterOrEqual(t, social.MacroRecall, vader.MacroRecall)
}

// The load time is a benchmark (BenchmarkLoadModel, figures in BENCHMARKS.md),
// not a timed assertion: a loaded machine would make it flaky.
func TestDefaultModelLoads(t *testing.T) {
	m, err := LoadModel(bytes.NewReader(embeddedModel))
	require.NoError(t, err)
	require.NotNil(t, m)
	assert.Less(t, len(embeddedModel), 30<<20)
}

func BenchmarkLoadModel(b *testing.B) {
	loadVaderTables()
	for b.Loop() {
		if _, err := LoadModel(bytes.NewReader(embeddedModel)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(embeddedModel))/1e6, "MB_embedded")
}

func TestProbabilitiesSumToOne(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	for _, text := range benchCorpus(50) {
		p := m.Probabilities(text)
		assert.InDelta(t, 1, p[0]+p[1]+p[2], 1e-9)
		for _, v := range p {
			assert.False(t, math.IsNaN(v))
		}
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}
