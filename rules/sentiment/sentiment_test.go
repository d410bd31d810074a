package sentiment

import (
	"strings"
	"sync"
	"testing"

	"github.com/parleybot/parley"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVaderClassify(t *testing.T) {
	v := NewVader()
	tests := []struct {
		name string
		text string
		want parley.Label
	}{
		{"praise", "I love this product, best purchase ever!", parley.Positive},
		{"complaint", "My order arrived broken and the support was useless.", parley.Negative},
		{"question", "Does the v2 board come in blue?", parley.Neutral},
		{"empty", "", parley.Neutral},
		{"spaces only", " \t\n ", parley.Neutral},
		{"emoji love", "😍😍", parley.Positive},
		{"red heart with variation selector", "❤️", parley.Positive},
		{"heart word", "sending hearts to the whole team", parley.Positive},
		{"broken heart emoji", "💔", parley.Negative},
		{"broken heart words", "broken heart", parley.Negative},
		{"broken heart mid-sentence", "my new deck snapped, broken heart", parley.Negative},
		{"beating heart", "beating heart", parley.Positive},
		{"tabs", "what a\tgreat\tday", parley.Positive},
		{"newlines", "great\n\nday", parley.Positive},
		{"run of spaces", "the   worst    ever", parley.Negative},
		{"html entity heart", "&lt;3 you guys", parley.Positive},
		{"typographic apostrophe negation", "I don’t love it", parley.Negative},
		{"sick is negative in plain VADER", "this board is sick", parley.Negative},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := v.Classify(tt.text)
			assert.Equal(t, tt.want, s.Label, "score %v", s.Score)
			assert.Equal(t, "vader", s.Model)
			assert.GreaterOrEqual(t, s.Score, -1.0)
			assert.LessOrEqual(t, s.Score, 1.0)
			assert.Greater(t, s.Confidence, 0.0)
			assert.LessOrEqual(t, s.Confidence, 1.0)
			assert.Empty(t, s.Overrides)
		})
	}
}

func TestVaderWhitespaceMatchesSingleSpaces(t *testing.T) {
	v := NewVader()
	want := v.Classify("this is a great and wonderful day")
	for _, text := range []string{
		"this is a\tgreat and wonderful day",
		"this  is   a great\nand\r\nwonderful day",
		"  this is a great and wonderful day\t",
	} {
		got := v.Classify(text)
		assert.InDelta(t, want.Score, got.Score, 1e-12, "%q", text)
	}
	// govader alone misses "great" when tabs surround it.
	assert.Greater(t, want.Score, 0.5)
}

func TestVaderThresholds(t *testing.T) {
	assert.Equal(t, parley.Positive, vaderSentiment(0.05).Label)
	assert.Equal(t, parley.Neutral, vaderSentiment(0.0499).Label)
	assert.Equal(t, parley.Negative, vaderSentiment(-0.05).Label)
	assert.Equal(t, parley.Neutral, vaderSentiment(-0.0499).Label)
	assert.InDelta(t, 1.0, vaderSentiment(0).Confidence, 1e-9)
}

func TestWithLexicon(t *testing.T) {
	v := NewVader()
	c := WithLexicon(v, Lexicon{"sick": 2.5, "Wipe Out": -3, "#shredlife": 2})
	tests := []struct {
		name      string
		text      string
		want      parley.Label
		overrides []string
	}{
		{"override flips sick", "this board is sick", parley.Positive, []string{"sick"}},
		{"override survives punctuation and case", "This board is SICK!!!", parley.Positive, []string{"sick"}},
		{"negated override", "this board is not sick", parley.Negative, []string{"sick"}},
		{"phrase", "total wipe out at the park today", parley.Negative, []string{"Wipe Out"}},
		{"hashtag", "new deck day #ShredLife", parley.Positive, []string{"#shredlife"}},
		{"no entry: base verdict", "I hate waiting for deliveries", parley.Negative, nil},
		{"part of a longer word does not match", "sickness everywhere", v.Classify("sickness everywhere").Label, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := c.Classify(tt.text)
			assert.Equal(t, tt.want, s.Label, "score %v", s.Score)
			assert.Equal(t, tt.overrides, s.Overrides)
			assert.Equal(t, "vader", s.Model)
		})
	}
	assert.Equal(t, "vader", c.Name())
	assert.Same(t, v, WithLexicon(v, nil).(*Vader))
}

func TestWithLexiconAddsToRestOfText(t *testing.T) {
	c := WithLexicon(NewVader(), Lexicon{"sick": 2.5})
	plain := c.Classify("this board is sick")
	praised := c.Classify("this board is sick, I love it")
	cursed := c.Classify("this board is sick but the wheels are awful garbage")
	assert.Greater(t, praised.Score, plain.Score)
	assert.Less(t, cursed.Score, plain.Score)
}

