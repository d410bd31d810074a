package sentiment

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/abadojack/whatlanggo"
)

// Language detection thresholds. Short posts are unreliable, so Latin
// text shorter than this is taken to be English.
const (
	langMinWords      = 5   // fewer Latin words: English
	langMinLetters    = 20  // fewer Latin letters: English
	langEnglishRatio  = 0.2 // this share of common English words: English
	langMinConfidence = 0.9 // whatlanggo confidence needed to say "not English"
	langNonLatinShare = 0.5 // non-Latin letters above this share: ask whatlanggo
)

// langOtherRatio is the share of a language's stopwords that names it.
const langOtherRatio = 0.25

// In a non-Latin script a text is surely not English; this is the
// whatlanggo confidence needed to name its language.
const langMinConfidenceNonLatin = 0.3

// stopwords are frequent function words of the languages the fast path
// knows, English first; a word may belong to several. Words that are also
// common in English are left out of the other lists.
var stopwords = []struct {
	code  string
	words string
}{
	{"en", `the and you to is it that of for this my with have be are was on
		just not your what we all at but can i'm don't it's im dont get will like they do if about
		out up how from one now time love good know go new day see today when he she his her our who
		or by been has had were would could there their them than then only really want need going
		think got make back still well more some any too very much thanks thank please lol omg
		tomorrow tonight night watch game people because why where which i'll can't didn't won't
		you're that's he's she's we're they're isn't wasn't gonna wanna yes yeah hey happy
		best great better bad worst last first next morning week weekend work school birthday
		should shall said say says let us him me whats being after before again never always
		here over into off down these those other same every many most such even also
		free help via rt amp u ur`},
	{"es", `el la los las del que y en un una es por con para se lo como más pero sus le ya
		este sí porque esta entre cuando muy sin sobre también hasta hay donde quien desde todo nos
		durante todos uno les ni otros ese eso ellos esto mí antes algunos qué unos yo otro otras
		otra él tanto esa estos mucho nada muchos cual poco ella estar estas algo nosotros mi mis
		tú te ti tu tus estoy estás está estamos están gracias hola bueno buena mejor peor
		encanta gusta tengo tiene hacer fue era`},
	{"fr", `le la les de des du un une et est en que qui dans pour pas sur au aux avec ce cette ces
		il elle ils elles je tu nous vous mais ou où donc ne se sa ses leur leurs mon ma mes ton ta
		tes très bien tout tous fait être avoir suis sont était été c'est j'ai merci bonjour aussi
		comme quand moi toi lui y vraiment meilleur pire adore déteste rien`},
	{"de", `der das und ist nicht ich du er sie es wir ihr ein eine einen dem den des mit von zu
		auf für im auch sich sind haben wie noch nur aber oder wenn dann schon sehr mehr kann
		bei aus nach wird werden mein dein sein unser euch mich dich uns danke bitte gut heute
		ist schlecht schlechteste beste toll je gekauft habe`},
	{"it", `il lo la le gli di da del della dei delle che è un una uno per con non si ma sono sei
		siamo questo questa quello anche più molto tutto ci mi ti nel nella al alla cosa grazie
		ciao perché quando ho hai abbiamo essere fare bene sempre`},
	{"pt", `o os um uma de da dos das em na nos nas que é não com para por mais mas como se sua seu
		ele ela eles elas eu você muito também já está estou são foi ser ter tem obrigado obrigada
		olá isso esse essa isto aqui quando porque`},
	{"nl", `de het een en van ik je jij hij zij wij niet dat die op te met voor zijn maar ook als
		aan bij nog wel naar kan uit om wat zo heb hebt heeft wordt worden waren mijn jouw ons onze
		bedankt dank goed heel`},
	{"id", `yang dan di ke dari ini itu untuk dengan tidak ada saya aku kamu anda kita kami mereka
		juga akan sudah belum bisa karena tapi atau jadi sama lagi aja udah gak nggak banget terima
		kasih`},
	{"tl", `ang ng mga sa na ay at ako ko mo siya niya kami tayo sila hindi oo po ba lang naman
		talaga pero kasi yung kung para salamat`},
}

// stopwordLangs maps a stopword to a bit set of indexes into stopwords.
var stopwordLangs = map[string]uint16{}

func init() {
	for i, l := range stopwords {
		for _, w := range strings.Fields(l.words) {
			stopwordLangs[w] |= 1 << i
		}
	}
}

// DetectLanguage returns the ISO 639-1 code of text's language ("en",
// "fr", "ja"), or "" when it cannot tell (no letters, or a long Latin text
// that is neither clearly English nor clearly another language). Short
// Latin texts (under five words) are taken to be English, as are texts
// with a fair share of common English words; links, @handles, #tags and
// emoji are ignored. It is safe for concurrent use.
func DetectLanguage(text string) string {
	code, _ := detectLanguage(text)
	return code
}

