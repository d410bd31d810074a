package sentiment

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

// brandCorrections are posts in a skate brand's jargon that the shipped
// model calls neutral, as a community manager would correct them.
var brandCorrections = []Example{
	{Text: "the new grip tape is gnarly as heck", Label: parley.Positive},
	{Text: "these bushings are bunk", Label: parley.Negative},
	{Text: "the riptide deck pops like crazy", Label: parley.Positive},
	{Text: "that kickflip clip was filthy", Label: parley.Positive},
	{Text: "wheels arrived flat spotted", Label: parley.Negative},
	{Text: "my bearings are crunchy after one session", Label: parley.Negative},
}

// TestFineTuneLearnsCorrections: fine-tuned on a brand's corrections, the
// model gets them right, still knows what it knew (the committed slice's
// figures barely move), and survives a write and a read.
func TestFineTuneLearnsCorrections(t *testing.T) {
	base, err := DefaultModel()
	require.NoError(t, err)
	wrong := 0
	for _, c := range brandCorrections {
		if base.Classify(c.Text).Label != c.Label {
			wrong++
		}
	}
	require.GreaterOrEqual(t, wrong, 5, "the base model gets these wrong")

	m, err := FineTune(base, brandCorrections, FineTuneConfig{Weight: 1})
	require.NoError(t, err)
	assert.Equal(t, "social+corrections", m.Name())
	for _, c := range brandCorrections {
		assert.Equal(t, c.Label, m.Classify(c.Text).Label, c.Text)
	}
	slice := readExamplesFile(t, filepath.Join("testdata", "goemotions_dev_slice.jsonl"))
	before, after := Evaluate(base, slice), Evaluate(m, slice)
	assert.InDelta(t, before.MacroRecall, after.MacroRecall, 0.01)
	assert.InDelta(t, before.PositiveAsNegative, after.PositiveAsNegative, 0.01)
	assert.InDelta(t, before.NegativeAsPositive, after.NegativeAsPositive, 0.01)
	assert.Equal(t, base.Classify("I love this deck").Label, m.Classify("I love this deck").Label)

	var buf bytes.Buffer
	_, err = m.WriteTo(&buf)
	require.NoError(t, err)
	back, err := LoadModel(&buf)
	require.NoError(t, err)
	require.NoError(t, back.CheckFingerprint())
	assert.Equal(t, m.Classify(brandCorrections[0].Text), back.Classify(brandCorrections[0].Text))
	assert.NotNil(t, back.Calibration(), "the base model's calibration is kept")
	b2, _ := DefaultModel()
	assert.NotEqual(t, parley.Positive, b2.Classify(brandCorrections[0].Text).Label, "the embedded model is not changed")

	_, err = FineTune(base, nil, FineTuneConfig{})
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
}
