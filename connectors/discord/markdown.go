package discord

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MarkdownToText turns Discord-flavoured markdown into readable plain text:
// bold, italics, underline, strike-through and spoiler markers are dropped
// (their content kept), inline code and code blocks lose their fences (and a
// block's language tag), block quotes (> and >>>), headings (#, ##, ###) and
// subtext (-#) lose their markers, masked links [text](url) become
// "text (url)" (or just the url when both are the same), <https://...>
// autolinks lose their brackets, custom emoji <:name:id> and <a:name:id>
// become :name:, and backslash escapes are resolved.
//
// User, role and channel mentions (<@id>, <@&id>, <#id>) and timestamps
// (<t:unix:style>) are left for ResolveMentions, which needs names.
//
// MarkdownToText never panics, never makes the text longer, and keeps valid
// UTF-8 valid; text without markdown characters comes back unchanged.
func MarkdownToText(s string) string {
	if !strings.ContainsAny(s, "*_~|`[<>#-\\") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	lines := splitLines(s)
	inBlock := false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if i > 0 {
			b.WriteByte('\n')
		}
		if inBlock {
			if idx := strings.Index(line, "```"); idx >= 0 {
				b.WriteString(strings.TrimRight(line[:idx], " "))
				inBlock = false
				rest := line[idx+3:]
				if rest != "" {
					b.WriteString(inline(rest))
				}
				continue
			}
			b.WriteString(line)
			continue
		}
		line = stripLineMarkers(line)
		b.WriteString(convertLine(line, &inBlock))
	}
	return strings.TrimSpace(b.String())
}

func splitLines(s string) []string { return strings.Split(s, "\n") }

// stripLineMarkers removes quote, heading and subtext markers at the start
// of a line.
func stripLineMarkers(line string) string {
	switch {
	case strings.HasPrefix(line, ">>> "):
		line = line[4:]
	case strings.HasPrefix(line, "> "):
		line = line[2:]
	case line == ">":
		line = ""
	}
	for _, h := range []string{"### ", "## ", "# ", "-# "} {
		if strings.HasPrefix(line, h) {
			return line[len(h):]
		}
	}
	return line
}

// convertLine handles a line outside a code block: code fences that open
// (and perhaps close) on it, and inline markdown elsewhere.
func convertLine(line string, inBlock *bool) string {
	var b strings.Builder
	for {
		idx := strings.Index(line, "```")
		if idx < 0 {
			b.WriteString(inline(line))
			return b.String()
		}
		b.WriteString(inline(line[:idx]))
		rest := line[idx+3:]
		end := strings.Index(rest, "```")
		if end < 0 {
			break
		}
		// ```code``` on one line; the loop goes on after it.
		b.WriteString(rest[:end])
		line = rest[end+3:]
	}
	rest := line[strings.Index(line, "```")+3:]
	*inBlock = true
	// ```lang at the end of a line: the language tag is not content.
	if isLangTag(rest) {
		return strings.TrimRight(b.String(), " ")
	}
	b.WriteString(rest)
	return b.String()
}

func isLangTag(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 20 {
		return false
	}
	for _, r := range s {
		if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '-' || r == '#' || r == '_')) {
			return false
		}
	}
	return true
}

const maxDepth = 16

var (
	customEmojiRe = regexp.MustCompile(`^<a?:([A-Za-z0-9_~]{1,32}):[0-9]{1,20}>`)
	autolinkRe    = regexp.MustCompile(`^<(https?://[^\s<>]+)>`)
)

// inline converts the inline markdown of s (no newlines inside code spans
// are special).
func inline(s string) string {
	var sc scanner
	return sc.inline(s, 0)
}

// scanner converts one line's inline markdown in time linear in its
// length. Every search for a closing delimiter, a code span's end or a
// link's parts remembers its answer per position, so the many openers of
// text like "_a _a _a" (each of which has no valid closer) do not each
// search to the end of the line again.
type scanner struct {
	// steps counts the bytes the searches examined: a measure of work
	// the tests compare across input sizes.
	steps int
}

// memo holds, for one text (the line, or a span's inner text), the last
// search per pattern: where it started and what it found.
type memo map[string]searchAnswer

type searchAnswer struct{ from, at int }

