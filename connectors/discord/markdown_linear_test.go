package discord

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// adversarial inputs: runs of openers without a valid closer, which a
// search from each opener to the end of the line makes quadratic.
var adversarial = map[string]string{
	"underscores": "_a ",
	"stars":       "*a *",
	"doubles":     "**a __b ~~c ||d ",
	"backticks":   "``a `",
	"links":       "[a](http[b]",
	"brackets":    "[[[x](y ",
}

// steps is the work inline does on s: the bytes its searches examined.
func steps(s string) int {
	var sc scanner
	sc.inline(s, 0)
	return sc.steps
}

// The work grows linearly: ten times the input costs about ten times the
// steps (counted, not timed, so the test is not at the mercy of the
// machine's load).
func TestMarkdownInlineIsLinear(t *testing.T) {
	for name, unit := range adversarial {
		small := strings.Repeat(unit, 3200/len(unit))
		large := strings.Repeat(unit, 32000/len(unit))
		s, l := steps(small), steps(large)
		assert.Positive(t, s, name)
		ratio := float64(l) / float64(s)
		assert.InDelta(t, 10, ratio, 1.5, "%s: %d steps for %d bytes, %d for %d", name, s, len(small), l, len(large))
	}
}

// BenchmarkMarkdownRuns is the case that took 1.3 s before the searches
// remembered their answers: 32,000 characters of "_a _a _a".
func BenchmarkMarkdownRuns(b *testing.B) {
	for name, unit := range adversarial {
		s := strings.Repeat(unit, 32000/len(unit))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				MarkdownToText(s)
			}
		})
	}
}
