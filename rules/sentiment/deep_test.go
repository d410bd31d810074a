package sentiment

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// twoKinds returns the tiny examples twice: once as "tweets" (with a
// handle and a hashtag) and once as "chat" (plain), and each example's
// kind.
func twoKinds(t *testing.T) ([]Example, []int) {
	var ex []Example
	var dom []int
	for _, e := range readTestExamples(t, "tiny.jsonl") {
		ex = append(ex, Example{Text: "@user " + e.Text + " #news", Label: e.Label}, e)
		dom = append(dom, 0, 1)
	}
	return ex, dom
}

// TestNetworkAndDomainsSurviveTheFile: a model with a network and a
// domain detector, calibrated per kind of post, is written and read back
// with the same verdicts, kinds and calibration; the network changes the
// scores (it is used), and training it again gives the same file.
func TestNetworkAndDomainsSurviveTheFile(t *testing.T) {
	ex, dom := twoKinds(t)
	build := func() *Model {
		m, err := Train(ex, tinyConfig)
		require.NoError(t, err)
		plain := m.logits(ex[0].Text)
		require.NoError(t, m.TrainDeep(ex, DeepConfig{Bits: 10, Dim: 8, Hidden: 8, Epochs: 5, LearningRate: 0.05, Weight: 1, Seed: 1}))
		assert.NotEqual(t, plain, m.logits(ex[0].Text), "the network's scores are added")
		require.NoError(t, m.TrainDomains(ex, dom, []string{"tweets", "chat"}))
		var sets [2][]Example
		for i, e := range ex {
			sets[dom[i]] = append(sets[dom[i]], e)
		}
		_, err = m.Calibrate(sets[:], CalibrateOptions{MaxSevere: 0.2})
		require.NoError(t, err)
		return m
	}
	m := build()
	assert.Equal(t, "tweets", m.Domain("@user thanks for the quick reply #news"))
	assert.Equal(t, "chat", m.Domain("thanks for the quick reply"))
	require.Len(t, m.Calibration().Domains, 2)
	assert.Equal(t, "chat", m.Calibration().Domains[1].Name)

	var buf bytes.Buffer
	_, err := m.WriteTo(&buf)
	require.NoError(t, err)
	again := build()
	var buf2 bytes.Buffer
	_, err = again.WriteTo(&buf2)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(buf.Bytes(), buf2.Bytes()), "training is deterministic")

	back, err := LoadModel(&buf)
	require.NoError(t, err)
	require.NoError(t, back.CheckFingerprint())
	for _, e := range ex {
		assert.Equal(t, m.Classify(e.Text), back.Classify(e.Text), e.Text)
		assert.Equal(t, m.Domain(e.Text), back.Domain(e.Text), e.Text)
	}
	assert.Equal(t, *m.Calibration(), *back.Calibration())
}

func TestNetworkAndDomainErrors(t *testing.T) {
	ex, dom := twoKinds(t)
	m, err := Train(ex, tinyConfig)
	require.NoError(t, err)
	err = m.TrainDeep(ex, DeepConfig{Bits: 20, Dim: 8, Hidden: 8, Epochs: 1, LearningRate: 0.05, Weight: 1})
	assert.ErrorContains(t, err, "more than the model's 12")
	err = m.TrainDeep(ex, DeepConfig{Bits: 10, Dim: 0, Hidden: 8, Epochs: 1, LearningRate: 0.05, Weight: 1})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	err = m.TrainDeep([]Example{{Text: "x", Label: "happy"}}, DefaultDeepConfig)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	err = m.TrainDomains(ex, dom[:3], []string{"a", "b"})
	assert.ErrorContains(t, err, "want as many domains as examples")
	err = m.TrainDomains(ex, make([]int, len(ex)), []string{"a", "b"})
	assert.ErrorContains(t, err, "want some of each")
}

// TestSlangOnlyBreaksTies: the built-in slang makes a neutral-sounding
// post positive but never flips one the model reads as negative (where
// "insane" means what it says), while a brand's own lexicon does: a brand
// that says "insane" is praise means it.
func TestSlangOnlyBreaksTies(t *testing.T) {
	c, err := New("", Options{})
	require.NoError(t, err)
	s := c.Classify("the wait was insane")
	assert.Equal(t, parley.Positive, s.Label)
	assert.Equal(t, []string{"insane"}, s.Overrides)

	angry := "terrible support, honestly insane how bad"
	s = c.Classify(angry)
	assert.Equal(t, parley.Negative, s.Label)
	assert.Empty(t, s.Overrides, "the slang did not count")
	m, err := DefaultModel()
	require.NoError(t, err)
	assert.Equal(t, m.Classify(angry), s, "the model's verdict, unchanged")

	brand, err := New("", Options{Lexicon: Lexicon{"insane": 4}})
	require.NoError(t, err)
	s = brand.Classify(angry)
	assert.Equal(t, []string{"insane"}, s.Overrides, "a brand lexicon always counts")
	assert.Greater(t, s.Score, c.Classify(angry).Score)
}

// TestSlangAgainstAnUnsureReadingIsNeutral: slang that contradicts the
// model's unsure reading of the rest of a post makes the post neutral
// (it says both), and a slang word the model alone reads the other way
// ("Sick" as illness) does not decide against its slang sense; the
// entries are named. A confident reading still wins (above).
func TestSlangAgainstAnUnsureReadingIsNeutral(t *testing.T) {
	c, err := New("", Options{})
	require.NoError(t, err)
	m, err := DefaultModel()
	require.NoError(t, err)
	for _, text := range []string{
		"Broke my first deck today! Well, the deck broke, I'm fine. 8 months on this board, can't complain.",
		"weird combo but it works? Sick for smooth paths.",
	} {
		assert.Equal(t, parley.Negative, m.Classify(text).Label, "the model alone: %q", text)
		s := c.Classify(text)
		assert.Equal(t, parley.Neutral, s.Label, text)
		assert.NotEmpty(t, s.Overrides, text)
		assert.Less(t, s.Confidence, 0.8, text)
	}
}

// TestShippedDetectorTellsTheKindsApart: the embedded model's detector
// was right on nearly all its training posts, and says so in its header.
func TestShippedDetectorTellsTheKindsApart(t *testing.T) {
	m, err := DefaultModel()
	require.NoError(t, err)
	require.NotNil(t, m.hdr.Domains)
	acc, ok := m.hdr.Domains.Training["training_accuracy"].(float64)
	require.True(t, ok)
	assert.Greater(t, acc, 0.9)
	assert.Equal(t, "train", m.Domain("@user just saw the new trailer, can't wait for friday #movies"))
	assert.Equal(t, "goemotions_train", m.Domain("I mean, [NAME] said the same thing last season and nobody cared."))
}
