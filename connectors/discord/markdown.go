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
					b.WriteString(inline(rest, 0))
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
	idx := strings.Index(line, "```")
	if idx < 0 {
		return inline(line, 0)
	}
	var b strings.Builder
	b.WriteString(inline(line[:idx], 0))
	rest := line[idx+3:]
	if end := strings.Index(rest, "```"); end >= 0 {
		// ```code``` on one line.
		b.WriteString(rest[:end])
		b.WriteString(convertLine(rest[end+3:], inBlock))
		return b.String()
	}
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
// are special). depth bounds the recursion into nested emphasis.
func inline(s string, depth int) string {
	if !strings.ContainsAny(s, "*_~|`[<\\") {
		return s
	}
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
			if end := strings.Index(s[i+n:], s[i:i+n]); end >= 0 {
				b.WriteString(s[i+n : i+n+end])
				i += n + end + n
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
			if text, url, n, ok := maskedLink(s[i:]); ok && depth < maxDepth {
				t := inline(text, depth+1)
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
				if inner, n, ok := emphasis(s, i); ok {
					b.WriteString(inline(inner, depth+1))
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
func emphasis(s string, i int) (inner string, n int, ok bool) {
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
	search := start
	for {
		end := strings.Index(s[search:], delim)
		if end < 0 {
			return "", 0, false
		}
		end += search
		if end == start {
			search = end + 1
			if search >= len(s) {
				return "", 0, false
			}
			continue
		}
		after := end + len(delim)
		// A closing delimiter must not be part of a longer run
		// (**a*** is ambiguous; take the innermost fit).
		if after < len(s) && s[after] == c && len(delim) < 3 {
			search = end + 1
			continue
		}
		if len(delim) == 1 && (s[end-1] == ' ' || s[end-1] == '\t') {
			search = end + 1
			continue
		}
		if c == '_' && after < len(s) && isWordByte(s[after]) {
			search = end + 1
			continue
		}
		return s[start:end], after - i, true
	}
}

// maskedLink recognises [text](http...) at the start of s.
func maskedLink(s string) (text, url string, n int, ok bool) {
	mid := strings.Index(s, "](")
	if mid < 1 || strings.ContainsAny(s[1:mid], "[]") {
		return "", "", 0, false
	}
	rest := s[mid+2:]
	if !strings.HasPrefix(rest, "http://") && !strings.HasPrefix(rest, "https://") && !strings.HasPrefix(rest, "<http") {
		return "", "", 0, false
	}
	end := strings.IndexByte(rest, ')')
	if end < 0 || strings.ContainsAny(rest[:end], " \t\n") {
		return "", "", 0, false
	}
	url = strings.TrimSuffix(strings.TrimPrefix(rest[:end], "<"), ">")
	return s[1:mid], url, mid + 2 + end + 1, true
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
