package sentiment

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// TestFitScaleRecoversTemperature draws labels from softmax(z/2) and
// checks that the fitted scale is about 1/2.
func TestFitScaleRecoversTemperature(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var z [][3]float64
	var y []int
	for range 20000 {
		v := [3]float64{r.NormFloat64() * 3, r.NormFloat64() * 3, r.NormFloat64() * 3}
		p := softmax([3]float64{v[0] / 2, v[1] / 2, v[2] / 2})
		u, k := r.Float64(), 0
		for u > p[k] && k < 2 {
			u -= p[k]
			k++
		}
		z = append(z, v)
		y = append(y, k)
	}
	c := fitScale(z, nil, y)
	assert.InDelta(t, 0.5, c.Scale, 0.03)
	assert.InDelta(t, 0, c.Bias[0], 0.05)
	assert.InDelta(t, 0, c.Bias[2], 0.05)
}

// TestCalibrateKeepsSevereMistakesUnderTarget calibrates the tiny model
// on its own examples and checks the decision offsets hold the target
// there, the probabilities still sum to one, and the calibration survives
// a write and a read.
func TestCalibrateKeepsSevereMistakesUnderTarget(t *testing.T) {
	ex := readTestExamples(t, "tiny.jsonl")
	m, err := Train(ex, tinyConfig)
	require.NoError(t, err)
	before := Evaluate(m, ex)
	cal, err := m.Calibrate([][]Example{ex}, CalibrateOptions{MaxSevere: 0.02})
	require.NoError(t, err)
	assert.Equal(t, len(ex), cal.Examples)
	assert.Positive(t, cal.Scale)
	after := Evaluate(m, ex)
	assert.LessOrEqual(t, after.PositiveAsNegative, 0.02, "before: %.3f", before.PositiveAsNegative)
	assert.LessOrEqual(t, after.NegativeAsPositive, 0.02, "before: %.3f", before.NegativeAsPositive)
	p := m.Probabilities("love it")
	assert.InDelta(t, 1, p[0]+p[1]+p[2], 1e-9)

	var buf bytes.Buffer
	_, err = m.WriteTo(&buf)
	require.NoError(t, err)
	back, err := LoadModel(&buf)
	require.NoError(t, err)
	require.NotNil(t, back.Calibration())
	assert.Equal(t, cal, *back.Calibration())
	for _, e := range ex[:20] {
		assert.Equal(t, m.Classify(e.Text), back.Classify(e.Text), e.Text)
	}

	_, err = m.Calibrate([][]Example{ex[:10]}, CalibrateOptions{MaxSevere: 0.05})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err), "too few examples to calibrate on")
}

func TestReliabilityTable(t *testing.T) {
	ex := []Example{{Text: "a", Label: parley.Positive}, {Text: "b", Label: parley.Positive},
		{Text: "c", Label: parley.Negative}, {Text: "d", Label: parley.Neutral}}
	preds := []parley.Label{parley.Positive, parley.Negative, parley.Negative, parley.Neutral}
	bins, ece := reliability(ex, preds, []float64{0.95, 0.92, 0.55, 0.35})
	require.Len(t, bins, 3)
	assert.Equal(t, ReliabilityBin{Low: 0, High: 0.4, N: 1, MeanConfidence: 0.35, Accuracy: 1}, bins[0])
	assert.Equal(t, 1, bins[1].N)
	assert.Equal(t, 2, bins[2].N)
	assert.InDelta(t, 0.935, bins[2].MeanConfidence, 1e-9)
	assert.InDelta(t, 0.5, bins[2].Accuracy, 1e-9)
	// ECE: (1·0.65 + 1·0.45 + 2·0.435) / 4
	assert.InDelta(t, (0.65+0.45+2*0.435)/4, ece, 1e-9)
	bins, ece = reliability(ex, preds, []float64{0, 0, 0, 0})
	assert.Empty(t, bins, "no confidence, no table")
	assert.Zero(t, ece)
}