func TestLexiconValidate(t *testing.T) {
	require.NoError(t, Lexicon{"sick": 2.5, "broken board": -4, "meh": 0}.Validate())
	require.NoError(t, Lexicon(nil).Validate())
	tests := []struct {
		name string
		lex  Lexicon
		msg  string
	}{
		{"empty key", Lexicon{"": 1}, "empty word"},
		{"blank key", Lexicon{"  ": 1}, "empty word"},
		{"no words", Lexicon{"!!!": 1}, `"!!!": no words`},
		{"too high", Lexicon{"sick": 4.5}, `"sick": valence 4.5 is outside -4..4`},
		{"too low", Lexicon{"meh": -5}, `"meh": valence -5 is outside`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.lex.Validate()
			require.Error(t, err)
			assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func TestNew(t *testing.T) {
	for _, name := range []string{"", "default", "vader", "VADER"} {
		c, err := New(name, Options{})
		require.NoError(t, err, name)
		assert.Equal(t, parley.Positive, c.Classify("great stuff").Label)
	}
	c, err := New("vader", Options{Lexicon: Lexicon{"sick": 2.5}})
	require.NoError(t, err)
	assert.Equal(t, parley.Positive, c.Classify("that trick was sick").Label)

	_, err = New("bert", Options{})
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))
	for _, n := range Names() {
		assert.Contains(t, err.Error(), n)
	}

	_, err = New("vader", Options{Lexicon: Lexicon{"sick": 9}})
	require.Error(t, err)
	assert.Equal(t, parley.EINVALID, parley.ErrorCode(err))

	_, err = New("vader", Options{LanguageLexicons: map[string]Lexicon{"fr": {"": 1}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `language "fr"`)
}

func TestClassifyConcurrent(t *testing.T) {
	c := WithLexicon(NewVader(), Lexicon{"sick": 2.5})
	want := make([]parley.Sentiment, len(benchTexts))
	for i, text := range benchTexts {
		want[i] = c.Classify(text)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, text := range benchTexts {
				if got := c.Classify(text); got.Score != want[i].Score || got.Label != want[i].Label {
					errs <- text
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for text := range errs {
		t.Errorf("concurrent verdict differs for %q", text)
	}
}

func TestLexTokens(t *testing.T) {
	var got []string
	text := "Can’t wait!! #SkateLife @shop 🔥🔥 the-best_deck j'adore l’année"
	for _, tok := range lexTokens(text) {
		got = append(got, tok.text)
		assert.Equal(t, strings.ToLower(strings.ReplaceAll(text[tok.start:tok.end], "’", "'")), tok.text)
	}
	assert.Equal(t, []string{"can't", "wait", "skatelife", "shop", "🔥", "🔥", "the-best_deck", "adore", "année"}, got)
}

// benchTexts is a mix of the kinds of posts Parley sees (written for these
// tests): praise, complaints, questions, emoji, slang, links and mentions.
var benchTexts = []string{
	"@parley_shop just got my new board and it is AMAZING!!! thank you 🙌",
	"ordered 2 weeks ago and still nothing. tracking says 'label created'. not impressed.",
	"does anyone know if the v2 trucks fit the old deck?",
	"lol this is so sick 🔥🔥🔥 https://example.com/clip/123",
	"worst customer service ever. nobody answers emails &amp; the phone line is dead",
	"Thanks for the quick reply, problem solved :)",
	"meh. it's ok I guess, expected more for the price",
	"RT @skater: new drop on friday, who's going? #skatelife",
	"I can’t believe how bad the wheels are after one week 😡",
	"love love love ❤️❤️ the new colours",
	"is the store on main street open on sunday?",
	"not bad at all, actually pretty good",
	"my heart is broken 💔 they discontinued my favourite shoes",
	"Great event yesterday, see you all next year!",
	"the app keeps crashing when I try to checkout... fix it please",
	"just posted a photo",
	"Honestly the best skate shop in town. Staff are super friendly.",
	"why is shipping to canada so expensive??",
	"meh",
	"I waited 45 minutes on hold and then got disconnected. Unbelievable.",
	"happy birthday to the whole crew 🎉🎉",
	"the new hoodie shrank in the wash, really disappointed",
	"anyone riding the park at noon?",
	"Sooo good!!! can't wait for the next one",
}

// BenchmarkClassify measures each model on one goroutine over 4,096
// varied posts (see benchCorpus); texts/s is the figure to quote. Run with
// -cpu 1 for one core.
func BenchmarkClassify(b *testing.B) {
	texts := benchCorpus(4096)
	lex := Lexicon{"sick": 2.5, "wipe out": -3}
	b.Run("vader", func(b *testing.B) { benchClassify(b, NewVader(), texts) })
	b.Run("vader+lexicon", func(b *testing.B) { benchClassify(b, WithLexicon(NewVader(), lex), texts) })
	b.Run("social", func(b *testing.B) {
		m, err := DefaultModel()
		require.NoError(b, err)
		benchClassify(b, m, texts)
	})
	b.Run("default", func(b *testing.B) { // social + language detection + lexicon
		c, err := New("", Options{Lexicon: lex})
		require.NoError(b, err)
		benchClassify(b, c, texts)
	})
}

func benchClassify(b *testing.B, c parley.Classifier, texts []string) {
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		c.Classify(texts[n%len(texts)])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "texts/s")
}
