package mastodon

import (
	stdhtml "html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// HTMLToText turns a status's HTML content (or an account's note) into
// plain text that reads as the author wrote it:
//
//   - paragraphs (</p><p>) become a blank line, <br> a line break, list
//     items start with "- ";
//   - mentions and hashtags keep their visible text (@bob, #acme);
//   - a link whose text is its URL (Mastodon shortens it with invisible
//     and ellipsis spans) becomes the full URL; a link with other text
//     becomes "text (URL)";
//   - character references are decoded (&amp; -> &, &#39; -> '), runs of
//     white space collapse to one space, <script> and <style> vanish.
//
// It accepts any input, never panics, and returns valid UTF-8 (invalid
// bytes become U+FFFD) without leading or trailing white space.
func HTMLToText(s string) string {
	c := converter{src: s}
	c.run()
	return strings.TrimRightFunc(string(c.out), unicode.IsSpace)
}

// maxAnchorDepth bounds the stack of open <a> elements (nested anchors are
// invalid HTML; this only keeps hostile input cheap).
const maxAnchorDepth = 32

type anchor struct {
	href  string
	start int // position in out where the anchor's text begins
}

type converter struct {
	src          string
	out          []byte
	pendingSpace bool
	pendingNL    int // line breaks owed before the next visible text
	pre          int // depth of <pre>
	anchors      []anchor
}

// flush writes owed white space before visible text.
func (c *converter) flush() {
	if len(c.out) == 0 {
		c.pendingNL, c.pendingSpace = 0, false
		return
	}
	if c.pendingNL > 0 {
		// Drop spaces left at the end of the line.
		for len(c.out) > 0 && c.out[len(c.out)-1] == ' ' {
			c.out = c.out[:len(c.out)-1]
		}
		c.out = append(c.out, strings.Repeat("\n", min(c.pendingNL, 2))...)
		c.pendingNL, c.pendingSpace = 0, false
		return
	}
	if c.pendingSpace {
		c.out = append(c.out, ' ')
		c.pendingSpace = false
	}
}

func (c *converter) newline(n int) {
	if c.pendingNL < n {
		c.pendingNL = n
	}
}

// text appends decoded text, collapsing white space.
func (c *converter) text(t string) {
	for _, r := range t {
		switch {
		case r == '\n' && c.pre > 0:
			c.pendingNL = min(c.pendingNL+1, 2)
			c.pendingSpace = false
		case unicode.IsSpace(r) || r == 0:
			if len(c.out) > 0 && c.pendingNL == 0 {
				c.pendingSpace = true
			}
		default:
			c.flush()
			c.out = utf8.AppendRune(c.out, r)
		}
	}
}

// raw appends literal text after owed line breaks (a list bullet).
func (c *converter) raw(t string) {
	c.flush()
	if len(c.out) == 0 && strings.TrimSpace(t) == "" {
		return
	}
	c.out = append(c.out, t...)
}

// run feeds the tokens of golang.org/x/net/html's tokenizer (the HTML5
// tokenization rules: entities, comments, raw-text elements, unclosed
// tags) to the converter.
func (c *converter) run() {
	z := html.NewTokenizer(strings.NewReader(c.src))
	skipUntil := "" // closing tag of <script> or <style> whose content is dropped
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			// io.EOF: the input is read. A tag left open until the end
			// (HTML5 drops it) is kept as the text it probably was:
			// "a <b c" in a post is not markup.
			if raw := z.Raw(); skipUntil == "" && len(raw) > 0 && raw[0] == '<' {
				c.text(stdhtml.UnescapeString(string(raw)))
			}
			return
		case html.TextToken:
			if skipUntil == "" {
				c.text(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			t := readTag(z, tt)
			if skipUntil != "" {
				if t.end && t.name == skipUntil {
					skipUntil = ""
				}
				continue
			}
			c.tag(t, &skipUntil)
		}
	}
}

func (c *converter) tag(t tagToken, skipUntil *string) {
	switch t.name {
	case "script", "style", "template", "title":
		if !t.end && !t.selfClosing {
			*skipUntil = t.name
		}
	case "br":
		c.pendingNL = min(c.pendingNL+1, 2)
		c.pendingSpace = false
	case "p", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "table":
		c.newline(2)
	case "div", "ul", "ol", "dl", "dt", "dd", "tr", "section", "article", "header", "footer", "figure", "figcaption":
		c.newline(1)
	case "pre":
		c.newline(2)
		if t.end {
			c.pre = max(c.pre-1, 0)
		} else if !t.selfClosing {
			c.pre++
		}
	case "li":
		c.newline(1)
		if !t.end {
			c.raw("- ")
		}
	case "td", "th":
		if !t.end {
			c.text(" ")
		}
	case "img":
		if alt := strings.TrimSpace(t.attr("alt")); alt != "" {
			c.text(alt)
		}
	case "a":
		if t.end {
			c.closeAnchor()
		} else if !t.selfClosing && len(c.anchors) < maxAnchorDepth {
			c.anchors = append(c.anchors, anchor{href: strings.TrimSpace(t.attr("href")), start: len(c.out)})
		}
	}
}

// closeAnchor decides how a link reads once its text is known.
func (c *converter) closeAnchor() {
	if len(c.anchors) == 0 {
		return
	}
	a := c.anchors[len(c.anchors)-1]
	c.anchors = c.anchors[:len(c.anchors)-1]
	if a.start > len(c.out) {
		// The text before the anchor was trimmed by a line break.
		a.start = len(c.out)
	}
	lower := strings.ToLower(a.href)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return
	}
	if strings.ContainsAny(a.href, " \t\r\n\x00") || !utf8.ValidString(a.href) {
		return
	}
	seg := string(c.out[a.start:])
	lead := len(seg) - len(strings.TrimLeftFunc(seg, unicode.IsSpace))
	label := strings.TrimSpace(seg)
	switch {
	case label == "":
		c.flush()
		c.out = append(c.out, a.href...)
	case strings.HasPrefix(label, "@") || strings.HasPrefix(label, "#"):
		// A mention or hashtag: its text is what people read.
	case sameLink(label, a.href):
		c.out = append(c.out[:a.start+lead], a.href...)
	default:
		c.out = append(c.out, " ("...)
		c.out = append(c.out, a.href...)
		c.out = append(c.out, ')')
	}
}

