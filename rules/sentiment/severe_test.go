package sentiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// sharedDataDir finds ../shared/data/sentiment beside the repository (as
// CI lays it out), looking up from this package; "" if it is absent.
func sharedDataDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	require.NoError(t, err)
	for {
		d := filepath.Join(dir, "shared", "data", "sentiment")
		if _, err := os.Stat(filepath.Join(d, "dev.jsonl")); err == nil {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func readExamplesFile(t *testing.T, path string) []Example {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	ex, err := ReadExamples(f)
	require.NoError(t, err)
	require.NotEmpty(t, ex)
	return ex
}

// TestSevereMistakesOnCommittedSlice guards the product's measure on a
// fixed slice of GoEmotions dev comments (Apache-2.0) committed in
// testdata, so it runs everywhere: the shipped classifier (model, slang
// lexicon and calibration) measured 4.1% positive-called-negative and
// 5.7% negative-called-positive on it (10 of its 176 negative comments;
// 4.8% on the whole dev file), macro-recall 0.704 and a calibration error
// of 0.038. A rise past these bounds fails.
func TestSevereMistakesOnCommittedSlice(t *testing.T) {
	ex := readExamplesFile(t, filepath.Join("testdata", "goemotions_dev_slice.jsonl"))
	require.Len(t, ex, 800)
	c, err := New("", Options{})
	require.NoError(t, err)
	r := Evaluate(c, ex)
	t.Logf("slice: pos->neg %.3f neg->pos %.3f macro-recall %.3f neg precision %.3f ECE %.3f", r.PositiveAsNegative, r.NegativeAsPositive, r.MacroRecall, r.NegativePrecision, r.ECE)
	assert.LessOrEqual(t, r.PositiveAsNegative, 0.05, "positive comments called negative (an apology to a fan)")
	assert.LessOrEqual(t, r.NegativeAsPositive, 0.06, "negative comments called positive (a thank-you to an angry customer)")
	assert.GreaterOrEqual(t, r.MacroRecall, 0.695)
	assert.GreaterOrEqual(t, r.NegativePrecision, 0.66)
	assert.LessOrEqual(t, r.ECE, 0.05, "confidence no longer calibrated")
}

// TestDemoSampleLabelled measures the shipped classifier on the demo's own
// posts (the English ones of connectors/replay/sample.jsonl, labelled by
// hand in testdata): brand mentions, unlike the training data. It guards
// the figures BENCHMARKS.md reports (macro-recall 0.622, severe mistakes
// 7.4% and 7.1%, 9 of 122 positive and 5 of 70 negative posts), so a
// change that makes the demo worse fails.
func TestDemoSampleLabelled(t *testing.T) {
	ex := readExamplesFile(t, filepath.Join("testdata", "demo_sample_labelled.jsonl"))
	require.Len(t, ex, 301)
	c, err := New("", Options{})
	require.NoError(t, err)
	r := Evaluate(c, ex)
	t.Logf("demo: pos->neg %.3f neg->pos %.3f macro-recall %.3f neg precision %.3f ECE %.3f", r.PositiveAsNegative, r.NegativeAsPositive, r.MacroRecall, r.NegativePrecision, r.ECE)
	assert.LessOrEqual(t, r.PositiveAsNegative, 0.075)
	assert.LessOrEqual(t, r.NegativeAsPositive, 0.072)
	assert.GreaterOrEqual(t, r.MacroRecall, 0.61)
	assert.GreaterOrEqual(t, r.NegativePrecision, 0.66)
}

// TestSevereMistakesOnSharedDev checks the targets on the whole
// dev files when the shared data is beside the repository: severe
// mistakes at or under 5% each, macro-recall floors and calibration.
func TestSevereMistakesOnSharedDev(t *testing.T) {
	dir := sharedDataDir(t)
	if dir == "" {
		t.Skip("SKIPPED: ../shared/data/sentiment is not beside the repository; only the committed slice was checked (TestSevereMistakesOnCommittedSlice)")
	}
	if testing.Short() {
		t.Skip("-short: the dev files take a few seconds")
	}
	c, err := New("", Options{})
	require.NoError(t, err)
	for _, tt := range []struct {
		file        string
		macroRecall float64
	}{
		{"dev.jsonl", 0.635},
		{"goemotions_dev.jsonl", 0.695},
	} {
		r := Evaluate(c, readExamplesFile(t, filepath.Join(dir, tt.file)))
		t.Logf("%s: pos->neg %.3f neg->pos %.3f macro-recall %.3f macro-F1 %.3f neg precision %.3f ECE %.3f", tt.file,
			r.PositiveAsNegative, r.NegativeAsPositive, r.MacroRecall, r.MacroF1, r.NegativePrecision, r.ECE)
		assert.LessOrEqual(t, r.PositiveAsNegative, SevereTarget, tt.file)
		assert.LessOrEqual(t, r.NegativeAsPositive, SevereTarget, tt.file)
		assert.GreaterOrEqual(t, r.MacroRecall, tt.macroRecall, tt.file)
		assert.LessOrEqual(t, r.ECE, 0.04, "%s: a stated confidence should be right that often", tt.file)
		for _, b := range r.Reliability {
			if b.N >= 200 {
				assert.InDelta(t, b.MeanConfidence, b.Accuracy, 0.08, "%s: confidence %.1f-%.1f", tt.file, b.Low, b.High)
			}
		}
	}
}

// TestSlangAndFailurePhrases: praise slang is positive, product failure is
// negative, and the everyday senses of the slang words stay negative.
func TestSlangAndFailurePhrases(t *testing.T) {
	c, err := New("", Options{})
	require.NoError(t, err)
	for _, tt := range []struct {
		text string
		want parley.Label
	}{
		{"these wheels are insane", parley.Positive},
		{"riptide shipped in 1 day, that's wild", parley.Positive},
		{"this deck is sick", parley.Positive},
		{"the new bearings slaps", parley.Positive},
		{"no way, the new deck is here", parley.Positive},
		{"I can't stop riding this board", parley.Positive},
		{"my trucks snapped after two days", parley.Negative},
		{"the deck broke after a week", parley.Negative},
		{"my order never arrived", parley.Negative},
		{"still waiting on my refund", parley.Negative},
		{"I'm sick of waiting for my order", parley.Negative},
	} {
		s := c.Classify(tt.text)
		assert.Equal(t, tt.want, s.Label, "%q (overrides %v)", tt.text, s.Overrides)
		assert.NotEmpty(t, s.Overrides, tt.text)
		assert.Greater(t, s.Confidence, 0.6, "%q: a lexicon match is a confident verdict", tt.text)
	}
}

func TestExplainNamesTheDecidingWords(t *testing.T) {
	c, err := New("", Options{})
	require.NoError(t, err)
	text := "these wheels are insane"
	s := c.Classify(text)
	ws := Explain(c, text, s, 3)
	require.NotEmpty(t, ws)
	assert.Equal(t, "insane", ws[0].Word)
	assert.Positive(t, ws[0].Effect)

	text = "my trucks snapped after two days"
	s = c.Classify(text)
	ws = Explain(c, text, s, 2)
	require.NotEmpty(t, ws)
	assert.Equal(t, "snapped", ws[0].Word)
	assert.Negative(t, ws[0].Effect)
	assert.LessOrEqual(t, len(ws), 2)
}
