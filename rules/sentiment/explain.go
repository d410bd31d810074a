package sentiment

import (
	"math"
	"sort"

	"github.com/parleybot/parley"
)

// WordEffect is how much one word of a post moved its verdict: the
// post's score (P(positive) - P(negative), -1..1) with the word, minus
// the score without it.
type WordEffect struct {
	Word   string  `json:"word"`
	Effect float64 `json:"effect"`
}

// Explain returns the words of text that decided c's verdict s, the most
// decisive first, at most max: for a negative verdict the words that
// pulled the score down, for a positive one those that pushed it up, for
// a neutral one those that moved it most either way. Each word's effect is
// measured by classifying the text without it, so it covers the model and
// any slang or brand lexicon alike. Words that moved the score by less
// than 0.02 are left out.
func Explain(c parley.Classifier, text string, s parley.Sentiment, limit int) []WordEffect {
	toks := lexTokens(text)
	if len(toks) > 64 {
		toks = toks[:64] // a long post: the first words are explanation enough
	}
	var out []WordEffect
	for _, t := range toks {
		without := text[:t.start] + " " + text[t.end:]
		d := s.Score - c.Classify(without).Score
		if towardLabel(d, s.Label) < 0.02 {
			continue
		}
		out = append(out, WordEffect{Word: text[t.start:t.end], Effect: d})
	}
	sort.SliceStable(out, func(i, j int) bool {
		return towardLabel(out[i].Effect, s.Label) > towardLabel(out[j].Effect, s.Label)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func towardLabel(d float64, l parley.Label) float64 {
	switch l {
	case parley.Negative:
		return -d
	case parley.Neutral:
		return math.Abs(d)
	}
	return d
}