// detectLanguage returns DetectLanguage's answer and whether the text
// should be scored as English: yes for "en" and for "" in Latin script
// (an unsure guess), no for other languages and unknown non-Latin text.
func detectLanguage(text string) (string, bool) {
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	var (
		latin, other int     // letters
		accented     int     // non-ASCII Latin letters
		words        int     // Latin words
		hits         [16]int // stopwords per language
		buf          [32]byte
	)
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
			continue
		case r == '@' || r == '#':
			i = skipToSpace(text, i)
			continue
		case r == 'h' || r == 'w':
			if hasPrefixFold(text[i:], "http://") || hasPrefixFold(text[i:], "https://") || hasPrefixFold(text[i:], "www.") {
				i = skipToSpace(text, i)
				continue
			}
		}
		if !unicode.IsLetter(r) {
			i += n
			continue
		}
		// A word: letters and apostrophes.
		j := i
		bl := 0
		isLatin := true
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != '\'' && r != '\u2019' {
				break
			}
			if r < utf8.RuneSelf {
				if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
					latin++
				}
			} else if unicode.IsLetter(r) {
				if unicode.Is(unicode.Latin, r) {
					latin++
					if r >= utf8.RuneSelf {
						accented++
					}
				} else {
					other++
					isLatin = false
				}
			}
			if r == '\u2019' {
				r = '\''
			}
			if r < utf8.RuneSelf && bl < len(buf) {
				c := byte(r)
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[bl] = c //nolint:gosec // G602: bl < len(buf) is checked above
				bl++
			} else {
				bl = len(buf) + 1 // not a plain ASCII word
			}
			j += n
		}
		if isLatin {
			words++
			if bl <= len(buf) {
				if set := stopwordLangs[string(buf[:bl])]; set != 0 {
					for k := range stopwords {
						if set&(1<<k) != 0 {
							hits[k]++
						}
					}
				}
			} else if set := stopwordLangs[strings.ToLower(text[i:j])]; set != 0 {
				for k := range stopwords {
					if set&(1<<k) != 0 {
						hits[k]++
					}
				}
			}
		}
		i = j
	}
	// The loop above counts in locals; the decision reads the counts once.
	c := langCounts{latin: latin, other: other, accented: accented, words: words, hits: hits}
	return c.guess(text)
}

// langCounts is what detectLanguage counts in one pass over a text.
type langCounts struct {
	latin, other, accented, words int
	hits                          [16]int
}

// guess decides detectLanguage's answer from the counts: the stopword
// fast path for Latin text, whatlanggo (on text) for the rest.
func (c *langCounts) guess(text string) (string, bool) {
	letters := c.latin + c.other
	if letters == 0 {
		return "", true
	}
	isLatin := float64(c.other) <= langNonLatinShare*float64(letters)
	if isLatin {
		if c.words < langMinWords || c.latin < langMinLetters {
			return "en", true
		}
		// The stopword fast path: English, or one other language clearly
		// ahead of the rest.
		best := 1
		for k := 2; k < len(stopwords); k++ {
			if c.hits[k] > c.hits[best] {
				best = k
			}
		}
		second := 0 // the runner-up's hits
		for k := 1; k < len(stopwords); k++ {
			if k != best {
				second = max(second, c.hits[k])
			}
		}
		en := c.hits[0]
		if float64(en) >= langEnglishRatio*float64(c.words) && en >= c.hits[best] {
			return "en", true
		}
		if c.hits[best] == 0 && c.accented == 0 {
			// Plain ASCII with no stopwords at all: a headline, a list of
			// names. whatlanggo is slow and unsure on these.
			if en > 0 {
				return "en", true
			}
			return "", true
		}
		if c.hits[best] >= 2 && float64(c.hits[best]) >= langOtherRatio*float64(c.words) &&
			c.hits[best] > en && float64(second) < 0.7*float64(c.hits[best]) {
			return stopwords[best].code, false
		}
	}
	info := whatlanggo.Detect(wordsOnly(text))
	code := ""
	if info.Lang >= 0 {
		code = info.Lang.Iso6391()
	}
	switch {
	case code == "en":
		return "en", true
	case !isLatin && code != "" && info.Confidence >= langMinConfidenceNonLatin:
		return code, false
	case !isLatin:
		return "", false
	case code != "" && info.Confidence >= langMinConfidence:
		return code, false
	}
	return "", true
}

// wordsOnly returns the words of text (letters, marks, apostrophes)
// separated by spaces, without links, @handles and #tags.
func wordsOnly(text string) string {
	var b strings.Builder
	i := 0
	for i < len(text) {
		r, n := utf8.DecodeRuneInString(text[i:])
		if r == '@' || r == '#' || (r == 'h' || r == 'w') && (hasPrefixFold(text[i:], "http://") || hasPrefixFold(text[i:], "https://") || hasPrefixFold(text[i:], "www.")) {
			i = skipToSpace(text, i)
			continue
		}
		if !unicode.IsLetter(r) {
			i += n
			continue
		}
		j := i
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != '\'' && r != '\u2019' {
				break
			}
			j += n
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(text[i:j])
		i = j
	}
	return b.String()
}

func skipToSpace(s string, i int) int {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return i
		}
		i += n
	}
	return i
}
