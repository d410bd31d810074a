// Package sentiment holds Parley's sentiment classifiers and the tools to
// train and check them.
//
// The rest of Parley calls New:
//
//	c, err := sentiment.New(name, sentiment.Options{Lexicon: brandLexicon})
//	s, lang := c.ClassifyWithLang(text) // or c.Classify(text)
//
// Models, by name (Names lists them):
//
//   - "default" (or ""), the same as "social": a multinomial logistic
//     regression trained on labelled tweets (go run
//     ./rules/sentiment/cmd/train), over hashed word unigrams (negation
//     marked) and bigrams, word prefixes, emoticons and emoji, style
//     (ALL CAPS, elongation, '!' and '?'), and VADER's scores and
//     lexicon. Its weights are embedded in the binary (model/).
//   - "vader": VADER (github.com/jonreiter/govader) with fixes for social
//     text: any whitespace, HTML entities, emoji modifiers, hearts.
//
// Every classifier New returns detects each post's language
// (DetectLanguage): English posts, and Latin text too short to tell, go to
// the model; posts in other languages get a neutral verdict with
// Confidence 0.2 unless Options.LanguageLexicons has a lexicon for the
// language. Brand lexicons (Lexicon, WithLexicon) apply on top of any
// model and are named in Sentiment.Overrides when they match.
//
// Evaluate and ReadExamples measure any classifier on labelled JSONL
// ({"text": ..., "label": "negative|neutral|positive"}).
//
// Every classifier here is safe for concurrent use and never fails.
package sentiment