func TestModelFiles(t *testing.T) {
	assert.True(t, IsModelFile("retrained.model.gz"))
	assert.True(t, IsModelFile("./models/x"))
	assert.False(t, IsModelFile("vader"))

	dir := t.TempDir()
	ex := readTestExamples(t, "tiny.jsonl")
	m, err := Train(ex, tinyConfig)
	require.NoError(t, err)
	path := filepath.Join(dir, "tiny.model.gz")
	var buf bytes.Buffer
	_, err = m.WriteTo(&buf)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))

	c, err := New(path, Options{})
	require.NoError(t, err)
	assert.Equal(t, "tiny", c.Name())
	assert.Equal(t, m.Classify("I love it").Label, c.Classify("I love it").Label)

	_, err = New(filepath.Join(dir, "missing.model.gz"), Options{})
	assert.Equal(t, parley.ENOTFOUND, parley.ErrorCode(err))
	assert.ErrorContains(t, err, "missing.model.gz")
	bad := filepath.Join(dir, "bad.model.gz")
	require.NoError(t, os.WriteFile(bad, []byte("not a model"), 0o600))
	_, err = New(bad, Options{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	_, err = New("nonsense", Options{})
	assert.ErrorContains(t, err, "model file")
	assert.Equal(t, []string{ModelSocial, ModelVader}, Models(), "each model once")
}

// TestPolarGapMakesMixedPostsNeutral: a post read as both praise and
// complaint, with less than the gap between them, is neutral; one clear
// either way keeps its label.
func TestPolarGapMakesMixedPostsNeutral(t *testing.T) {
	mixed := [3]float64{-0.9, -2.5, -1.2} // negative ahead of positive by 0.3
	assert.Equal(t, 0, decideLog(mixed, [3]float64{}, 0), "without a gap: the most probable")
	assert.Equal(t, 1, decideLog(mixed, [3]float64{}, 0.5), "within the gap: neutral")
	plain := [3]float64{-0.2, -2.5, -2.0}
	assert.Equal(t, 0, decideLog(plain, [3]float64{}, 0.5))
	assert.Equal(t, 2, decideLog([3]float64{-2, -1.5, -0.4}, [3]float64{}, 1))
	assert.Equal(t, 1, decideLog([3]float64{-1.2, -1.5, -0.4}, [3]float64{-1, 0, -1.2}, 0), "the offsets still apply")
}

// TestFitDecisionUsesTheGapWhenItPays: held-out posts where praise and
// complaint are often confused, but only when the two scores are close;
// the offsets alone cannot keep the severe mistakes under target without
// calling many clear posts neutral, the gap can.
func TestFitDecisionUsesTheGapWhenItPays(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var z [][3]float64
	var y []int
	for range 1500 {
		k := r.IntN(3)
		v := [3]float64{-1, -1, -1}
		v[k] = 1 + r.NormFloat64()
		if k != 1 && r.Float64() < 0.3 {
			// a confusable post: the opposite class nearly as strong
			v[2-k] = v[k] - 0.3*r.Float64()
			if r.Float64() < 0.5 {
				v[k], v[2-k] = v[2-k], v[k]
			}
		}
		z = append(z, v)
		y = append(y, k)
	}
	cal := Calibration{Scale: 1}
	set := make([]int, len(z))
	recall := func(d [3]float64, gap float64) float64 {
		var cf [3][3]int
		for i := range z {
			p := cal.probabilities(z[i])
			var lp [3]float64
			for k := range p {
				lp[k] = math.Log(p[k])
			}
			cf[y[i]][decideLog(lp, d, gap)]++
		}
		assert.LessOrEqual(t, rate(cf[2], 0), 0.05)
		assert.LessOrEqual(t, rate(cf[0], 2), 0.05)
		return macroRecall(cf)
	}
	d, gap := fitDecision(&cal, z, nil, y, set, 1, 0.05, 0)
	assert.Positive(t, gap, "decision %v", d)
	withGap := recall(d, gap)

	saved := polarGaps
	polarGaps = []float64{0}
	defer func() { polarGaps = saved }()
	d0, gap0 := fitDecision(&cal, z, nil, y, set, 1, 0.05, 0)
	assert.Zero(t, gap0)
	assert.Greater(t, withGap, recall(d0, gap0)+0.02)
}

// TestShippedCalibrationHasAPolarGap: the embedded model's calibration
// asks for a gap between praise and complaint for each kind of post.
func TestShippedCalibrationHasAPolarGap(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	c := m.Calibration()
	require.NotNil(t, c)
	require.Len(t, c.Domains, 2)
	for _, d := range c.Domains {
		assert.Positive(t, d.PolarGap, d.Name)
	}
}
