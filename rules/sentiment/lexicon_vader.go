package sentiment

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"sync"

	"github.com/jonreiter/govader/data"
)

// vaderTables are VADER's word/emoticon lexicon and emoji valences, read
// once from govader's embedded data and shared (read-only) by every
// classifier in the package.
type vaderTables struct {
	// lex maps a lower-case word, or an emoticon as written, to its valence.
	lex map[string]float64
	// emoticons holds the lexicon keys with no letter in them (":)", "<3").
	emoticons map[string]float64
	// maxEmoticon is the length in bytes of the longest emoticon.
	maxEmoticon int
	// emoji maps an emoji rune to its valence: emojiValence's, else that
	// of its description.
	emoji map[rune]float64
	// emojiDesc maps an emoji rune to its description ("red heart").
	emojiDesc map[rune]string
}

var (
	vaderOnce sync.Once
	vaderTab  *vaderTables
)

// loadVaderTables parses govader's data once. It panics only if the data
// compiled into govader is missing, which is a build problem.
func loadVaderTables() *vaderTables {
	vaderOnce.Do(func() {
		t := &vaderTables{
			lex:       make(map[string]float64, 7600),
			emoticons: make(map[string]float64, 400),
			emoji:     make(map[rune]float64, 1200),
			emojiDesc: make(map[rune]string, 3600),
		}
		sc := bufio.NewScanner(bytes.NewReader(data.MustAsset(lexiconAsset)))
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			if len(f) < 2 {
				continue
			}
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				continue
			}
			k := f[0]
			t.lex[k] = v
			if !strings.ContainsFunc(k, isLetterRune) {
				t.emoticons[k] = v
				t.maxEmoticon = max(t.maxEmoticon, len(k))
			}
		}
		for w, v := range extraLexicon {
			t.lex[w] = v
		}
		sc = bufio.NewScanner(bytes.NewReader(data.MustAsset(emojiAsset)))
		for sc.Scan() {
			f := strings.SplitN(sc.Text(), "\t", 2)
			if len(f) < 2 {
				continue
			}
			r := []rune(f[0])
			if len(r) != 1 {
				continue // sequences: we look emoji up rune by rune
			}
			t.emojiDesc[r[0]] = f[1]
			if v := t.describedValence(f[1]); v != 0 {
				t.emoji[r[0]] = v
			}
		}
		for r, v := range emojiValence {
			if v == 0 {
				delete(t.emoji, r)
			} else {
				t.emoji[r] = v
			}
		}
		vaderTab = t
	})
	return vaderTab
}

// Asset names in github.com/jonreiter/govader/data.
const (
	lexiconAsset = "rawdata/vaderLexicon.txt"
	emojiAsset   = "rawdata/emojiUTF8Lexicon.txt"
)

// describedValence scores an emoji description ("face with tears of joy")
// as the sum of its words' valences, clamped to [-4, 4], with the heart
// idioms applied.
func (t *vaderTables) describedValence(desc string) float64 {
	words := strings.FieldsFunc(strings.ToLower(desc), func(r rune) bool {
		return r == ' ' || r == ':' || r == ',' || r == '-'
	})
	sum := 0.0
	for i := 0; i < len(words); i++ {
		if i+1 < len(words) {
			if tok, ok := idioms[[2]string{words[i], words[i+1]}]; ok {
				sum += t.lex[tok]
				i++
				continue
			}
		}
		sum += t.lex[words[i]]
	}
	return max(-MaxValence, min(MaxValence, sum))
}

func isLetterRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// boosters are VADER's intensifiers and dampeners.
var boosters = map[string]float64{
	"absolutely": vBoost, "amazingly": vBoost, "awfully": vBoost, "completely": vBoost,
	"considerable": vBoost, "considerably": vBoost, "decidedly": vBoost, "deeply": vBoost,
	"effing": vBoost, "enormous": vBoost, "enormously": vBoost, "entirely": vBoost,
	"especially": vBoost, "exceptional": vBoost, "exceptionally": vBoost, "extreme": vBoost,
	"extremely": vBoost, "fabulously": vBoost, "flipping": vBoost, "flippin": vBoost,
	"frackin": vBoost, "fracking": vBoost, "fricking": vBoost, "frickin": vBoost,
	"frigging": vBoost, "friggin": vBoost, "fully": vBoost, "fuckin": vBoost, "fucking": vBoost,
	"fuggin": vBoost, "fugging": vBoost, "greatly": vBoost, "hella": vBoost, "highly": vBoost,
	"hugely": vBoost, "incredible": vBoost, "incredibly": vBoost, "intensely": vBoost,
	"major": vBoost, "majorly": vBoost, "more": vBoost, "most": vBoost, "particularly": vBoost,
	"purely": vBoost, "quite": vBoost, "really": vBoost, "remarkably": vBoost, "so": vBoost,
	"substantially": vBoost, "thoroughly": vBoost, "total": vBoost, "totally": vBoost,
	"tremendous": vBoost, "tremendously": vBoost, "uber": vBoost, "unbelievably": vBoost,
	"unusually": vBoost, "utter": vBoost, "utterly": vBoost, "very": vBoost,
	"almost": -vBoost, "barely": -vBoost, "hardly": -vBoost, "kinda": -vBoost, "kindof": -vBoost,
	"less": -vBoost, "little": -vBoost, "marginal": -vBoost, "marginally": -vBoost,
	"occasional": -vBoost, "occasionally": -vBoost, "partly": -vBoost, "scarce": -vBoost,
	"scarcely": -vBoost, "slight": -vBoost, "slightly": -vBoost, "somewhat": -vBoost,
	"sorta": -vBoost, "sortof": -vBoost,
}

// VADER's constants.
const (
	vBoost       = 0.293 // booster increment
	vCapsIncr    = 0.733 // ALL CAPS emphasis
	vButBefore   = 0.5   // weight of sentiment before "but"
	vButAfter    = 1.5   // weight after "but"
	vExclIncr    = 0.292 // per '!', at most 4
	vQuestIncr   = 0.18  // per '?', 2 or 3 of them
	vQuestMax    = 0.96  // more than 3 '?'
	vMaxExcl     = 4
	vBoostScale1 = 0.95 // a booster two words before
	vBoostScale2 = 0.9  // three words before
)
