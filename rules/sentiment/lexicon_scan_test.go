package sentiment

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestWordStartsIsContainsAny: the one-pass scan finds a word exactly
// when some bytes.Contains would, on varied posts and on words of one
// byte, emoji and phrases sharing their first bytes.
func TestWordStartsIsContainsAny(t *testing.T) {
	words := map[string]bool{"x": true, "sick": true, "si": true, "still": true, "🔥": true, "no": true, "café": true, "10": true}
	for k := range SlangLexicon {
		words[strings.Fields(k)[0]] = true
	}
	ws := newWordStarts(words)
	texts := append(benchCorpus(2000), "", "s", "🔥", "caf", "café!", "ab", "q10", "STILL"[:2])
	for _, text := range texts {
		b := []byte(strings.ToLower(text))
		want := false
		for w := range words {
			if bytes.Contains(b, []byte(w)) {
				want = true
			}
		}
		assert.Equal(t, want, ws.in(b), "%q", text)
	}
	delete(words, "x")
	delete(words, "no")
	ws = newWordStarts(words)
	assert.False(t, ws.in([]byte("the shop opens at nine")))
	assert.True(t, ws.in([]byte("this deck is sick")))
	assert.True(t, ws.in([]byte("fire🔥")))
}
