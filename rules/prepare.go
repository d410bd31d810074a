package rules

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"

	"github.com/parleybot/parley"
)

// Text facts. What contains_any with a constant list, is_question and
// `text matches 'constant'` say about a mention's text depends on the text
// alone, and these helpers are most of what evaluating a rule costs.
// Prepare works them all out ahead of time, on the pipeline's classifying
// goroutines; Evaluate, which the store's single writer waits for, then
// only looks them up. The answers are the same either way: Evaluate
// computes a fact itself when the mention was not prepared, was prepared
// by another set, or its text changed since.

// prepared is what Prepare stores in parley.Mention.Prepared.
type prepared struct {
	set   *Set
	text  string // the text the facts are about
	facts []bool // by fact index (see Set.initFacts)
}

// factQuestion is the index of is_question(text) among the facts.
const factQuestion = 0

// initFacts numbers the set's text facts: is_question, then every constant
// contains_any list and `matches` pattern of its conditions.
func (s *Set) initFacts() {
	n := 1 // factQuestion
	for i := range s.rules {
		c := &s.rules[i]
		if strings.Contains(c.When, "is_question") {
			s.question = true
		}
		if c.prog == nil {
			continue
		}
		for _, k := range c.prog.Constants {
			switch k := k.(type) {
			case *phraseList:
				k.fact = n
				s.lists = append(s.lists, k)
				n++
			case *pattern:
				k.fact = n
				s.patterns = append(s.patterns, k)
				n++
			}
		}
	}
	s.nfacts = n
	s.scan = newPhraseScanner(s.lists)
}

// phraseScanner finds which of several phrase lists occur in a text in
// one pass over it, rather than one search per phrase.
type phraseScanner struct {
	byFirst [256][]scanEntry // the phrases, by their first byte
	lists   int
}

type scanEntry struct {
	p    phrase
	fact int // the fact of the phrase's list
}

func newPhraseScanner(lists []*phraseList) *phraseScanner {
	sc := &phraseScanner{lists: len(lists)}
	for _, l := range lists {
		for _, p := range l.phrases {
			if p.s != "" {
				sc.byFirst[p.s[0]] = append(sc.byFirst[p.s[0]], scanEntry{p, l.fact})
			}
		}
	}
	return sc
}

// scan sets facts[l.fact] for every list l with a phrase in lower (the
// text, lower case), exactly as l.in(lower) would.
func (sc *phraseScanner) scan(lower string, facts []bool) {
	left := sc.lists
	for i := 0; i < len(lower) && left > 0; i++ {
		for _, e := range sc.byFirst[lower[i]] {
			if !facts[e.fact] && strings.HasPrefix(lower[i:], e.p.s) && e.p.bounded(lower, i) {
				facts[e.fact] = true
				left--
			}
		}
	}
}

// Prepare works out, from m.Text alone, the answers the set's conditions
// will ask of the text (contains_any with a constant list, is_question,
// matches with a constant pattern) and keeps them in m.Prepared, so a
// later Evaluate or Decide of m only looks them up. It is safe for
// concurrent use; it changes nothing else on m. Calling it is optional:
// the results of Evaluate are the same without it.
func (s *Set) Prepare(m *parley.Mention) {
	if s == nil || (len(s.lists) == 0 && len(s.patterns) == 0 && !s.question) {
		return
	}
	p := &prepared{set: s, text: m.Text, facts: make([]bool, s.nfacts)}
	if s.question {
		p.facts[factQuestion] = IsQuestion(m.Text)
	}
	if len(s.lists) > 0 {
		s.scan.scan(strings.ToLower(m.Text), p.facts)
	}
	for _, pt := range s.patterns {
		p.facts[pt.fact] = pt.match(m.Text)
	}
	m.Prepared = p
}

// facts returns the prepared facts of m when they are this set's and
// about m's current text, else nil.
func (s *Set) facts(m *parley.Mention) []bool {
	p, ok := m.Prepared.(*prepared)
	if !ok || p.set != s || p.text != m.Text {
		return nil
	}
	return p.facts
}

// fact returns the prepared answer for fact i about text, if e holds one.
func (e *env) fact(i int, text string) (answer, ok bool) {
	if e == nil || e.pre == nil || i < 0 || text != e.Text {
		return false, false
	}
	return e.pre[i], true
}

// pattern is the constant regular expression of `text matches '...'`,
// compiled once, with a literal every match must contain: a text without
// it is rejected without running the regular expression.
type pattern struct {
	re   *regexp.Regexp
	lit  string // "" when there is none
	fold bool   // lit is lower case and matches case-insensitively
	fact int    // index among the set's facts; -1 before initFacts
}

func newPattern(re *regexp.Regexp) *pattern {
	p := &pattern{re: re, fact: -1}
	if tree, err := syntax.Parse(re.String(), syntax.Perl); err == nil {
		p.lit, p.fold = requiredLiteral(tree.Simplify())
	}
	return p
}

func (p *pattern) match(text string) bool {
	if p.lit != "" {
		if p.fold {
			if !containsFold(text, p.lit) {
				return false
			}
		} else if !strings.Contains(text, p.lit) {
			return false
		}
	}
	return p.re.MatchString(text)
}

// containsFold reports whether text contains lit (lower-case ASCII
// letters other than k and s, digits and punctuation: see requiredLiteral)
// ignoring case as regexp's (?i) does.
func containsFold(text, lit string) bool {
	n := len(lit)
	for i := 0; i+n <= len(text); i++ {
		j := 0
		for ; j < n; j++ {
			c := text[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != lit[j] {
				break
			}
		}
		if j == n {
			return true
		}
	}
	return false
}

// requiredLiteral returns the longest literal that every match of re
// must contain, or "". A case-insensitive literal is returned lower case
// with fold set, and only when its ASCII letters have no folds outside
// ASCII (k folds to the Kelvin sign, s to the long s), so that comparing
// ASCII case-insensitively is exact.
func requiredLiteral(re *syntax.Regexp) (lit string, fold bool) {
	switch re.Op {
	case syntax.OpLiteral:
		fold = re.Flags&syntax.FoldCase != 0
		s := string(re.Rune)
		if !usableLiteral(s, fold) {
			return "", false
		}
		if fold {
			s = strings.ToLower(s)
		}
		return s, fold
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			if l, f := requiredLiteral(sub); len(l) > len(lit) {
				lit, fold = l, f
			}
		}
		return lit, fold
	}
	return "", false
}

func usableLiteral(s string, fold bool) bool {
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	if !fold {
		return true
	}
	for _, r := range s {
		if r >= utf8.RuneSelf {
			return false
		}
		switch r {
		case 'k', 'K', 's', 'S':
			return false
		}
	}
	return true
}
