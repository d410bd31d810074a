package sentiment

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadExamples(t *testing.T) {
	in := `{"id": "a", "text": "I love it", "label": "positive"}

{"text": "meh", "label": "Neutral", "extra": [1, 2]}
{"text": "awful &amp; slow", "label": "NEGATIVE"}
`
	ex, err := ReadExamples(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []Example{
		{Text: "I love it", Label: parley.Positive},
		{Text: "meh", Label: parley.Neutral},
		{Text: "awful &amp; slow", Label: parley.Negative},
	}, ex)

	tests := []struct {
		name, in, msg string
	}{
		{"bad json", "{\"text\": \"ok\", \"label\": \"positive\"}\n{oops}\n", "line 2: "},
		{"no text", "{\"label\": \"positive\"}\n", `line 1: no "text"`},
		{"bad label", "\n\n{\"text\": \"x\", \"label\": \"happy\"}\n", `line 3: sentiment label "happy"`},
		{"no label", "{\"text\": \"x\"}\n", `line 1: sentiment label ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadExamples(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
	_, err = ReadExamples(strings.NewReader(`{"text": "` + strings.Repeat("x", maxLine) + `", "label": "neutral"}`))
	assert.ErrorContains(t, err, "line 1: ")
}

// fixed answers from a table, to test the arithmetic.
type fixed map[string]parley.Label

func (f fixed) Name() string                          { return "fixed" }
func (f fixed) Classify(text string) parley.Sentiment { return parley.Sentiment{Label: f[text]} }

func TestEvaluate(t *testing.T) {
	// true neg: 2 (1 right, 1 → neutral); true neu: 3 (2 right, 1 → pos);
	// true pos: 5 (3 right, 1 → neg, 1 → neutral).
	ex := []Example{
		{Text: "n1", Label: parley.Negative}, {Text: "n2", Label: parley.Negative},
		{Text: "u1", Label: parley.Neutral}, {Text: "u2", Label: parley.Neutral}, {Text: "u3", Label: parley.Neutral},
		{Text: "p1", Label: parley.Positive}, {Text: "p2", Label: parley.Positive}, {Text: "p3", Label: parley.Positive}, {Text: "p4", Label: parley.Positive}, {Text: "p5", Label: parley.Positive},
	}
	c := fixed{"n1": parley.Negative, "n2": parley.Neutral, "u1": parley.Neutral, "u2": parley.Neutral, "u3": parley.Positive,
		"p1": parley.Positive, "p2": parley.Positive, "p3": parley.Positive, "p4": parley.Negative, "p5": parley.Neutral}
	r := Evaluate(c, ex)
	assert.Equal(t, "fixed", r.Model)
	assert.Equal(t, 10, r.N)
	assert.InDelta(t, 0.6, r.Accuracy, 1e-9)
	assert.Equal(t, [3][3]int{{1, 1, 0}, {0, 2, 1}, {1, 1, 3}}, r.Confusion)
	recalls := []float64{1.0 / 2, 2.0 / 3, 3.0 / 5}
	precisions := []float64{1.0 / 2, 2.0 / 4, 3.0 / 4}
	for i, cr := range r.Classes {
		assert.Equal(t, parley.Labels[i], cr.Label)
		assert.InDelta(t, recalls[i], cr.Recall, 1e-9)
		assert.InDelta(t, precisions[i], cr.Precision, 1e-9)
		assert.InDelta(t, 2*recalls[i]*precisions[i]/(recalls[i]+precisions[i]), cr.F1, 1e-9)
	}
	assert.InDelta(t, (recalls[0]+recalls[1]+recalls[2])/3, r.MacroRecall, 1e-9)

	var buf bytes.Buffer
	require.NoError(t, r.WriteText(&buf))
	out := buf.String()
	for _, want := range []string{"model", "fixed", "accuracy", "0.600", "macro-recall", "0.589", "macro-F1",
		"precision", "true \\ predicted", "negative", "neutral", "positive"} {
		assert.Contains(t, out, want)
	}
	assert.Regexp(t, `(?m)^\s*positive\s+1\s+1\s+3\s*$`, out)

	empty := Evaluate(c, nil)
	assert.Zero(t, empty.N)
	assert.Zero(t, empty.MacroRecall)
}
