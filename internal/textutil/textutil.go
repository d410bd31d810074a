// Package textutil shortens text for display: on one line, cut to a length
// with the cut marked.
package textutil

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks where Truncate and TruncateBytes cut.
const Ellipsis = "…"

// OneLine joins the words of s with single spaces: line breaks, tabs and
// runs of spaces become one space, and s loses its leading and trailing
// space.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Truncate shortens s to at most n runes, ending a cut with Ellipsis (which
// counts as one of the n). n below 1 gives "".
func Truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + Ellipsis
		}
		count++
	}
	return s
}

// TruncateBytes shortens s to at most n bytes, cutting on a character
// boundary and ending a cut with Ellipsis (whose bytes count). For limits
// set in bytes: a database column, a request field. n below len(Ellipsis)
// cuts without the mark.
func TruncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	mark := Ellipsis
	if n < len(mark) {
		mark = ""
	}
	cut := max(n-len(mark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
