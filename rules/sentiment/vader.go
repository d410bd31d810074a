package sentiment

import (
	"html"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/jonreiter/govader"
	"github.com/parleybot/parley"
)

// VADER's standard compound thresholds.
const (
	vaderPosThreshold = 0.05
	vaderNegThreshold = -0.05
)

// extraLexicon adds entries govader's lexicon lacks. The idioms are joined
// into single tokens by vaderText (govader checks its idiom table only for
// words at position 3 and later).
var extraLexicon = map[string]float64{
	"heart":         2.2,
	"hearts":        2.2,
	"broken_heart":  -2.9, // vaderSentiment 3.3 special case "broken heart"
	"beating_heart": 3.1,  // vaderSentiment 3.3 special case "beating heart"
}

// idioms maps a lower-case word pair to the token that replaces it.
var idioms = map[[2]string]string{
	{"broken", "heart"}:   "broken_heart",
	{"broken", "hearts"}:  "broken_heart",
	{"beating", "heart"}:  "beating_heart",
	{"beating", "hearts"}: "beating_heart",
}

// Vader is the VADER classifier (Hutto & Gilbert 2014) over govader, with
// fixes for social text: HTML entities decoded, any whitespace splits words,
// typographic apostrophes normalised, emoji (with variation selectors and
// skin tones) described in words, and the heart entries and idioms added.
// It is safe for concurrent use: after NewVader nothing is written.
type Vader struct {
	sia *govader.SentimentIntensityAnalyzer
}

// NewVader returns a ready VADER classifier. Building the lexicon takes a
// few milliseconds; share one value.
func NewVader() *Vader {
	sia := govader.NewSentimentIntensityAnalyzer()
	for w, v := range extraLexicon {
		sia.Lexicon[w] = v
	}
	return &Vader{sia: sia}
}

// Name returns "vader".
func (v *Vader) Name() string { return ModelVader }

// Classify labels text by VADER's compound score: >= 0.05 positive,
// <= -0.05 negative, else neutral. Score is the compound score in [-1, 1].
func (v *Vader) Classify(text string) parley.Sentiment {
	c := v.Compound(text)
	return vaderSentiment(c)
}

// Compound returns VADER's compound score for text, in [-1, 1].
func (v *Vader) Compound(text string) float64 {
	t := v.prepare(text)
	if t == "" {
		return 0
	}
	return v.sia.PolarityScores(t).Compound
}

func vaderSentiment(c float64) parley.Sentiment {
	s := parley.Sentiment{Score: c, Model: ModelVader}
	switch {
	case c >= vaderPosThreshold:
		s.Label = parley.Positive
		s.Confidence = 0.5 + 0.5*math.Abs(c)
	case c <= vaderNegThreshold:
		s.Label = parley.Negative
		s.Confidence = 0.5 + 0.5*math.Abs(c)
	default:
		s.Label = parley.Neutral
		// Sure of neutral when the score is 0, less so near a threshold.
		s.Confidence = 0.5 + 0.5*(1-math.Abs(c)/vaderPosThreshold)
	}
	return s
}

// prepare rewrites text into what govader handles well: entities decoded,
// typographic quotes made ASCII, emoji replaced by their descriptions,
// words separated by single spaces and idioms joined into one token.
func (v *Vader) prepare(text string) string {
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	for _, r := range text {
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
			continue
		}
		switch {
		case r == '\u2019' || r == '\u2018' || r == '\u02bc':
			b.WriteByte('\'')
			continue
		case r == '\u201c' || r == '\u201d':
			b.WriteByte('"')
			continue
		case isEmojiModifier(r):
			continue
		case r == '\u200d': // zero-width joiner: describe the parts
			b.WriteByte(' ')
			continue
		}
		if d, ok := v.sia.EmojiDict[string(r)]; ok {
			b.WriteByte(' ')
			b.WriteString(d)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	words := strings.Fields(b.String())
	out := words[:0]
	for i := 0; i < len(words); i++ {
		if i+1 < len(words) {
			k := [2]string{strings.ToLower(trimPunct(words[i])), strings.ToLower(trimPunct(words[i+1]))}
			if tok, ok := idioms[k]; ok {
				out = append(out, tok)
				i++
				continue
			}
		}
		out = append(out, words[i])
	}
	return strings.Join(out, " ")
}

// isEmojiModifier reports variation selectors and skin-tone modifiers,
// which change how an emoji looks, not what it means.
func isEmojiModifier(r rune) bool {
	return r == '\ufe0f' || r == '\ufe0e' || (r >= 0x1f3fb && r <= 0x1f3ff)
}

// trimPunct strips ASCII punctuation from both ends of w.
func trimPunct(w string) string {
	return strings.TrimFunc(w, func(r rune) bool {
		return r < utf8.RuneSelf && !isASCIIAlnum(byte(r))
	})
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
