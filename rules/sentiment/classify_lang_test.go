package sentiment

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleybot/parley"
)

func TestClassifyLangTrustsThePlatformsLanguage(t *testing.T) {
	c, err := New("vader", Options{LanguageLexicons: map[string]Lexicon{"de": {"super": 2.0}}})
	require.NoError(t, err)
	r := c.(interface {
		ClassifyLang(text, lang string) parley.Sentiment
	})
	assert.Equal(t, parley.Positive, r.ClassifyLang("I love this deck", "en").Label)
	assert.Equal(t, parley.Positive, r.ClassifyLang("I love this deck", "EN-gb").Label)
	de := r.ClassifyLang("das Board ist super", "de")
	assert.Equal(t, parley.Positive, de.Label)
	fr := r.ClassifyLang("j'adore cette planche", "fr")
	assert.Equal(t, parley.Neutral, fr.Label)
	assert.Equal(t, UnknownLanguageConfidence, fr.Confidence, "a language without a lexicon is an unsure neutral")
	assert.Equal(t, c.Classify("I hate it, broken again"), r.ClassifyLang("I hate it, broken again", ""))
}
