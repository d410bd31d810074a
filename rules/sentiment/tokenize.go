package sentiment

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// tokKind is what a token is.
type tokKind uint8

const (
	tkWord     tokKind = iota // a word or number, lower-cased, elongations cut to two letters
	tkHashtag                 // #tag, norm without the '#'
	tkUser                    // @handle, norm "<user>"
	tkURL                     // a link, norm "<url>"
	tkNum                     // digits only, norm "<num>"
	tkEmoticon                // :) <3, norm as written
	tkEmoji                   // one emoji rune, norm the rune
	tkPunct                   // a run of punctuation: "!", "?", "?!", "." or ","
)

// token is one unit of a post. Its normalised text is buf[s:e] of the
// tokens' scratch.
type token struct {
	kind  tokKind
	s, e  int32
	caps  bool    // ALL CAPS word of two letters or more
	elong bool    // a letter repeated three times or more (sooo)
	neg   bool    // inside a negation's scope
	val   float64 // VADER valence of the token itself (0 if none)
}

// tokens holds the result of tokenize and reusable buffers.
type tokens struct {
	buf   []byte
	toks  []token
	excl  int // '!' in the text
	quest int // '?' in the text
}

func (ts *tokens) norm(t *token) []byte { return ts.buf[t.s:t.e] }

func (ts *tokens) reset() {
	ts.buf = ts.buf[:0]
	ts.toks = ts.toks[:0]
	ts.excl, ts.quest = 0, 0
}

