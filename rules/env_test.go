package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContainsPhrase(t *testing.T) {
	tests := []struct {
		text, phrase string
		want         bool
	}{
		{"that deck is SICK!", "sick", true},
		{"feeling homesick", "sick", false},
		{"sickest board", "sick", false},
		{"Never arrived, ugh", "never arrived", true},
		{"it never  arrived", "never arrived", false},
		{"refund?", "refund", true},
		{"refunds please", "refund", false},
		{"wait what?", "?", true},
		{"so sad :(", ":(", true},
		{"", "x", false},
		{"anything", "", false},
		{"anything", "   ", false},
		{"ÉCHEC total", "échec", true},
		{"über cool", "ber", false},
		{"x sick sicko sick", "sick", true},
		{"homesick but sick", "sick", true},
		{"  padded  ", " padded ", true},
		{"snake_case_word", "case", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ContainsPhrase(tt.text, tt.phrase), "%q in %q", tt.phrase, tt.text)
	}
}

func TestIsQuestion(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"Do you ship to Canada", true},
		{"do you ship to canada?", true},
		{"What size deck should I get", true},
		{"@tidewater how long does shipping take", true},
		{"@tidewater @shop is this waterproof", true},
		{"What's the warranty", true},
		{"How'd you make the graphic", true},
		{"Can't wait for the new deck!", false},
		{"Doesn't fit my trucks", false},
		{"¿Envían a México?", true},
		{"本当ですか？", true},
		{"Anyone tried the new wheels", true},
		{"Love my new deck!", false},
		{"Check https://example.com/?ref=1 great deck", false},
		{"(https://x.example/?q) nice", false},
		{"", false},
		{"   ", false},
		{"@tidewater", false},
		{"Whatever, it works", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, IsQuestion(tt.text), "%q", tt.text)
	}
}

func TestFirstName(t *testing.T) {
	assert.Equal(t, "Ana", firstName("Ana Lima"))
	assert.Equal(t, "kickflip_kid", firstName("@kickflip_kid@skate.social"))
	assert.Equal(t, "ana", firstName("ana@example.social"))
	assert.Equal(t, "", firstName(""))
	assert.Equal(t, "42", firstName(42))
}

func TestOrdinal(t *testing.T) {
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 102: "102nd", 111: "111th"} {
		assert.Equal(t, want, ordinal(n))
	}
}
