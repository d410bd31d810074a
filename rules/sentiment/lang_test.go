package sentiment

import (
	"testing"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectLanguage(t *testing.T) {
	tests := []struct {
		text, want string
	}{
		{"I love this product, it is the best thing I bought this year", "en"},
		{"ok", "en"},     // short Latin: English
		{"merci!", "en"}, // short Latin: English
		{"great stuff @shop #win http://x.co", "en"}, // handles, tags, links ignored
		{"Me encanta este producto, es el mejor que he comprado en mucho tiempo", "es"},
		{"J'adore ce produit, vraiment le meilleur achat de l'année", "fr"},
		{"Das ist das schlechteste Produkt, das ich je gekauft habe", "de"},
		{"Il servizio clienti è stato molto gentile con me, grazie mille", "it"},
		{"Não gostei nada da entrega, foi muito lenta e o produto veio errado", "pt"},
		{"この商品は最高です", "ja"},
		{"😍😍 🔥", ""},
		{"", ""},
		{"12345 !!!", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DetectLanguage(tt.text), tt.text)
	}
}

func TestNewRoutesByLanguage(t *testing.T) {
	c, err := New("", Options{})
	require.NoError(t, err)
	assert.Equal(t, ModelSocial, c.Name())

	s, lang := c.ClassifyWithLang("I love this shop, the staff are great!")
	assert.Equal(t, "en", lang)
	assert.Equal(t, parley.Positive, s.Label)

	s, lang = c.ClassifyWithLang("J'adore ce produit, vraiment le meilleur achat de l'année")
	assert.Equal(t, "fr", lang)
	assert.Equal(t, parley.Neutral, s.Label)
	assert.InDelta(t, UnknownLanguageConfidence, s.Confidence, 1e-9)
	assert.Equal(t, parley.ModelUnknownLanguage, s.Model)
	assert.False(t, s.Known(), "a French post is not read by the English model")

	// Unknown non-Latin script: not scored as English.
	s, _ = c.ClassifyWithLang("Это худший магазин в городе")
	assert.False(t, s.Known())
	assert.Equal(t, parley.Neutral, s.Label)
	assert.InDelta(t, UnknownLanguageConfidence, s.Confidence, 1e-9)

	// A French lexicon scores French posts.
	c, err = New("default", Options{LanguageLexicons: map[string]Lexicon{"fr": {"adore": 3, "nul": -3}}})
	require.NoError(t, err)
	s, lang = c.ClassifyWithLang("J'adore ce produit, vraiment le meilleur achat de l'année")
	assert.Equal(t, "fr", lang)
	assert.Equal(t, parley.Positive, s.Label)
	assert.Equal(t, []string{"adore"}, s.Overrides)
	assert.True(t, s.Known(), "a language lexicon that matched read the post")
	assert.Equal(t, ModelLexicon, s.Model)
	s, _ = c.ClassifyWithLang("Ce produit est vraiment nul, je ne le recommande pas du tout")
	assert.Equal(t, parley.Negative, s.Label)
	s, _ = c.ClassifyWithLang("Le magasin ouvre à neuf heures le samedi matin")
	assert.Equal(t, parley.Neutral, s.Label)
	assert.InDelta(t, UnknownLanguageConfidence, s.Confidence, 1e-9)

	// Brand lexicon on the default model, via Classify.
	c, err = New("", Options{Lexicon: Lexicon{"sick": 2.5}})
	require.NoError(t, err)
	s = c.Classify("that new deck is sick")
	assert.Equal(t, parley.Positive, s.Label)
	assert.Equal(t, []string{"sick"}, s.Overrides)
	s = c.Classify("I feel sick, the food at the event was bad")
	assert.Equal(t, []string{"feel sick"}, s.Overrides, "the slang lexicon's longer phrase keeps the everyday sense")
	assert.Equal(t, parley.Negative, s.Label)
	c, err = New("", Options{Lexicon: Lexicon{"sick": 2.5}, NoSlang: true})
	require.NoError(t, err)
	s = c.Classify("I feel sick, the food at the event was bad")
	assert.Equal(t, []string{"sick"}, s.Overrides) // without slang, the brand's choice applies everywhere

	// An "en" language lexicon adds to Lexicon.
	c, err = New("vader", Options{Lexicon: Lexicon{"sick": 2.5}, LanguageLexicons: map[string]Lexicon{"en": {"gnarly": 3, "sick": -1}}})
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, c.Classify("so gnarly").Label)
	assert.Equal(t, parley.Positive, c.Classify("so sick").Label)
}
