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
//     regression trained on labelled tweets and GoEmotions Reddit comments
//     (go run ./rules/sentiment/cmd/train), over hashed word unigrams
//     (negation marked, and marked after "but") and bigrams, word
//     prefixes, emoticons and emoji, style (ALL CAPS, elongation, '!' and
//     '?'), and VADER's scores and lexicon; plus a small network over the
//     same features (DeepConfig) whose scores add to the regression's, and
//     a detector of the kind of post (tweet-like or chat-like) that picks
//     the calibration fitted on that kind. Its weights are embedded in the
//     binary (model/), with a Calibration fitted on held-out posts:
//     Confidence is the calibrated probability of the label, and the label
//     asks for more evidence before "negative" or "positive", and for a
//     gap between the two (a post read as both is neutral), so that few
//     fans get an apology and few angry customers a thank-you.
//   - a model file (a path, see IsModelFile), e.g. one retrained with a
//     brand's corrections by `parley sentiment retrain`.
//   - "vader": VADER (github.com/jonreiter/govader) with fixes for social
//     text: any whitespace, HTML entities, emoji modifiers, hearts.
//
// Every classifier New returns detects each post's language
// (DetectLanguage): English posts, and Latin text too short to tell, go to
// the model; posts in other languages get a neutral verdict with
// Confidence 0.2 and Model parley.ModelUnknownLanguage (Sentiment.Known is
// false, rules see sentiment.known) unless Options.LanguageLexicons has a
// lexicon for the language and it matches. SlangLexicon and brand
// lexicons (Lexicon, WithLexicon) apply on top of any model and are named
// in Sentiment.Overrides when they count (the slang only breaks ties: it
// never flips a post the model reads the other way, and makes one it
// reads the other way unsurely neutral); Explain names the words that
// decided a verdict.
//
// Evaluate and ReadExamples measure any classifier on labelled JSONL
// ({"text": ..., "label": "negative|neutral|positive"}): macro-recall and
// macro-F1, the severe-mistake rates (positive called negative, negative
// called positive), negative precision and a reliability table.
//
// Every classifier here is safe for concurrent use and never fails.
package sentiment