var schemeRE = regexp.MustCompile(`(?i)^[a-z][a-z0-9+.-]*://`)

// sameLink reports whether a link's visible text is (a shortened form of)
// its URL.
func sameLink(label, href string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		s = strings.TrimRight(s, "…")
		s = strings.TrimSuffix(s, "...")
		s = schemeRE.ReplaceAllString(s, "")
		s = strings.TrimPrefix(s, "www.")
		return strings.TrimRight(s, "/")
	}
	l, h := norm(label), norm(href)
	if l == "" {
		return false
	}
	return l == h || (strings.HasPrefix(h, l) && (strings.HasSuffix(label, "…") || strings.HasSuffix(label, "...")))
}

// tagToken is one start or end tag.
type tagToken struct {
	name        string // lower case
	end         bool
	selfClosing bool
	attrs       [][2]string
}

func (t tagToken) attr(name string) string {
	for _, a := range t.attrs {
		if a[0] == name {
			return a[1]
		}
	}
	return ""
}

// maxAttrs bounds the attributes kept per tag (only href and alt are
// read; this keeps hostile input cheap).
const maxAttrs = 16

// readTag reads the tag the tokenizer is at: its name and attributes
// come lower-cased and with character references decoded.
func readTag(z *html.Tokenizer, tt html.TokenType) tagToken {
	name, more := z.TagName()
	t := tagToken{name: string(name), end: tt == html.EndTagToken, selfClosing: tt == html.SelfClosingTagToken}
	for more && len(t.attrs) < maxAttrs {
		var k, v []byte
		k, v, more = z.TagAttr()
		t.attrs = append(t.attrs, [2]string{string(k), string(v)})
	}
	return t
}
