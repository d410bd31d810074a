package sentiment

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/parleybot/parley"
)

// Model names New accepts.
const (
	// ModelDefault names Parley's default classifier: the trained model
	// (ModelSocial).
	ModelDefault = "default"
	// ModelVader names the VADER classifier.
	ModelVader = "vader"
)

// Options configure New.
type Options struct {
	// Lexicon holds brand overrides (words and phrases with a fixed
	// valence) applied on top of the model to English posts; see
	// WithLexicon.
	Lexicon Lexicon
	// NoSlang leaves out SlangLexicon, which New otherwise applies to
	// English posts under Lexicon (Lexicon wins on a clash). The slang
	// only breaks ties: an entry counts when the model does not read the
	// post the other way ("insane how bad" stays negative); against an
	// unsure reading (confidence under 0.8) it makes the post neutral.
	NoSlang bool
	// LanguageLexicons holds overrides by ISO 639-1 code ("fr", "de").
	// Posts in a language other than English are neutral with low
	// confidence unless that language has a lexicon here, which then
	// scores them. An "en" entry adds to Lexicon (Lexicon wins on a clash).
	LanguageLexicons map[string]Lexicon
}

// Validate checks every lexicon in o. The error has code parley.EINVALID
// and names the offending entry.
func (o Options) Validate() error {
	if err := o.Lexicon.Validate(); err != nil {
		return err
	}
	for _, lang := range slices.Sorted(maps.Keys(o.LanguageLexicons)) {
		if strings.TrimSpace(lang) == "" {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon: empty language code")
		}
		if err := o.LanguageLexicons[lang].Validate(); err != nil {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon for language %q: %w", lang, err)
		}
	}
	return nil
}

// LangClassifier is a parley.Classifier that also reports the language it
// detected, so the pipeline can store it with the mention and rules can
// match on it.
type LangClassifier interface {
	parley.Classifier
	// ClassifyWithLang returns the verdict and the ISO 639-1 code of the
	// text's language ("" when unsure; see DetectLanguage).
	ClassifyWithLang(text string) (parley.Sentiment, string)
}

// Names lists the model names New accepts, default first.
func Names() []string { return []string{ModelDefault, ModelSocial, ModelVader} }

// Models lists each distinct built-in model once ("default" is "social"):
// what `sentiment eval --model all` compares.
func Models() []string { return []string{ModelSocial, ModelVader} }

// IsModelFile reports whether name is a path to a model file rather than
// the name of a built-in model: it ends in ".gz" or holds a path separator.
func IsModelFile(name string) bool {
	return strings.HasSuffix(name, ".gz") || strings.ContainsAny(name, `/\`)
}

// LoadModelFile reads a model file written by the trainer or `parley
// sentiment retrain`. Errors: ENOTFOUND when the file is missing, EINVALID
// when it is not a model (both name the file).
func LoadModelFile(path string) (*Model, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, parley.Errorf(parley.ENOTFOUND, "sentiment model file %s: not found", path)
	}
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "sentiment model file %s: %w", path, err)
	}
	defer f.Close() //nolint:errcheck // read-only: the reads report failures
	m, err := LoadModel(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := m.CheckFingerprint(); err != nil {
		return nil, parley.Errorf(parley.EINVALID, "%s: %w", path, err)
	}
	return m, nil
}

// New returns the classifier called name ("" means "default", which is
// the trained model "social"; "vader" is VADER), with the overrides in
// opts applied on top.
//
// The classifier detects each post's language: English posts (and Latin
// text too short or too unclear to tell) go to the model; posts in another
// language are neutral with Confidence 0.2, unless opts has a lexicon for
// that language, which then scores them.
//
// New returns an error with code parley.EINVALID when the name is unknown
// (the message lists the known names) or a lexicon is invalid, and
// EINTERNAL if the embedded model cannot be read (a build problem).
func New(name string, opts Options) (LangClassifier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var c parley.Classifier
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", ModelDefault, ModelSocial:
		m, err := DefaultModel()
		if err != nil {
			return nil, parley.Errorf(parley.EINTERNAL, "sentiment model %q: %w", ModelSocial, err)
		}
		c = m
	case ModelVader:
		c = NewVader()
	default:
		if !IsModelFile(name) {
			return nil, parley.Errorf(parley.EINVALID, "sentiment model %q: want one of %s, or a model file (FILE.model.gz)", name, strings.Join(Names(), ", "))
		}
		m, err := LoadModelFile(name)
		if err != nil {
			return nil, err
		}
		c = m
	}
	en := Lexicon{}
	maps.Copy(en, opts.LanguageLexicons["en"])
	maps.Copy(en, opts.Lexicon)
	var slang Lexicon
	if !opts.NoSlang {
		slang = SlangLexicon
	}
	r := &router{en: withLexicons(c, slang, en), name: c.Name(), langs: map[string]parley.Classifier{}}
	for lang, lex := range opts.LanguageLexicons {
		lang = strings.ToLower(strings.TrimSpace(lang))
		if lang != "en" && len(lex) > 0 {
			r.langs[lang] = WithLexicon(unknownLanguage{name: r.name}, lex)
		}
	}
	return r, nil
}

// UnknownLanguageConfidence is the confidence of the neutral verdict given
// to a post in a language the model does not read (its Model is
// parley.ModelUnknownLanguage, so Known reports false).
const UnknownLanguageConfidence = 0.2

// router sends each text to the classifier for its language.
type router struct {
	name  string
	en    parley.Classifier
	langs map[string]parley.Classifier
}

func (r *router) Name() string { return r.name }

func (r *router) Classify(text string) parley.Sentiment {
	s, _ := r.ClassifyWithLang(text)
	return s
}

func (r *router) ClassifyWithLang(text string) (parley.Sentiment, string) {
	lang, english := detectLanguage(text)
	if english {
		return r.en.Classify(text), lang
	}
	if c, ok := r.langs[lang]; ok {
		return c.Classify(text), lang
	}
	return unknownLanguage{name: r.name}.Classify(text), lang
}

// ClassifyLang classifies a text the platform says is written in lang (an
// ISO 639-1 code or a tag such as "pt-BR"), without detecting the language
// again; an empty lang is detected as in ClassifyWithLang.
func (r *router) ClassifyLang(text, lang string) parley.Sentiment {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	switch {
	case lang == "":
		s, _ := r.ClassifyWithLang(text)
		return s
	case lang == "en":
		return r.en.Classify(text)
	case r.langs[lang] != nil:
		return r.langs[lang].Classify(text)
	}
	return unknownLanguage{name: r.name}.Classify(text)
}

// unknownLanguage gives every text a low-confidence neutral verdict that
// says the language was not read (parley.Sentiment.Known is false).
type unknownLanguage struct{ name string }

func (u unknownLanguage) Name() string { return u.name }

func (u unknownLanguage) Classify(string) parley.Sentiment {
	return parley.Sentiment{Label: parley.Neutral, Confidence: UnknownLanguageConfidence, Model: parley.ModelUnknownLanguage}
}

// ModelLexicon is the Sentiment.Model of a verdict a language lexicon
// made on a post in a language the model does not read.
const ModelLexicon = "lexicon"