// tokenize splits text into ts (which it resets), decoding HTML entities
// and normalising words, and marks negation scopes and VADER valences.
func (vt *vaderTables) tokenize(text string, ts *tokens) {
	ts.reset()
	if strings.IndexByte(text, '&') >= 0 {
		text = html.UnescapeString(text)
	}
	i := 0
	for i < len(text) {
		// Skip whitespace.
		c := text[i]
		if c < utf8.RuneSelf {
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				i++
				continue
			}
		} else if r, n := utf8.DecodeRuneInString(text[i:]); unicode.IsSpace(r) {
			i += n
			continue
		}
		j := i
		for j < len(text) {
			c := text[j]
			if c < utf8.RuneSelf {
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
					break
				}
				j++
				continue
			}
			r, n := utf8.DecodeRuneInString(text[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		vt.chunk(text[i:j], ts)
		i = j
	}
	vt.markNegation(ts)
}

// chunk tokenizes one whitespace-free piece of text.
func (vt *vaderTables) chunk(ch string, ts *tokens) {
	if hasPrefixFold(ch, "http://") || hasPrefixFold(ch, "https://") || hasPrefixFold(ch, "www.") {
		ts.add(tkURL, "<url>", 0)
		return
	}
	if v, ok := vt.emoticons[ch]; ok {
		ts.add(tkEmoticon, ch, v)
		return
	}
	i := 0
	for i < len(ch) {
		c := ch[i]
		switch {
		case c == '@' && i+1 < len(ch) && isWordByte(ch[i+1]):
			i = skipWord(ch, i+1)
			ts.add(tkUser, "<user>", 0)
		case c == '#' && i+1 < len(ch) && isWordStart(ch, i+1):
			j := skipWord(ch, i+1)
			vt.word(ch[i+1:j], tkHashtag, ts)
			i = j
		case isWordStart(ch, i):
			j := skipWord(ch, i)
			vt.word(ch[i:j], tkWord, ts)
			i = j
		case c < utf8.RuneSelf:
			// An emoticon attached to a word ("great:)"), else punctuation.
			if n, v := vt.emoticonAt(ch, i); n > 0 {
				ts.add(tkEmoticon, ch[i:i+n], v)
				i += n
				continue
			}
			j := i
			var excl, quest, stop, comma bool
			for j < len(ch) && ch[j] < utf8.RuneSelf && !isWordByte(ch[j]) && !(ch[j] == '@' || ch[j] == '#') {
				if j > i {
					if n, _ := vt.emoticonAt(ch, j); n > 0 {
						break
					}
				}
				switch ch[j] {
				case '!':
					excl = true
					ts.excl++
				case '?':
					quest = true
					ts.quest++
				case '.', ';', ':':
					stop = true
				case ',':
					comma = true
				}
				j++
			}
			if j == i { // a lone '@' or '#'
				j++
			}
			switch {
			case excl && quest:
				ts.add(tkPunct, "?!", 0)
			case excl:
				ts.add(tkPunct, "!", 0)
			case quest:
				ts.add(tkPunct, "?", 0)
			case stop:
				ts.add(tkPunct, ".", 0)
			case comma:
				ts.add(tkPunct, ",", 0)
			}
			i = j
		default:
			r, n := utf8.DecodeRuneInString(ch[i:])
			switch {
			case isEmojiModifier(r) || r == '\u200d':
			case r == '\u2019' || r == '\u2018' || r == '\u201c' || r == '\u201d' || r == '\u2026':
				if r == '\u2026' {
					ts.add(tkPunct, ".", 0)
				}
			default:
				if _, ok := vt.emojiDesc[r]; ok || unicode.Is(unicode.So, r) {
					ts.add(tkEmoji, ch[i:i+n], vt.emoji[r])
				}
			}
			i += n
		}
	}
}

// emoticonAt returns the length and valence of the longest emoticon in
// VADER's lexicon that starts at ch[i] and is not followed by a letter or
// digit, or 0.
func (vt *vaderTables) emoticonAt(ch string, i int) (int, float64) {
	for n := min(vt.maxEmoticon, len(ch)-i); n >= 2; n-- {
		if v, ok := vt.emoticons[ch[i:i+n]]; ok {
			if i+n < len(ch) && isASCIIAlnum(ch[i+n]) {
				continue
			}
			return n, v
		}
	}
	return 0, 0
}

func (ts *tokens) add(k tokKind, norm string, val float64) {
	s := len(ts.buf)
	ts.buf = append(ts.buf, norm...)
	ts.toks = append(ts.toks, token{kind: k, s: int32(s), e: int32(len(ts.buf)), val: val})
}

// word appends a word token: lower-cased, typographic apostrophes made
// ASCII, letters repeated three times or more cut to two.
func (vt *vaderTables) word(w string, k tokKind, ts *tokens) {
	s := len(ts.buf)
	upper, lower, digits := 0, 0, 0
	var prev rune
	run := 0
	elong := false
	for _, r := range w {
		switch {
		case r == '\u2019' || r == '\u2018':
			r = '\''
		case r >= 'A' && r <= 'Z':
			upper++
			r += 'a' - 'A'
		case r >= 'a' && r <= 'z':
			lower++
		case r >= '0' && r <= '9':
			digits++
		case r >= utf8.RuneSelf:
			if unicode.IsUpper(r) {
				upper++
				r = unicode.ToLower(r)
			} else if unicode.IsLower(r) {
				lower++
			}
		}
		if r == prev {
			run++
		} else {
			run = 1
			prev = r
		}
		if run > 2 && r != '\'' {
			if r < '0' || r > '9' {
				elong = true
			}
			continue
		}
		ts.buf = utf8.AppendRune(ts.buf, r)
	}
	if digits > 0 && upper == 0 && lower == 0 && k == tkWord {
		ts.buf = append(ts.buf[:s], "<num>"...)
		ts.toks = append(ts.toks, token{kind: tkNum, s: int32(s), e: int32(len(ts.buf))})
		return
	}
	t := token{kind: k, s: int32(s), e: int32(len(ts.buf)), elong: elong, caps: upper >= 2 && lower == 0}
	norm := ts.buf[s:]
	if v, ok := vt.lex[string(norm)]; ok {
		t.val = v
	} else if elong {
		// "goood" → "good" is in VADER's lexicon, "goodd" is not.
		var tmp [64]byte
		single := appendSingleRuns(tmp[:0], norm)
		t.val = vt.lex[string(single)]
	}
	ts.toks = append(ts.toks, t)
}

// appendSingleRuns appends b to dst with runs of a repeated byte cut to one.
func appendSingleRuns(dst, b []byte) []byte {
	for i, c := range b {
		if i > 0 && c == b[i-1] {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// markNegation sets neg on the words after a negation, up to the next
// punctuation or "but".
func (vt *vaderTables) markNegation(ts *tokens) {
	in := false
	for i := range ts.toks {
		t := &ts.toks[i]
		switch t.kind {
		case tkPunct:
			in = false
		case tkWord, tkHashtag:
			w := ts.norm(t)
			if string(w) == "but" {
				in = false
				continue
			}
			if in {
				t.neg = true
			}
			if isNegationBytes(w) {
				in = true
			}
		}
	}
}

func isNegationBytes(w []byte) bool {
	if len(w) > 3 && string(w[len(w)-3:]) == "n't" {
		return true
	}
	return negations[string(w)]
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= utf8.RuneSelf
}

// isWordStart reports whether a word (letter, digit or '_', or a non-ASCII
// letter) starts at s[i].
func isWordStart(s string, i int) bool {
	c := s[i]
	if c < utf8.RuneSelf {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// skipWord returns the end of the word starting at s[i]: letters, digits,
// '_', marks, and apostrophes between letters.
func skipWord(s string, i int) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
				i++
				continue
			}
			if c == '\'' && i+1 < len(s) && isWordStart(s, i+1) {
				i++
				continue
			}
			return i
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) {
			i += n
			continue
		}
		if (r == '\u2019' || r == '\u2018') && i+n < len(s) && isWordStart(s, i+n) {
			i += n
			continue
		}
		return i
	}
	return i
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
