package sentiment

import (
	"sort"
	"strings"

	"github.com/parleybot/parley"
)

// Model names New accepts.
const (
	// ModelDefault names Parley's default classifier.
	ModelDefault = "default"
	// ModelVader names the VADER classifier.
	ModelVader = "vader"
)

// Options configure New.
type Options struct {
	// Lexicon holds brand overrides (words and phrases with a fixed
	// valence) applied on top of the model; see WithLexicon.
	Lexicon Lexicon
	// LanguageLexicons holds overrides for posts in other languages, by
	// ISO 639-1 code ("fr", "de"). Reserved for the language-aware default
	// model; the VADER model ignores it.
	LanguageLexicons map[string]Lexicon
}

// Validate checks every lexicon in o. The error has code parley.EINVALID
// and names the offending entry.
func (o Options) Validate() error {
	if err := o.Lexicon.Validate(); err != nil {
		return err
	}
	langs := make([]string, 0, len(o.LanguageLexicons))
	for lang := range o.LanguageLexicons {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if strings.TrimSpace(lang) == "" {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon: empty language code")
		}
		if err := o.LanguageLexicons[lang].Validate(); err != nil {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon for language %q: %w", lang, err)
		}
	}
	return nil
}

// Names lists the model names New accepts, default first.
func Names() []string { return []string{ModelDefault, ModelVader} }

// New returns the classifier called name ("" means "default"), with the
// overrides in opts applied on top. It returns an error with code
// parley.EINVALID when the name is unknown (the message lists the known
// names) or a lexicon is invalid.
func New(name string, opts Options) (parley.Classifier, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	var c parley.Classifier
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", ModelDefault, ModelVader:
		c = NewVader()
	default:
		return nil, parley.Errorf(parley.EINVALID, "sentiment model %q: want one of %s", name, strings.Join(Names(), ", "))
	}
	return WithLexicon(c, opts.Lexicon), nil
}
