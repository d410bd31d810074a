package textutil

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"  a  b\n\n\tc  ":        "a b c",
		"when: x\n  && y == 1\n": "when: x && y == 1",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"longer", 5, "long…"},
		{"héllo wörld", 4, "hél…"},
		{"ab", 1, "…"},
		{"ab", 0, ""},
	} {
		if got := Truncate(c.in, c.n); got != c.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}

func TestTruncateBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"longer", 5, "lo…"},
		{"ééé", 5, "é…"},    // é is 2 bytes, the mark 3
		{"ééé", 4, "…"},     // half an é is never kept
		{"abcdef", 2, "ab"}, // too short for the mark
	} {
		if got := TruncateBytes(c.in, c.n); got != c.want {
			t.Errorf("TruncateBytes(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
	s := strings.Repeat("é", 100)
	for n := range 60 {
		got := TruncateBytes(s, n)
		if len(got) > n || !utf8.ValidString(got) {
			t.Errorf("TruncateBytes(é×100, %d) = %q (%d bytes)", n, got, len(got))
		}
	}
}
