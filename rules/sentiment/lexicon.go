package sentiment

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// Lexicon holds brand-specific overrides: a word or phrase (matched
// case-insensitively on word boundaries; '#' and '@' prefixes and
// surrounding punctuation are ignored) and its valence on VADER's scale,
// -4 (most negative) to 4 (most positive). A skate brand might say
// {"sick": 2.5, "gnarly": 2}.
type Lexicon map[string]float64

// MaxValence bounds a Lexicon value: valences lie in [-MaxValence, MaxValence].
const MaxValence = 4.0

// Validate reports the first bad entry (in key order): an empty key, a key
// with no words, or a value outside [-4, 4]. The error has code
// parley.EINVALID and names the entry.
func (l Lexicon) Validate() error {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := l[k]
		if strings.TrimSpace(k) == "" {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon: empty word (valence %g)", v)
		}
		if len(lexTokens(k)) == 0 {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon entry %q: no words in it", k)
		}
		if math.IsNaN(v) || v < -MaxValence || v > MaxValence {
			return parley.Errorf(parley.EINVALID, "sentiment lexicon entry %q: valence %g is outside -4..4", k, v)
		}
	}
	return nil
}

// WithLexicon returns a classifier that applies lex on top of c. When no
// entry occurs in a text the verdict is c's, unchanged. When some do, c
// classifies the text without them, their valences are added to that
// score (on VADER's scale; an entry within three words after a negation
// such as "not" counts -0.74 times), and the sum is mapped back to
// [-1, 1] and labelled with VADER's thresholds (±0.05). On a trained Model
// the valences are instead added to the log-odds of the class of their sign
// (lexiconLogitsPerValence each) and the Model's calibration labels the
// result, so the confidence keeps its scale; there a negated entry counts
// for nothing. The matched entries are listed in Sentiment.Overrides. Longer phrases win over the words in
// them. A nil or empty lex returns c itself. lex must be valid (see
// Validate); invalid entries are skipped.
func WithLexicon(c parley.Classifier, lex Lexicon) parley.Classifier {
	return withLexicons(c, nil, lex)
}

// withLexicons is WithLexicon with two lexicons: lex as WithLexicon
// applies it, and soft (the built-in slang) whose entries only break ties:
// one counts when the rest of the post (the model's verdict on it with
// lex applied) does not read the other way, so "sick" makes a neutral
// post positive but never a post the model finds negative; a post that
// matches no lex entry and only soft entries that do not count gets c's
// verdict unchanged. lex wins over soft on the same key.
func withLexicons(c parley.Classifier, soft, lex Lexicon) parley.Classifier {
	if len(lex) == 0 && len(soft) == 0 {
		return c
	}
	o := &overrider{base: c, first: make(map[string][]lexEntry)}
	for _, l := range []struct {
		lex  Lexicon
		soft bool
	}{{soft, true}, {lex, false}} {
		for k, v := range l.lex {
			toks := lexTokens(k)
			if len(toks) == 0 || math.IsNaN(v) || v < -MaxValence || v > MaxValence {
				continue
			}
			if _, clash := lex[k]; l.soft && clash {
				continue
			}
			words := make([]string, len(toks))
			for i, t := range toks {
				words[i] = t.text
			}
			o.first[words[0]] = append(o.first[words[0]], lexEntry{key: k, words: words, valence: v, soft: l.soft})
		}
	}
	o.starts = newWordStarts(o.first)
	for _, es := range o.first {
		sort.Slice(es, func(i, j int) bool {
			if len(es[i].words) != len(es[j].words) {
				return len(es[i].words) > len(es[j].words)
			}
			return es[i].key < es[j].key
		})
	}
	return o
}

type lexEntry struct {
	key     string
	words   []string
	valence float64
	soft    bool // counts only when the model does not read the post the other way
}

type overrider struct {
	base  parley.Classifier
	first map[string][]lexEntry // by first word
	// starts finds the keys of first (lower-case) in a text: one that
	// contains none of them (as a substring) cannot match.
	starts *wordStarts
}

// wordStarts tells whether a lower-case text contains any of a set of
// words as a substring, in one pass over the text: a word's first two
// bytes pick the few words to compare at each position, where a
// bytes.Contains per word read the text once for every word.
type wordStarts struct {
	one  [256]bool            // the words of one byte
	pair [1 << 16 / 64]uint64 // bit set: some word starts with these two bytes
	two  map[uint16][][]byte  // the words by their first two bytes
}

