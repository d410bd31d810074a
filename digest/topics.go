package digest

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// How many rising terms and hashtags the digest lists, and how often a
// term must occur this week to count.
const (
	maxTerms    = 8
	maxHashtags = 5
	minTermUses = 3
	minTagUses  = 2
)

// topics finds the terms and hashtags that rose most against the week
// before. A term counts once per mention (a post repeating a word does
// not make a topic); the brand's own words, stopwords, links, @handles,
// numbers and words shorter than three letters are left out.
func topics(cur, prev []parley.Mention, brand string) Topics {
	skip := map[string]bool{}
	for _, w := range tokens(brand) {
		skip[w] = true
		skip[strings.TrimSuffix(w, "s")] = true
	}
	count := func(ms []parley.Mention) (terms, tags map[string]int) {
		terms, tags = map[string]int{}, map[string]int{}
		for _, m := range ms {
			seen := map[string]bool{}
			for _, t := range tokens(m.Text) {
				if seen[t] {
					continue
				}
				seen[t] = true
				if strings.HasPrefix(t, "#") {
					tags[t]++
					continue
				}
				if skip[t] || stopwords[t] || utf8.RuneCountInString(t) < 3 {
					continue
				}
				terms[t]++
			}
		}
		return terms, tags
	}
	ct, cg := count(cur)
	pt, pg := count(prev)
	return Topics{Terms: rising(ct, pt, minTermUses, maxTerms), Hashtags: rising(cg, pg, minTagUses, maxHashtags)}
}

// rising returns the terms of cur used at least minUses times that rose
// against prev, by the rise, then this week's count, then alphabetically.
func rising(cur, prev map[string]int, minUses, limit int) []Term {
	var out []Term
	for t, n := range cur {
		if n >= minUses && n > prev[t] {
			out = append(out, Term{Term: t, Count: n, Prev: prev[t]})
		}
	}
	slices.SortFunc(out, func(a, b Term) int {
		return cmp.Or(cmp.Compare(b.Count-b.Prev, a.Count-a.Prev), cmp.Compare(b.Count, a.Count), strings.Compare(a.Term, b.Term))
	})
	return out[:min(limit, len(out))]
}

// tokens splits text into lower-case words and #hashtags. Links and
// @handles (including user@server) are dropped, as are tokens without a
// letter. Apostrophes inside words are kept ("don't"), then stopwords
// see them.
func tokens(text string) []string {
	var out []string
	for _, f := range strings.Fields(strings.ToLower(text)) {
		if strings.Contains(f, "://") || strings.HasPrefix(f, "www.") || strings.HasPrefix(f, "@") || strings.Contains(f, "@") {
			continue
		}
		tag := strings.HasPrefix(strings.TrimLeftFunc(f, func(r rune) bool { return r != '#' && !isWord(r) }), "#")
		words := strings.FieldsFunc(f, func(r rune) bool { return !isWord(r) && r != '\'' && r != '’' })
		for i, w := range words {
			w = strings.Trim(strings.ReplaceAll(w, "’", "'"), "'")
			w = strings.TrimSuffix(w, "'s")
			if !hasLetter(w) {
				continue
			}
			if tag && i == 0 {
				out = append(out, "#"+w)
				continue
			}
			out = append(out, w)
		}
	}
	return out
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// stopwords are the words too common to be a topic: English first, then
// the German, Spanish and French basics, then chat filler.
var stopwords = map[string]bool{}

func init() {
	for _, list := range []string{
		`a about above after again against all am an and any are aren't as at be because been before being below
		between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
		few for from further had hadn't has hasn't have haven't having he he'd he'll her here here's hers herself him
		himself his how how's i i'd i'll i'm i've if in into is isn't it it's its itself let's me more most mustn't my
		myself no nor not of off on once only or other ought our ours ourselves out over own same shan't she she'd
		she'll should shouldn't so some such than that that's the their theirs them themselves then there there's
		these they they'd they'll they're they've this those through to too under until up very was wasn't we we'd
		we'll we're we've were weren't what what's when when's where where's which while who who's whom why why's
		with won't would wouldn't you you'd you'll you're you've your yours yourself yourselves`,
		`also just like get got getting gets one two really still even much many well back way new now make made
		going go goes went know think thing things anyone someone anything something every ever yet today week
		everyone everybody somebody anybody nothing
		time day days year good great lol omg yeah yes hey hi hello thanks thank please pls guys gonna wanna
		im dont cant doesnt didnt ive thats its it's isnt wont u ur via amp`,
		`der die das und ist nicht ein eine einen dem den des mit für auf ich du er sie es wir ihr mein meine
		dein sich von zu im am auch noch nur schon aber oder wie was wenn dann hat habe haben sind war mal
		so bei aus nach`,
		`el la los las de del que y en un una es por con para mi mis tu su sus al lo se no si muy pero como más
		ya fue son`,
		`le les des du et est un une pour pas que qui dans sur avec mon ma mes ton ta ce cette il elle nous vous
		ils au aux je tu très mais ou plus`,
	} {
		for _, w := range strings.Fields(list) {
			stopwords[w] = true
		}
	}
}
