package mastodon

import (
	"regexp"
	"strings"

	"github.com/rivo/uniseg"
)

// URLLength is what Mastodon counts for any link in a status, however long.
const URLLength = 23

// DefaultMaxCharacters is the status length limit assumed when the server
// does not tell its own.
const DefaultMaxCharacters = 500

var (
	countURLRE = regexp.MustCompile(`(?i)https?://[^\s<>"]+`)
	// A mention: @user or @user@domain, not inside a word or a URL.
	countMentionRE = regexp.MustCompile(`(?i)(^|[^\p{L}\p{N}_/=@])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(@[\p{L}\p{N}_-]+(?:\.[\p{L}\p{N}_-]+)+)?`)
)

// CountText returns the length of text as a Mastodon server counts it
// against its character limit: user-perceived characters (grapheme
// clusters), every http(s) link as 23 whatever its length, and a mention
// @user@domain as @user. It is an estimate; servers differ in details.
func CountText(text string) int {
	n := 0
	var b strings.Builder
	last := 0
	for _, loc := range countURLRE.FindAllStringIndex(text, -1) {
		u := text[loc[0]:loc[1]]
		// Trailing punctuation is not part of the link.
		trimmed := strings.TrimRight(u, ".,;:!?)'\"")
		b.WriteString(text[last:loc[0]])
		n += URLLength
		b.WriteString(u[len(trimmed):])
		last = loc[1]
	}
	b.WriteString(text[last:])
	rest := countMentionRE.ReplaceAllString(b.String(), "$1@$2")
	return n + uniseg.GraphemeClusterCount(rest)
}