func newWordStarts[V any](words map[string]V) *wordStarts {
	ws := &wordStarts{two: make(map[uint16][][]byte)}
	for w := range words {
		switch {
		case w == "":
		case len(w) == 1:
			ws.one[w[0]] = true
		default:
			k := uint16(w[0])<<8 | uint16(w[1])
			ws.pair[k/64] |= 1 << (k % 64)
			ws.two[k] = append(ws.two[k], []byte(w))
		}
	}
	return ws
}

// in reports whether b contains one of the words.
func (ws *wordStarts) in(b []byte) bool {
	for i := range b {
		if ws.one[b[i]] {
			return true
		}
		if i+1 == len(b) {
			break
		}
		k := uint16(b[i])<<8 | uint16(b[i+1])
		if ws.pair[k/64]&(1<<(k%64)) == 0 {
			continue
		}
		for _, w := range ws.two[k] {
			if bytes.HasPrefix(b[i:], w) {
				return true
			}
		}
	}
	return false
}

var lowerPool = sync.Pool{New: func() any { return new([]byte) }}

// mayMatch reports whether text, lower-cased, contains the first word of
// some entry: a cheap test that passes every text with a match.
func (o *overrider) mayMatch(text string) bool {
	bp := lowerPool.Get().(*[]byte)
	b := (*bp)[:0]
	for _, r := range text {
		switch {
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r+'a'-'A'))
		case r < utf8.RuneSelf:
			b = append(b, byte(r))
		case r == '\u2019':
			b = append(b, '\'')
		default:
			b = utf8.AppendRune(b, unicode.ToLower(r))
		}
	}
	found := o.starts.in(b)
	*bp = b
	lowerPool.Put(bp)
	return found
}

func (o *overrider) Name() string { return o.base.Name() }