// next returns the first index ≥ from in s where find reports a match
// (find returns an index into its argument or -1), or -1. A query whose
// from is at or after the last one's, when that answer is still ahead of
// from (or there was none), is answered from memory: queries with growing
// from cost one pass over s in all.
func (sc *scanner) next(m memo, s, pattern string, from int, find func(string) int) int {
	if from > len(s) {
		return -1
	}
	if a, ok := m[pattern]; ok && a.from <= from && (a.at < 0 || a.at >= from) {
		return a.at
	}
	idx := find(s[from:])
	if idx >= 0 {
		sc.steps += idx + 1
		idx += from
	} else {
		sc.steps += len(s) - from
	}
	m[pattern] = searchAnswer{from, idx}
	return idx
}

// index is next for a literal pattern.
func (sc *scanner) index(m memo, s, pattern string, from int) int {
	return sc.next(m, s, pattern, from, func(t string) int { return strings.Index(t, pattern) })
}

// inline converts s; depth bounds the recursion into nested emphasis.
func (sc *scanner) inline(s string, depth int) string {
	if !strings.ContainsAny(s, "*_~|`[<\\") {
		return s
	}
	m := memo{}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && isASCIIPunct(s[i+1]) {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '`':
			n := runLen(s[i:], '`')
			if end := sc.index(m, s, s[i:i+n], i+n); end >= 0 {
				b.WriteString(s[i+n : end])
				i = end + n
				continue
			}
			b.WriteString(s[i : i+n])
			i += n
			continue
		case '<':
			if m := customEmojiRe.FindStringSubmatch(s[i:]); m != nil {
				b.WriteByte(':')
				b.WriteString(m[1])
				b.WriteByte(':')
				i += len(m[0])
				continue
			}
			if m := autolinkRe.FindStringSubmatch(s[i:]); m != nil {
				b.WriteString(m[1])
				i += len(m[0])
				continue
			}
		case '[':
			if text, url, n, ok := sc.maskedLink(m, s, i); ok && depth < maxDepth {
				t := sc.inline(text, depth+1)
				if t == url || strings.TrimSpace(t) == "" {
					b.WriteString(url)
				} else {
					b.WriteString(t)
					b.WriteString(" (")
					b.WriteString(url)
					b.WriteByte(')')
				}
				i += n
				continue
			}
		case '*', '_', '~', '|':
			if depth < maxDepth {
				if inner, n, ok := sc.emphasis(m, s, i); ok {
					b.WriteString(sc.inline(inner, depth+1))
					i += n
					continue
				}
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

func runLen(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

func isASCIIPunct(c byte) bool {
	return c < utf8.RuneSelf && (unicode.IsPunct(rune(c)) || unicode.IsSymbol(rune(c)))
}

func isWordByte(c byte) bool {
	return c >= utf8.RuneSelf || c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// emphasis recognises a delimited span starting at s[i]: **x**, __x__,
// ~~x~~, ||x||, *x* or _x_. It returns the inner text and the length of
// the whole span.
func (sc *scanner) emphasis(m memo, s string, i int) (inner string, n int, ok bool) {
	c := s[i]
	rest := s[i:]
	var delim string
	switch {
	case c == '*' && strings.HasPrefix(rest, "***"):
		delim = "***"
	case c == '_' && strings.HasPrefix(rest, "___"):
		delim = "___"
	case strings.HasPrefix(rest, string([]byte{c, c})):
		delim = rest[:2]
	case c == '*' || c == '_':
		delim = rest[:1]
	default:
		return "", 0, false // a single ~ or | is literal
	}
	start := i + len(delim)
	if start >= len(s) {
		return "", 0, false
	}
	// The content must not start with whitespace for single-character
	// delimiters (so "2 * 3 * 4" stays arithmetic).
	if len(delim) == 1 && (s[start] == ' ' || s[start] == '\t') {
		return "", 0, false
	}
	// Underscore emphasis does not open inside a word (snake_case_names).
	if c == '_' && i > 0 && isWordByte(s[i-1]) {
		return "", 0, false
	}
	// Whether a delimiter at end closes depends on end alone, so the
	// first closer after start+1 is a search whose answers next can
	// remember (start itself would make an empty span).
	end := sc.closer(m, s, delim, start+1)
	if end < 0 {
		return "", 0, false
	}
	return s[start:end], end + len(delim) - i, true
}

// closer returns the first index ≥ from where delim closes a span in s,
// or -1.
func (sc *scanner) closer(m memo, s, delim string, from int) int {
	return sc.next(m, s, "close "+delim, from, func(t string) int {
		base := len(s) - len(t)
		for search := 0; ; {
			idx := strings.Index(t[search:], delim)
			if idx < 0 {
				return -1
			}
			end := base + search + idx
			if closes(s, delim, end) {
				return end - base
			}
			search += idx + 1
		}
	})
}

// closes says whether delim at s[end:] can close a span.
func closes(s, delim string, end int) bool {
	c := delim[0]
	after := end + len(delim)
	// A closing delimiter must not be part of a longer run
	// (**a*** is ambiguous; take the innermost fit).
	if after < len(s) && s[after] == c && len(delim) < 3 {
		return false
	}
	if len(delim) == 1 && (s[end-1] == ' ' || s[end-1] == '\t') {
		return false
	}
	if c == '_' && after < len(s) && isWordByte(s[after]) {
		return false
	}
	return true
}

// maskedLink recognises [text](http...) at s[i:]; n is its length.
func (sc *scanner) maskedLink(m memo, s string, i int) (text, url string, n int, ok bool) {
	closeAt := sc.index(m, s, "](", i+1)
	if closeAt < 0 {
		return "", "", 0, false
	}
	// No bracket between [ and ](: only the last [ before a ]( can open.
	if b := sc.next(m, s, "[]", i+1, func(t string) int { return strings.IndexAny(t, "[]") }); b >= 0 && b < closeAt {
		return "", "", 0, false
	}
	from := closeAt + 2
	rest := s[from:]
	if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "<http") {
		return "", "", 0, false
	}
	end := sc.next(m, s, ")", from, func(t string) int { return strings.IndexByte(t, ')') })
	if end < 0 {
		return "", "", 0, false
	}
	if sp := sc.next(m, s, "space", from, func(t string) int { return strings.IndexAny(t, " \t\n") }); sp >= 0 && sp < end {
		return "", "", 0, false
	}
	url = strings.TrimSuffix(strings.TrimPrefix(s[from:end], "<"), ">")
	return s[i+1 : closeAt], url, end + 1 - i, true
}

// mentionRe matches Discord's mention and timestamp syntax.
var mentionRe = regexp.MustCompile(`<(@!?|@&|#)([0-9]{1,20})>|<t:(-?[0-9]{1,13})(?::([tTdDfFR]))?>|</([\w-]{1,32}(?: [\w-]{1,32}){0,2}):[0-9]{1,20}>`)

// Kinds of mention ResolveMentions asks its lookup about.
const (
	MentionUser    = "user"
	MentionRole    = "role"
	MentionChannel = "channel"
)

// ResolveMentions replaces Discord's mention syntax in s with readable
// names: <@id> and <@!id> become "@name", <@&id> "@role name", <#id>
// "#channel", slash commands </name:id> "/name" and timestamps <t:unix:style>
// a UTC date ("2024-05-01 14:30 UTC"). lookup(kind, id), with kind one of
// MentionUser, MentionRole and MentionChannel, returns the name to show or ""
// when it does not know the id, in which case the id itself is shown. lookup
// may be nil.
func ResolveMentions(s string, lookup func(kind, id string) string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	return mentionRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := mentionRe.FindStringSubmatch(m)
		switch {
		case sub[1] != "":
			kind, prefix := MentionUser, "@"
			switch sub[1] {
			case "@&":
				kind = MentionRole
			case "#":
				kind, prefix = MentionChannel, "#"
			}
			name := ""
			if lookup != nil {
				name = lookup(kind, sub[2])
			}
			if name == "" {
				name = sub[2]
			}
			return prefix + name
		case sub[3] != "":
			sec, err := strconv.ParseInt(sub[3], 10, 64)
			if err != nil {
				return m
			}
			t := time.Unix(sec, 0).UTC()
			switch sub[4] {
			case "d", "D":
				return t.Format("2006-01-02")
			case "t", "T":
				return t.Format("15:04 UTC")
			}
			return t.Format("2006-01-02 15:04 UTC")
		case sub[5] != "":
			return "/" + sub[5]
		}
		return m
	})
}
