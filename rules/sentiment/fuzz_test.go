package sentiment

import (
	"math"
	"testing"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// FuzzClassify feeds arbitrary text to every classifier: none may panic,
// and every verdict must be well formed.
func FuzzClassify(f *testing.F) {
	for _, s := range append(benchCorpus(20), "", " ", "&", "&amp;&lt;3", ":)", "#", "@", "http://", "\xff\xfe",
		"sooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo good",
		"👍🏽👍🏽\u200d❤️", "NOT not no never", "but but but", "’’’", "😍\ufe0f\ufe0f", "a'b'c'd") {
		f.Add(s)
	}
	m, err := DefaultModel()
	if err != nil {
		f.Fatal(err)
	}
	router, err := New("", Options{Lexicon: Lexicon{"sick": 2.5, "wipe out": -3}, LanguageLexicons: map[string]Lexicon{"fr": {"nul": -3}}})
	if err != nil {
		f.Fatal(err)
	}
	classifiers := []parley.Classifier{NewVader(), m, router, WithLexicon(NewVader(), Lexicon{"a": 1})}
	f.Fuzz(func(t *testing.T, text string) {
		for _, c := range classifiers {
			s := c.Classify(text)
			if !s.Label.Valid() || math.IsNaN(s.Score) || s.Score < -1 || s.Score > 1 || s.Confidence < 0 || s.Confidence > 1 {
				t.Fatalf("%s on %q: bad verdict %+v", c.Name(), text, s)
			}
		}
		if l := DetectLanguage(text); l != "" && (len(l) != 2 || !utf8.ValidString(l)) {
			t.Fatalf("DetectLanguage(%q) = %q", text, l)
		}
	})
}