func (o *overrider) Classify(text string) parley.Sentiment {
	if !o.mayMatch(text) {
		return o.base.Classify(text)
	}
	toks := lexTokens(text)
	type match struct {
		e          lexEntry
		start, end int // byte span in text
		negated    bool
	}
	var matches []match
	for i := 0; i < len(toks); i++ {
		for _, e := range o.first[toks[i].text] {
			if i+len(e.words) > len(toks) {
				continue
			}
			ok := true
			for j := 1; j < len(e.words); j++ {
				if toks[i+j].text != e.words[j] {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
			neg := false
			for j := max(0, i-3); j < i; j++ {
				if isNegation(toks[j].text) {
					neg = true
				}
			}
			matches = append(matches, match{e: e, start: toks[i].start, end: toks[i+len(e.words)-1].end, negated: neg})
			i += len(e.words) - 1
			break
		}
	}
	if len(matches) == 0 {
		return o.base.Classify(text)
	}
	var masked strings.Builder
	prev := 0
	for _, m := range matches {
		masked.WriteString(text[prev:m.start])
		masked.WriteByte(' ')
		prev = m.end
	}
	masked.WriteString(text[prev:])
	// A negated entry ("not broken") is no evidence either way for a
	// model: it judges the rest of the post, as flipping it would risk
	// thanking an angry customer. VADER's rules negate it.
	hard, soft, raw := 0.0, 0.0, 0.0
	var hardNames, softNames []string
	for _, m := range matches {
		v := m.e.valence
		if m.negated {
			v *= negationScalar
		}
		switch {
		case m.e.soft && !m.negated:
			soft += v
			softNames = append(softNames, m.e.key)
		case !m.e.soft:
			raw += v
			hardNames = append(hardNames, m.e.key)
			if !m.negated {
				hard += m.e.valence
			}
		}
	}
	if sb, ok := o.base.(shiftable); ok {
		s, softCounted := sb.classifyShifted(masked.String(), hard, soft)
		if !softCounted {
			if len(hardNames) == 0 {
				return o.base.Classify(text)
			}
			softNames = nil
		}
		s.Overrides = append(hardNames, softNames...)
		return s
	}
	base := o.base.Classify(masked.String())
	if soft > 0 && base.Label == parley.Negative || soft < 0 && base.Label == parley.Positive {
		if len(hardNames) == 0 {
			return o.base.Classify(text)
		}
		soft, softNames = 0, nil
	}
	raw += soft + unnormalize(base.Score)
	s := vaderSentiment(normalize(raw))
	s.Model = base.Model
	if s.Model == parley.ModelUnknownLanguage {
		s.Model = ModelLexicon
	}
	s.Overrides = append(hardNames, softNames...)
	return s
}

// shiftable is a classifier a lexicon moves within its own scores, so
// that the verdict keeps the classifier's calibrated confidence.
type shiftable interface {
	// classifyShifted classifies text with its score moved by the valence
	// hard (VADER's scale: positive toward positive) and by soft unless
	// the text, moved by hard, reads the other way; it reports whether
	// soft counted.
	classifyShifted(text string, hard, soft float64) (parley.Sentiment, bool)
}

// negationScalar is VADER's factor for a negated word.
const negationScalar = -0.74

// vaderAlpha is VADER's normalisation constant: score = x/sqrt(x²+alpha).
const vaderAlpha = 15.0

func normalize(x float64) float64 {
	s := x / math.Sqrt(x*x+vaderAlpha)
	return math.Max(-1, math.Min(1, s))
}

// unnormalize inverts normalize, clamping scores near ±1.
func unnormalize(s float64) float64 {
	s = math.Max(-0.999, math.Min(0.999, s))
	return s * math.Sqrt(vaderAlpha/(1-s*s))
}

var negations = map[string]bool{
	"not": true, "no": true, "never": true, "nor": true, "neither": true, "none": true,
	"nothing": true, "nobody": true, "nowhere": true, "without": true, "cannot": true,
	"aint": true, "dont": true, "doesnt": true, "didnt": true, "isnt": true, "wasnt": true,
	"arent": true, "werent": true, "cant": true, "couldnt": true, "wont": true, "wouldnt": true,
	"shouldnt": true, "havent": true, "hasnt": true, "hadnt": true,
}

func isNegation(w string) bool {
	return negations[w] || strings.HasSuffix(w, "n't")
}

// lexToken is a lower-case word (or one emoji) and its byte span in the
// text it came from.
type lexToken struct {
	text       string
	start, end int
}

// lexTokens splits s into lower-case words (letters, digits, apostrophes,
// '_' and '-' inside a word) and single symbol runes such as emoji. HTML
// entities are not decoded here; '#' and '@' are dropped.
func lexTokens(s string) []lexToken {
	var toks []lexToken
	start := -1
	flush := func(end int) {
		if start >= 0 {
			w := strings.Trim(s[start:end], "'-_")
			if w != "" {
				off := start + strings.Index(s[start:end], w)
				// French and Italian elisions: j'adore is adore.
				if k := strings.IndexAny(w, "'\u2019"); k > 0 && elisions[strings.ToLower(w[:k])] {
					_, n := utf8.DecodeRuneInString(w[k:])
					if rest := w[k+n:]; rest != "" {
						off += k + n
						w = rest
					}
				}
				toks = append(toks, lexToken{text: normWord(w), start: off, end: off + len(w)})
			}
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) && start >= 0:
			if start < 0 {
				start = i
			}
		case start >= 0 && (r == '\'' || r == '\u2019' || r == '-' || r == '_'):
			// inside a word
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) && r > utf8.RuneSelf:
			flush(i)
			if !isEmojiModifier(r) {
				_, n := utf8.DecodeRuneInString(s[i:]) // 1 for invalid UTF-8
				toks = append(toks, lexToken{text: s[i : i+n], start: i, end: i + n})
			}
		default:
			flush(i)
		}
	}
	flush(len(s))
	return toks
}

// elisions are the French and Italian words elided before a vowel (l',
// j', qu', dell').
var elisions = map[string]bool{
	"l": true, "d": true, "j": true, "m": true, "n": true, "s": true, "t": true, "c": true,
	"qu": true, "jusqu": true, "lorsqu": true, "puisqu": true, "un": true, "all": true,
	"dell": true, "nell": true, "sull": true, "dall": true, "quest": true,
}

func normWord(w string) string {
	w = strings.ToLower(w)
	if strings.ContainsRune(w, '\u2019') {
		w = strings.ReplaceAll(w, "\u2019", "'")
	}
	return w
}
